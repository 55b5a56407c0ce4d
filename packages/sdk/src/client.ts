import { loadSuite, type SuiteName } from "@veil/crypto";
import type {
  ChannelMedia,
  ChannelModeration,
  ChannelPost,
  ChannelView,
  CommunityView,
  CreateChannelRequest,
  CreateCommunityRequest,
  GroupInfoRequest,
  GroupSettingsRequest,
  GroupSummary,
  HeldItem,
  IceServer,
  JoinResult,
  OwnProfile,
  ReportReason,
  UpdateChannelRequest,
  UpdateCommunityRequest,
} from "@veil/protocol";
import {
  type Account,
  completeLink,
  type DeviceLinkOffer,
  ensureIdentity,
  linkFingerprint,
  loadAccount,
  parseLinkUri,
  type RegisterInput,
  registerAccount,
  signIn,
  startLink,
} from "./account.js";
import type { AnnouncementReaction } from "./announcement-reactions.js";
import { type AnnouncementContent, Announcements } from "./announcements.js";
import { ApiClient, type ChannelDirectoryQuery } from "./api-client.js";
import { type CallSignal, Calls } from "./calls.js";
import {
  ChannelFeed,
  type ChannelPostContent,
  channelPostRequest,
  forwardedChannelPost,
  parseChannelLink,
} from "./channel-feed.js";
import { type ChatInfo, Chats } from "./chats.js";
import { Communities } from "./communities.js";
import {
  browserWebSocket,
  Connection,
  type IncomingFrame,
  type WebSocketFactory,
} from "./connection.js";
import { type ClientContext, reportError } from "./context.js";
import { DeviceKeyRegistry } from "./device-keys.js";
import { newPostId } from "./encoding.js";
import type { AttachmentRef } from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import {
  type CallHistoryEntry,
  type CallMedia,
  type CallMediaKey,
  type ChatMessage,
  Emitter,
  type Member,
  type VeilEvents,
} from "./events.js";
import { Groups } from "./groups.js";
import { KeyChannels } from "./key-channels.js";
import { KeyPackages } from "./key-packages.js";
import { LocalState, ns, SessionRecord } from "./local-state.js";
import { type Logger, silentLogger } from "./logger.js";
import { Mailbox } from "./mailbox.js";
import { Messaging, type SendResult } from "./messaging.js";
import { reportedMessages } from "./moderation.js";
import { OwnDevices } from "./own-devices.js";
import { RetryTimer } from "./retry-timer.js";
import { SenderKeyStore } from "./sender-key-store.js";
import type { VeilStore } from "./store/store.js";

export interface VeilClientOptions {
  /** The server, e.g. `https://veil.example` or `http://localhost:8080`. */
  serverUrl: string;
  store: VeilStore;
  /** Default: the global WebSocket. In Node 20 pass `nodeWebSocket` from `@veil/sdk/node`. */
  webSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  logger?: Logger;
  /** One-time key packages kept on the server (default 50). */
  keyPackageTarget?: number;
  /** Send a delivery receipt for each message received (default true). */
  autoDeliveryReceipts?: boolean;
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  pingIntervalMs?: number;
  /** How often a new device asks whether its link was approved (default 1000 ms). */
  linkPollMs?: number;
  suite?: SuiteName;
  /** Requests at once while handing an announcement key to many members (default 8). */
  distributionConcurrency?: number;
  /** How long an admin device lets reactions to its announcement settle before publishing counts (default 1000 ms). */
  reactionCountsDelayMs?: number;
  /**
   * How long a member's device trusts the announcement admin list it read for
   * posts by those admins before asking again (default 60 000 ms; see docs/communities.md).
   */
  adminListMaxAgeMs?: number;
  /** How long a call rings before it counts as missed (default 45 000 ms). */
  callRingTimeoutMs?: number;
}

/** The parts of a signed-in client. */
interface Session {
  context: ClientContext;
  groups: Groups;
  messaging: Messaging;
  calls: Calls;
  mailbox: Mailbox;
  chats: Chats;
  ownDevices: OwnDevices;
  keyPackages: KeyPackages;
  announcements: Announcements;
  communities: Communities;
  channelFeed: ChannelFeed;
}

/**
 * A Veil device: its account, its chats and their end-to-end encryption, and
 * a live connection that catches up after every reconnect.
 *
 * @example
 * const client = await VeilClient.open({ serverUrl, store: new MemoryStore(), webSocket: nodeWebSocket });
 * await client.register({ name: "Alice" });
 * client.on("message", (m) => console.log(m.content));
 * await client.start();
 * const chat = await client.startDirectChat(bobUserId);
 * await client.sendText(chat.groupId, "hello Bob");
 */
export class VeilClient extends Emitter<VeilEvents> {
  /** The HTTP API, for what the SDK does not wrap (profile, contacts, lookups). */
  readonly api: ApiClient;
  private readonly state: LocalState;
  private session: Session | null = null;
  private account: Account | null = null;
  private token: string | null = null;
  private connection: Connection | null = null;
  private stopped = true;
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  private reauth: Promise<boolean> | null = null;
  private readonly tasks = new Set<Promise<unknown>>();
  /** Catches up again after background work was interrupted while the connection stayed up. */
  private readonly catchUpLater = new RetryTimer(() => {
    const session = this.session;
    if (this.stopped || !session) return;
    this.track(
      this.catchUp().then(
        () => this.catchUpLater.reset(),
        (err: unknown) => this.background(session, err),
      ),
    );
  });

  private constructor(private readonly options: VeilClientOptions) {
    super();
    this.state = new LocalState(options.store);
    this.api = new ApiClient({
      baseUrl: options.serverUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      token: () => this.token,
      reauthenticate: () => this.reauthenticate(),
    });
  }

  /** Opens a client on a store; a store that already holds a device resumes as that device. */
  static async open(options: VeilClientOptions): Promise<VeilClient> {
    const client = new VeilClient(options);
    const account = await loadAccount(client.state);
    if (account) await client.boot(account);
    return client;
  }

  get userId(): string | null {
    return this.account?.userId ?? null;
  }

  get deviceId(): string | null {
    return this.account?.deviceId ?? null;
  }

  get registered(): boolean {
    return this.session !== null;
  }

  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  // --- account -----------------------------------------------------------------

  /** Asks the server to send a code to `phone`; pass it to `register` as `phone`. */
  requestPhoneVerification(phone: string) {
    return this.api.requestPhoneVerification(phone);
  }

  /** Registers a new account with this device as its first device. */
  async register(input: RegisterInput): Promise<OwnProfile> {
    if (this.account) throw new VeilError("already_registered");
    const { account, profile } = await registerAccount(this.api, this.state, input);
    await this.boot(account);
    await this.need().keyPackages.replenish();
    return profile;
  }

  /** A new session for this device, signed with its key (the client also does this by itself). */
  async signIn(): Promise<void> {
    this.need();
    if (!(await this.reauthenticate())) throw new VeilError("device_removed");
  }

  /**
   * On a new device: starts linking it to an existing account. Show `offer.uri`
   * (or the code and key) to the user; `approved` resolves once another device
   * of the account approved it and this one signed in.
   */
  async linkDevice(options: { deviceName?: string } = {}): Promise<{
    offer: DeviceLinkOffer;
    approved: Promise<void>;
  }> {
    if (this.account) throw new VeilError("already_registered");
    const { offer, record } = await startLink(this.api, this.state, options.deviceName);
    const approved = (async () => {
      const account = await completeLink(
        this.api,
        this.state,
        record,
        this.options.linkPollMs ?? 1000,
      );
      await this.boot(account);
      await this.need().keyPackages.replenish();
    })();
    approved.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
    return { offer, approved };
  }

  /**
   * On an existing device: approves a new one and signs its key. Given the
   * `veil-link:<code>:<key>` string (a QR code), the key comes from the new
   * device itself; given the typed code alone, it comes from the server, and
   * the caller should show `fingerprint` on both screens for the user to compare.
   */
  async approveDevice(
    linkOrCode: string,
  ): Promise<{ deviceId: string; name: string; fingerprint: string }> {
    const session = this.need();
    const { code, publicKey } = /^[0-9]{4}-?[0-9]{4}$/.test(linkOrCode.trim())
      ? {
          code: linkOrCode.trim(),
          publicKey: (await this.api.pendingDeviceLink(linkOrCode.trim())).publicKey,
        }
      : parseLinkUri(linkOrCode);
    const signature = await session.context.identity.signLinkApproval(publicKey);
    const approved = await this.api.approveDeviceLink(code, signature);
    // The mailbox says `device_linked` once the new device has key packages.
    this.track(session.mailbox.sync().catch((err: unknown) => reportError(session.context, err)));
    return {
      deviceId: approved.deviceId,
      name: approved.name,
      fingerprint: linkFingerprint(publicKey),
    };
  }

  // --- connection --------------------------------------------------------------

  /**
   * Connects and catches up (mailbox, every group's log, the outbox); resolves
   * after the first catch-up. The connection then stays up, reconnecting with
   * backoff and catching up again after every reconnect, until `stop()`.
   */
  async start(options: { timeoutMs?: number } = {}): Promise<void> {
    const session = this.need();
    if (!this.stopped) return;
    if (!this.options.webSocket && !(globalThis as { WebSocket?: unknown }).WebSocket) {
      throw new VeilError("websocket_unavailable");
    }
    this.stopped = false;
    const synced = this.waitFor("synced", () => true, options.timeoutMs ?? 30_000);
    this.connection = new Connection({
      url: this.api.webSocketUrl,
      factory: this.options.webSocket ?? browserWebSocket,
      token: () => this.token,
      onReady: () => {
        this.track(this.catchUp().catch((err: unknown) => this.background(session, err)));
      },
      onFrame: (frame) => this.onFrame(session, frame),
      onState: (state, attempt) => this.emit("connection", { state, attempt }),
      onAuthRejected: () => this.reauthenticate(),
      logger: session.context.logger,
      ...this.options.reconnect,
      ...(this.options.pingIntervalMs ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
    });
    this.connection.start();
    try {
      await synced;
    } catch (err) {
      throw new VeilError("timeout", "The first catch-up did not finish in time", { cause: err });
    }
  }

  /**
   * Closes the connection and waits (up to `timeoutMs`) for work in progress,
   * such as receipts being sent; the store stays open.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopped = true;
    this.connection?.stop();
    this.connection = null;
    const session = this.session;
    if (!session) return;
    session.ownDevices.stop();
    session.groups.stopTimers();
    session.announcements.stop();
    session.calls.stop();
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    while (this.tasks.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.tasks]),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()))),
      ]);
    }
    await session.groups.lock.idle();
  }

  /** `stop()`, then closes the store. */
  async close(): Promise<void> {
    await this.stop();
    await this.options.store.close();
  }

  /** Catches up now: mailbox, every group, pending device additions, the outbox. */
  sync(): Promise<void> {
    return this.catchUp();
  }

  // --- chats -------------------------------------------------------------------

  startDirectChat(peerUserId: string): Promise<ChatInfo> {
    return this.need().chats.direct(peerUserId);
  }

  createGroup(userIds: string[]): Promise<ChatInfo> {
    return this.need().chats.group(userIds);
  }

  addMembers(groupId: string, userIds: string[]): Promise<void> {
    return this.need().chats.addMembers(groupId, userIds);
  }

  /** Removes every device of these users; they cannot read what is sent afterwards. */
  removeMembers(groupId: string, userIds: string[]): Promise<void> {
    return this.need().chats.removeMembers(groupId, userIds);
  }

  /** Rotates this device's keys in the group (post-compromise security). */
  updateKeys(groupId: string): Promise<void> {
    return this.need().chats.updateKeys(groupId);
  }

  /**
   * This device's chats, and the announcement groups of its communities
   * (kind `announcement`). Key channels, which carry announcement keys, are never listed.
   */
  async chats(): Promise<ChatInfo[]> {
    const session = this.need();
    const announcements = session.announcements.list().map(announcementInfo);
    return [...(await session.chats.list()), ...announcements];
  }

  async chat(groupId: string): Promise<ChatInfo | undefined> {
    const session = this.need();
    const announcement = session.announcements.get(groupId);
    return announcement ? announcementInfo(announcement) : session.chats.get(groupId);
  }

  /** Resolves once this device is a member of the group (a welcome may still be on its way). */
  async waitForChat(groupId: string, timeoutMs = 30_000): Promise<ChatInfo> {
    const session = this.need();
    const announcement = session.announcements.get(groupId);
    if (announcement?.active) return announcementInfo(announcement);
    let off = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const joined = new Promise<void>((resolve, reject) => {
      off = this.on("membership", (e) => {
        if (e.groupId === groupId && e.change === "joined") resolve();
      });
      timer = setTimeout(
        () => reject(new VeilError("timeout", "This device did not join the chat in time")),
        timeoutMs,
      );
    });
    try {
      if (!(await session.chats.get(groupId))?.active) {
        await session.mailbox.sync();
        if (!(await session.chats.get(groupId))?.active) await joined;
      }
      return (await session.chats.get(groupId)) as ChatInfo;
    } finally {
      off();
      clearTimeout(timer);
      joined.catch(() => undefined);
    }
  }

  /** The 60-digit safety number of the direct chat with this user (see README). */
  safetyNumber(peerUserId: string): Promise<string> {
    return this.need().chats.safetyNumber(peerUserId);
  }

  // --- messages ----------------------------------------------------------------

  /** Sends a text; in an announcement group it is an announcement (see `announce`). */
  sendText(groupId: string, text: string, options: { replyTo?: string } = {}): Promise<SendResult> {
    const session = this.need();
    if (session.announcements.has(groupId)) {
      return session.announcements.announce(groupId, { text, ...options });
    }
    return session.messaging.text(groupId, text, options.replyTo);
  }

  /**
   * Reacts to a message; an empty emoji takes the reaction back. On an
   * announcement the reaction goes to the community's admins only, and
   * members see counts (`reactionCounts`), never who.
   */
  react(groupId: string, messageId: string, emoji: string): Promise<SendResult> {
    const session = this.need();
    if (session.announcements.has(groupId)) {
      return session.announcements.react(groupId, messageId, emoji);
    }
    return session.messaging.react(groupId, messageId, emoji);
  }

  /** Encrypts the file with a fresh key, uploads the ciphertext, sends key and hash over MLS. */
  sendAttachment(
    groupId: string,
    bytes: Uint8Array,
    options: { name?: string; mime?: string; caption?: string; replyTo?: string } = {},
  ): Promise<SendResult & { attachment: AttachmentRef }> {
    const session = this.need();
    if (session.announcements.has(groupId)) {
      return session.announcements.attachment(groupId, bytes, options);
    }
    return session.messaging.attachment(groupId, bytes, options);
  }

  /** Downloads an attachment, checks its hash and size, and decrypts it. */
  downloadAttachment(ref: AttachmentRef): Promise<Uint8Array> {
    return this.need().messaging.download(ref);
  }

  /** A read receipt. Never in an announcement group: it would name the reader to everyone. */
  async markRead(groupId: string, messageIds: string[]): Promise<SendResult[]> {
    const session = this.need();
    if (session.announcements.has(groupId)) return [];
    return session.messaging.markRead(groupId, messageIds);
  }

  /** A typing indicator (ephemeral). Never in an announcement group. */
  async setTyping(groupId: string, typing: boolean): Promise<void> {
    const session = this.need();
    if (session.announcements.has(groupId)) return;
    await session.messaging.typing(groupId, typing);
  }

  /** The messages this device has shown in a chat (and its own sent ones), in log order. */
  messages(groupId: string): Promise<ChatMessage[]> {
    return this.need().messaging.history(groupId);
  }

  // --- calls (signalling) -------------------------------------------------------
  //
  // Ring, accept, decline, busy, cancel and hangup are stored in the chat's log
  // (every device of the callee rings); offer, answer and ICE are ephemeral
  // signals. All are MLS application messages: the server sees ciphertext only.
  // Incoming actions arrive as `call` events; see CallEvent for "answered elsewhere".

  /**
   * Rings the other members of a chat; resolves with the call's id.
   * @example const callId = await client.startCall(groupId, { media: "video" });
   */
  async startCall(groupId: string, options: { media: CallMedia }): Promise<string> {
    const session = this.need();
    if (session.announcements.has(groupId)) throw new VeilError("invalid_argument");
    return session.calls.start(groupId, options.media);
  }

  /** Accepts a call ringing on this device; the user's other devices stop ringing. */
  acceptCall(callId: string): Promise<void> {
    return this.need().calls.accept(callId);
  }

  /** Declines a call ringing on this device (`busy: true` tells the caller you are busy). */
  declineCall(callId: string, options: { busy?: boolean } = {}): Promise<void> {
    return this.need().calls.decline(callId, options.busy ?? false);
  }

  /** Cancels an outgoing call before it is answered. */
  cancelCall(callId: string): Promise<void> {
    return this.need().calls.cancel(callId);
  }

  /** Ends an active call. */
  hangUp(callId: string): Promise<void> {
    return this.need().calls.hangUp(callId);
  }

  /**
   * Sends an SDP offer or answer (with this device's DTLS fingerprints) or an
   * ICE candidate to one device of the call (`to`), as an ephemeral signal
   * that is never stored. In a group call each pair of participants
   * negotiates its own connection (a mesh of up to 8).
   */
  sendCallSignal(callId: string, signal: CallSignal): Promise<void> {
    return this.need().calls.signal(callId, signal);
  }

  /** The devices in a call now: the caller and those that accepted and have not hung up. */
  callParticipants(callId: string): Promise<Member[]> {
    return this.need().calls.participants(callId);
  }

  /**
   * The key for a call's end-to-end encrypted media frames, from the chat's
   * MLS exporter at its current epoch. Ask again after every `membership`
   * event of the chat: the key changes with each commit, and a removed
   * member cannot derive the new one.
   * @example const { epoch, secret } = await client.callMediaKey(callId);
   */
  callMediaKey(callId: string): Promise<CallMediaKey> {
    return this.need().calls.mediaKey(callId);
  }

  /** STUN and TURN servers for a call's RTCPeerConnection, with time-limited TURN credentials. */
  async iceServers(): Promise<IceServer[]> {
    return (await this.api.iceServers()).iceServers;
  }

  /** The chat's calls, oldest first, derived from the stored call actions (not chat messages). */
  callHistory(groupId: string): Promise<CallHistoryEntry[]> {
    return this.need().calls.history(groupId);
  }

  // --- communities -------------------------------------------------------------
  //
  // A community groups related groups under an owner and admins, with one
  // announcement group that every member reads and only admins post in. The
  // privacy model holds throughout: members are never listed to members (R4),
  // members see the admins (R5), admins see the members (R6).

  /**
   * Creates a community (you are its owner) with its announcement group.
   * @example const c = await client.createCommunity({ name: "Riverside", description: "Our street" });
   */
  createCommunity(request: CreateCommunityRequest): Promise<CommunityView> {
    return this.need().communities.create(request);
  }

  /** The communities you belong to. */
  async communities(): Promise<CommunityView[]> {
    return (await this.api.communities()).communities;
  }

  /** One community: name, description, photo, your role, counts, admins (as R5 shows them), settings, limits. */
  community(communityId: string): Promise<CommunityView> {
    return this.api.community(communityId);
  }

  /** Changes the name, description, `approveMembers` or `groupAddPolicy` (admins). */
  updateCommunity(communityId: string, changes: UpdateCommunityRequest): Promise<CommunityView> {
    return this.api.updateCommunity(communityId, changes);
  }

  /**
   * Sets the community photo (admins): PNG, JPEG or WebP bytes. Null removes it.
   * @example await client.setCommunityPhoto(c.id, pngBytes);
   */
  setCommunityPhoto(communityId: string, image: Uint8Array | null): Promise<CommunityView> {
    if (image === null) return this.api.removeCommunityPhoto(communityId);
    return this.api.setCommunityPhoto(communityId, image, imageType(image));
  }

  /** The community photo's bytes (`photo_not_found` when there is none). */
  communityPhoto(communityId: string): Promise<Uint8Array> {
    return this.api.communityPhoto(communityId);
  }

  /** Deactivates the community (owner): its groups carry on alone; the announcement group ends. */
  deactivateCommunity(communityId: string): Promise<void> {
    return this.need().communities.deactivate(communityId);
  }

  /** Hands the community to another member (owner); you stay an admin. */
  transferOwnership(communityId: string, userId: string): Promise<CommunityView> {
    return this.api.transferCommunityOwnership(communityId, userId);
  }

  /** Makes a member an admin, or dismisses one (owner). */
  setCommunityAdmin(communityId: string, userId: string, admin: boolean): Promise<CommunityView> {
    return this.api.setCommunityAdmin(communityId, userId, admin);
  }

  /** Every member with role and join date, as R6 shows them: id, name, number, photo if allowed (admins). */
  async communityMembers(communityId: string) {
    return (await this.api.communityMembers(communityId)).members;
  }

  /** Leaves the community, its announcement group and every group of it (not the owner). */
  async leaveCommunity(communityId: string): Promise<void> {
    const session = this.need();
    await session.communities.leave(communityId);
    this.track(this.catchUp().catch((err: unknown) => this.background(session, err)));
  }

  /** Removes a member from the community and all its groups (admins; only the owner removes admins). */
  removeCommunityMember(communityId: string, userId: string): Promise<void> {
    return this.api.removeCommunityMember(communityId, userId);
  }

  /**
   * An invite link's code (admins); it expires (7 days by default).
   * @example const { code } = await client.createInvite(c.id); // share it; others call joinByInvite(code)
   */
  createInvite(communityId: string, options: { expiresInSeconds?: number } = {}) {
    return this.api.createInvite(communityId, options);
  }

  /** The live invite links (admins). */
  async invites(communityId: string) {
    return (await this.api.invites(communityId)).invites;
  }

  revokeInvite(communityId: string, code: string): Promise<void> {
    return this.api.revokeInvite(communityId, code);
  }

  /** What an invite leads to: name, description, member count; never a member. */
  previewInvite(code: string) {
    return this.api.previewInvite(code);
  }

  /**
   * Joins by invite link, or asks to (`pending`) when the community approves new members.
   * Once in, this device reads the announcement group (a `community` event says so).
   */
  joinByInvite(code: string): Promise<JoinResult> {
    return this.need().communities.join(code);
  }

  /** People waiting to join the community (admins): id, name, photo if allowed. */
  async communityRequests(communityId: string) {
    return (await this.api.communityRequests(communityId)).requests;
  }

  approveCommunityRequest(communityId: string, userId: string): Promise<void> {
    return this.api.answerCommunityRequest(communityId, userId, true);
  }

  declineCommunityRequest(communityId: string, userId: string): Promise<void> {
    return this.api.answerCommunityRequest(communityId, userId, false);
  }

  // --- groups in communities ---------------------------------------------------

  /** The community's groups: name, description, size, whether you are in or asked. Never who is in. */
  async groupDirectory(communityId: string) {
    return (await this.api.groupDirectory(communityId)).groups;
  }

  /**
   * A new group in the community (whoever may add groups), with these users in it.
   * @example const g = await client.createCommunityGroup(c.id, { name: "Gardening" }, [annId]);
   */
  createCommunityGroup(
    communityId: string,
    info: { name: string; description?: string },
    userIds: string[] = [],
  ): Promise<ChatInfo> {
    return this.need().communities.createGroup(communityId, info, userIds);
  }

  /** Links a group you administer: `linked`, or `suggested` to the admins when only they add groups. */
  async linkGroup(communityId: string, groupId: string): Promise<"linked" | "suggested"> {
    return (await this.api.linkGroup(communityId, groupId)).status;
  }

  /** Takes a group out of the community (a community admin or a group admin); it carries on alone. */
  unlinkGroup(communityId: string, groupId: string): Promise<void> {
    return this.api.unlinkGroup(communityId, groupId);
  }

  /** Groups members suggested (admins). */
  async groupSuggestions(communityId: string) {
    return (await this.api.groupSuggestions(communityId)).suggestions;
  }

  approveGroupSuggestion(communityId: string, groupId: string): Promise<void> {
    return this.api.answerGroupSuggestion(communityId, groupId, true);
  }

  declineGroupSuggestion(communityId: string, groupId: string): Promise<void> {
    return this.api.answerGroupSuggestion(communityId, groupId, false);
  }

  /** Asks to join a group of the directory; its admins get a `join-request` event. */
  requestToJoinGroup(groupId: string): Promise<void> {
    return this.api.requestToJoinGroup(groupId);
  }

  /** Requests to join a group (its admins; every member when it does not require approval). */
  async groupRequests(groupId: string) {
    return (await this.api.groupRequests(groupId)).requests;
  }

  /** Lets someone in: adds every device of theirs (an MLS commit), which answers the request. */
  approveGroupRequest(groupId: string, userId: string): Promise<void> {
    return this.need().chats.addMembers(groupId, [userId]);
  }

  /** Turns a request down, or withdraws your own (your user id). */
  declineGroupRequest(groupId: string, userId: string): Promise<void> {
    return this.api.dismissGroupRequest(groupId, userId);
  }

  // --- group administration ----------------------------------------------------

  /** The server's view of a group: kind, name, description, community, members as you may see them, admins, settings. */
  groupInfo(groupId: string): Promise<GroupSummary> {
    return this.api.group(groupId);
  }

  /** Changes the name or description (members, or admins when `infoPolicy` is `admins`). */
  updateGroupInfo(groupId: string, info: GroupInfoRequest): Promise<GroupSummary> {
    return this.api.updateGroupInfo(groupId, info);
  }

  /** Who may send, who may edit the info, whether joining needs approval (admins). */
  updateGroupSettings(groupId: string, settings: GroupSettingsRequest): Promise<GroupSummary> {
    return this.api.updateGroupSettings(groupId, settings);
  }

  /** Makes a member an admin of the group, or takes it back (admins). */
  setGroupAdmin(groupId: string, userId: string, admin: boolean): Promise<GroupSummary> {
    return this.api.setGroupAdmin(groupId, userId, admin);
  }

  /** Leaves a group: your devices are out at once, and the others commit the removal. */
  leaveGroup(groupId: string): Promise<void> {
    return this.need().communities.leaveGroup(groupId);
  }

  // --- announcements -----------------------------------------------------------

  /**
   * Posts in a community's announcement group (community admins; others get
   * `not_community_admin`). Takes the community id or the announcement group
   * id. Before posting, this device hands its sender key to every member
   * device that lacks it (a new key after anyone left). Needs the server: an
   * announcement is not queued offline.
   * @example await client.announce(c.id, "The street party is on Saturday");
   * @example await client.announce(c.id, { attachment: bytes, name: "map.png", mime: "image/png" });
   */
  async announce(communityOrGroupId: string, content: AnnouncementContent): Promise<SendResult> {
    const session = this.need();
    const groupId = await session.announcements.resolve(communityOrGroupId);
    return session.announcements.announce(groupId, content);
  }

  /** The announcement group of a community, read by this device from now on. */
  announcementGroup(communityId: string): Promise<string> {
    return this.need().announcements.resolve(communityId);
  }

  /** Reaction counts on a message of an announcement group: what every member sees. */
  reactionCounts(groupId: string, messageId: string): Promise<Record<string, number>> {
    return this.need().announcements.reactions.counts(groupId, messageId);
  }

  /**
   * Who reacted to an announcement, and with what (community admins' devices;
   * R6 lets them see members, their names included).
   */
  announcementReactions(groupId: string, messageId: string): Promise<AnnouncementReaction[]> {
    return this.need().announcements.whoReacted(groupId, messageId);
  }

  // --- reports and moderation ---------------------------------------------------
  //
  // Anyone who can see a channel may report it or a post. In an end-to-end
  // encrypted chat, a person is reported with up to 5 of their messages that
  // the reporter picks: this device decrypted them and sends them; the server
  // never gets a chat's messages otherwise. Moderators' tools are `client.api`'s
  // moderation methods (queue, case, claim, decide, appeals, audit).

  /** Reports a channel, or one of its posts (`seq`). */
  async reportChannel(
    channelId: string,
    report: { reason: ReportReason; note?: string; seq?: number },
  ): Promise<void> {
    const { seq, ...rest } = report;
    await this.api.report(
      seq === undefined
        ? { subject: "channel", channelId, ...rest }
        : { subject: "post", channelId, seq, ...rest },
    );
  }

  /**
   * Reports a person met in a chat, attaching (if the reporter wishes) up to
   * 5 of the messages they sent there, by id, as this device decrypted them.
   * @example await client.reportUser(groupId, userId, { reason: "fraud", attach: [m.id] });
   */
  async reportUser(
    groupId: string,
    userId: string,
    report: { reason: ReportReason; note?: string; attach?: string[] },
  ): Promise<void> {
    const messages = reportedMessages(
      await this.need().messaging.history(groupId),
      userId,
      report.attach ?? [],
    );
    await this.api.report({
      subject: "user",
      userId,
      groupId,
      reason: report.reason,
      ...(report.note ? { note: report.note } : {}),
      ...(messages.length > 0 ? { messages } : {}),
    });
  }

  /** What is held for review, the decisions and strikes, and any suspension (owner and admins). */
  channelModeration(channelId: string): Promise<ChannelModeration> {
    return this.api.channelModeration(channelId);
  }

  /** The channel's owner appeals a violation (once per decision). */
  async appealDecision(decisionId: string, text: string): Promise<void> {
    await this.api.appeal({ decisionId, text });
  }

  // --- channels ----------------------------------------------------------------
  //
  // A channel is public, one-to-many: admins post as the channel, followers
  // read and react. It is not end-to-end encrypted (plain HTTP); followers are
  // never shown to anyone, and admins see who reacted only as a per-channel
  // handle, a name and a photo if allowed (R8), never a number or id.

  /**
   * Creates a channel (you are its owner).
   * @example const ch = await client.createChannel({ name: "Daily News", handle: "dailynews", category: "news" });
   */
  createChannel(request: CreateChannelRequest): Promise<ChannelView> {
    return this.api.createChannel(request);
  }

  /** A channel as anyone sees it: name, handle, badge, follower count, and your own role and follow. */
  channel(channelId: string): Promise<ChannelView> {
    return this.api.channel(channelId);
  }

  /**
   * Changes the name, description, category, country or reaction setting
   * (admins). A new name or description is checked against the content
   * guidelines first: refused (`content_rejected`, with its `category`), or
   * held for review (a HeldItem: see `isHeld`) and shown once a moderator
   * releases it.
   */
  updateChannel(channelId: string, changes: UpdateChannelRequest): Promise<ChannelView | HeldItem> {
    return this.api.updateChannel(channelId, changes);
  }

  /** Deletes the channel (owner). */
  async deleteChannel(channelId: string): Promise<void> {
    await this.api.deleteChannel(channelId);
    await this.need().channelFeed.forget(channelId);
  }

  /**
   * The directory: channels by name or handle, category, country.
   * @example const found = await client.channelDirectory({ q: "news", country: "GB", sort: "popular" });
   */
  async channelDirectory(query: ChannelDirectoryQuery = {}): Promise<ChannelView[]> {
    return (await this.api.channelDirectory(query)).channels;
  }

  /** The channels you follow or administer. */
  async myChannels(): Promise<ChannelView[]> {
    return (await this.api.myChannels()).channels;
  }

  /** Channels whose owner invited you to administer them; accept with `acceptChannelAdmin`. */
  async channelInvitations(): Promise<ChannelView[]> {
    return (await this.api.channelInvitations()).channels;
  }

  /** The channel an invite link opens: its code, or `veil-channel:<code>`. */
  openChannelInvite(link: string): Promise<ChannelView> {
    return this.api.channelByInvite(link.trim().replace(/^veil-channel:/, ""));
  }

  /**
   * Follows a channel: its new posts arrive as `channel-post` events, live and
   * after every reconnect (older ones: `channelPosts`). Nobody sees who follows.
   * @example await client.followChannel(ch.id); client.on("channel-post", (e) => show(e.post));
   */
  async followChannel(channelId: string, options: { muted?: boolean } = {}): Promise<ChannelView> {
    const session = this.need();
    const view = await this.api.followChannel(channelId, options.muted ?? false);
    await session.channelFeed.followed(view);
    return view;
  }

  async unfollowChannel(channelId: string): Promise<void> {
    const session = this.need();
    await this.api.unfollowChannel(channelId);
    await session.channelFeed.forget(channelId);
  }

  /** Mutes (or unmutes) a followed channel: posts still arrive; a muted channel should not notify. */
  async muteChannel(channelId: string, muted = true): Promise<ChannelView> {
    return this.followChannel(channelId, { muted });
  }

  /** The admins as co-admins see them (R10), and pending invitations (admins). */
  channelAdmins(channelId: string) {
    return this.api.channelAdmins(channelId);
  }

  /** Invites someone to administer (owner; the invitation expires after 7 days; 16 admins at most). */
  inviteChannelAdmin(channelId: string, userId: string): Promise<void> {
    return this.api.inviteChannelAdmin(channelId, userId);
  }

  acceptChannelAdmin(channelId: string): Promise<ChannelView> {
    return this.api.acceptChannelAdmin(channelId);
  }

  /** Removes an admin or withdraws an invitation (owner); your own id steps down. */
  removeChannelAdmin(channelId: string, userId: string): Promise<void> {
    return this.api.removeChannelAdmin(channelId, userId);
  }

  /** Hands the channel to another admin (owner); you stay an admin. */
  transferChannel(channelId: string, userId: string): Promise<ChannelView> {
    return this.api.transferChannel(channelId, userId);
  }

  /**
   * Posts as the channel (admins). The post has a client id (`options.id`, or
   * a new one), so a resend after a network failure is stored once: the SDK
   * resends by itself up to 3 times, and a caller may retry with the same id.
   * Content may carry media (bytes are uploaded first: `uploadChannelMedia`),
   * a link preview made by the client, and a poll.
   *
   * Every post is checked against the content guidelines before it is
   * published: refused with `content_rejected` (its `category` says which
   * guideline), or held for review (a HeldItem, `isHeld(result)`): followers
   * see it only once a moderator releases it.
   * @example const post = await client.postToChannel(ch.id, "Good morning");
   * @example await client.postToChannel(ch.id, { text: "The view", media: [jpegBytes] });
   * @example await client.postToChannel(ch.id, { poll: { question: "Lunch?", options: ["Park", "Cafe"] } });
   */
  async postToChannel(
    channelId: string,
    content: string | ChannelPostContent,
    options: { id?: string } = {},
  ): Promise<ChannelPost | HeldItem> {
    const id = options.id ?? newPostId();
    const request = await channelPostRequest(
      typeof content === "string" ? { text: content } : content,
      async (bytes) => (await this.uploadChannelMedia(channelId, bytes)).id,
    );
    return resending(() => this.api.createChannelPost(channelId, { id, ...request }));
  }

  /**
   * Uploads a file for posts (admins): JPEG, PNG, WebP, MP4, MP3 or PDF, as
   * the server sniffs it (`media_type_not_allowed`), within its size limit
   * (`media_too_large`). The same bytes give the same id.
   */
  uploadChannelMedia(channelId: string, bytes: Uint8Array): Promise<ChannelMedia> {
    return resending(() => this.api.uploadChannelMedia(channelId, bytes));
  }

  /** A channel file's bytes, by the id a post's `media` (or preview `image`) names. */
  channelMedia(channelId: string, mediaId: string): Promise<Uint8Array> {
    return this.api.channelMedia(channelId, mediaId);
  }

  /**
   * Edits a post (admins, for 30 days); followers get a `channel-post` event
   * with `edited`. The new text is checked like a new post (refused, or held
   * while the old text stays).
   */
  editChannelPost(channelId: string, seq: number, text: string): Promise<ChannelPost | HeldItem> {
    return this.api.editChannelPost(channelId, seq, text);
  }

  /** Deletes a post (admins, for 30 days); followers get `channel-post-deleted`. */
  deleteChannelPost(channelId: string, seq: number): Promise<void> {
    return this.api.deleteChannelPost(channelId, seq);
  }

  /**
   * Posts after a sequence number (default: the oldest kept), with counts and
   * your reaction; anyone may read them, as a preview before following.
   * @example const { posts, lastSeq } = await client.channelPosts(ch.id, { after: 0 });
   */
  channelPosts(
    channelId: string,
    options: { after?: number; limit?: number } = {},
  ): Promise<{ posts: ChannelPost[]; lastSeq: number }> {
    return this.api.channelPosts(channelId, options.after ?? 0, options.limit ?? 50);
  }

  /** Reacts to a post (followers; one emoji per post, changeable); counts arrive as `channel-counts`. */
  reactToChannelPost(channelId: string, seq: number, emoji: string): Promise<ChannelPost> {
    return this.api.reactToChannelPost(channelId, seq, emoji);
  }

  removeChannelReaction(channelId: string, seq: number): Promise<ChannelPost> {
    return this.api.reactToChannelPost(channelId, seq, null);
  }

  /** Who reacted to a post (admins): a per-channel handle, the name, the photo if allowed. */
  async channelReactions(channelId: string, seq: number) {
    return (await this.api.channelReactions(channelId, seq)).reactions;
  }

  /**
   * Votes in a post's poll (followers): one option index, or several in a
   * multiple-choice poll. Voting again changes the vote while the poll is open.
   * @example const post = await client.voteInChannelPoll(ch.id, seq, 1); // post.poll.myVote: [1]
   */
  voteInChannelPoll(
    channelId: string,
    seq: number,
    options: number | number[],
  ): Promise<ChannelPost> {
    const chosen = typeof options === "number" ? [options] : options;
    return this.api.voteInChannelPoll(channelId, seq, chosen);
  }

  /** Withdraws your vote while the poll is open. */
  withdrawChannelVote(channelId: string, seq: number): Promise<ChannelPost> {
    return this.api.voteInChannelPoll(channelId, seq, null);
  }

  /** Who voted for what (admins): a per-channel handle, the name, the photo if allowed; never an id. */
  async channelVotes(channelId: string, seq: number) {
    return (await this.api.channelVotes(channelId, seq)).votes;
  }

  /**
   * A follower's photo, as `follower.photo` of a reaction or vote list names it
   * (admins; only when the follower's setting allows): by their handle in this
   * channel, never by an id that would match them across channels.
   */
  channelFollowerPhoto(photo: string): Promise<Uint8Array> {
    return this.api.followerPhoto(photo);
  }

  /** Closes a post's poll now (admins): votes stop, the counts stay. */
  closeChannelPoll(channelId: string, seq: number): Promise<ChannelPost> {
    return this.api.closeChannelPoll(channelId, seq);
  }

  /** Sets the channel photo (admins): PNG, JPEG or WebP bytes, checked first (may be held). Null removes it. */
  setChannelPhoto(channelId: string, image: Uint8Array | null): Promise<ChannelView | HeldItem> {
    if (image === null) return this.api.removeChannelPhoto(channelId);
    return this.api.setChannelPhoto(channelId, image, imageType(image));
  }

  /** The channel photo's bytes (`photo_not_found` when there is none). */
  channelPhoto(channelId: string): Promise<Uint8Array> {
    return this.api.channelPhoto(channelId);
  }

  /**
   * Suspends a channel, saying why (platform admins): unlisted, its invite
   * closed, no new posts (`channel_suspended`); only its admins and followers
   * still see it, with the reason (`status`, `suspensionReason`).
   */
  async suspendChannel(channelId: string, reason: string): Promise<void> {
    await this.api.setChannelSuspension(channelId, reason);
  }

  /** Lifts a channel's suspension (platform admins). */
  async unsuspendChannel(channelId: string): Promise<void> {
    await this.api.setChannelSuspension(channelId, null);
  }

  /**
   * Sets (or, with `false`, clears) the channel's verified badge (platform
   * admins; others: `not_platform_admin`). Everyone sees it as `verified`.
   * @example await moderator.setChannelVerified(ch.id); // (await client.channel(ch.id)).verified: true
   */
  async setChannelVerified(channelId: string, verified = true): Promise<void> {
    await this.api.setChannelVerified(channelId, verified);
  }

  /**
   * The channel with this handle (`@dailynews` or `dailynews`); a suspended
   * one only to its admins (others: `channel_not_found`).
   */
  channelByHandle(handle: string): Promise<ChannelView> {
    return this.api.channelByHandle(handle.trim().replace(/^@/, "").toLowerCase());
  }

  /**
   * The text to forward a post with: its text (or poll question), then its
   * link back to the channel, which `openChannelLink` opens.
   * @example await client.sendText(chatId, client.forwardChannelPost(post));
   */
  forwardChannelPost(post: Pick<ChannelPost, "text" | "link" | "media" | "poll">): string {
    return forwardedChannelPost(post);
  }

  /**
   * Opens the first channel link in a text: a forwarded post's
   * `veil://channel/<handle>/<seq>` (the channel and the post, null when it
   * was deleted or is past retention) or an invite `veil-channel:<code>` (the
   * channel). Anyone may open one; following is not needed.
   * @example const { channel, post } = await client.openChannelLink(message.content.text);
   */
  async openChannelLink(text: string): Promise<{ channel: ChannelView; post: ChannelPost | null }> {
    const link = parseChannelLink(text);
    if (!link) throw new VeilError("invalid_argument", "No channel link in this text");
    if (link.type === "invite") {
      return { channel: await this.openChannelInvite(link.code), post: null };
    }
    const channel = await this.channelByHandle(link.handle);
    if (link.seq === null) return { channel, post: null };
    const { posts } = await this.api.channelPosts(channel.id, link.seq - 1, 1);
    const post = posts[0]?.seq === link.seq ? posts[0] : null;
    return { channel, post };
  }

  // --- internals ---------------------------------------------------------------

  private track(work: Promise<unknown>): void {
    this.tasks.add(work);
    const done = () => this.tasks.delete(work);
    void work.then(done, done);
  }

  private need(): Session {
    if (!this.session) throw new VeilError("not_signed_in");
    return this.session;
  }

  private async boot(account: Account): Promise<void> {
    const session = await this.state.json(SessionRecord, ns.device, "session");
    this.token = session?.token ?? null;
    this.account = account;
    const identity = await ensureIdentity(this.state);
    const registry = new DeviceKeyRegistry(this.state);
    await registry.load(account.deviceId, identity.publicKey);
    const suite = await loadSuite(this.options.suite, "fast", {
      verifyCredential: registry.verify,
    });
    const context: ClientContext = {
      api: this.api,
      state: this.state,
      suite,
      identity,
      userId: account.userId,
      deviceId: account.deviceId,
      events: this,
      logger: this.options.logger ?? silentLogger,
      keyPackageTarget: this.options.keyPackageTarget ?? 50,
      autoDeliveryReceipts: this.options.autoDeliveryReceipts ?? true,
      closed: () => this.stopped,
      track: (work) => this.track(work),
    };
    const keyPackages = new KeyPackages(context);
    let messaging: Messaging | undefined;
    let calls: Calls | undefined;
    let mailbox: Mailbox | undefined;
    let announcements: Announcements | undefined;
    const groups = new Groups(context, registry, keyPackages, {
      // Key channels carry announcement keys and reactions: never chat messages.
      application: (input) =>
        input.kind === "keys"
          ? (announcements as Announcements).keyChannelMessage(input)
          : (async () =>
              (await (calls as Calls).application(input)) ??
              (messaging as Messaging).application(input))(),
      ownApplication: (groupId, entry, kind) =>
        (messaging as Messaging).ownApplication(groupId, entry, kind),
      signal: (input) => {
        if (input.kind !== "keys" && !calls?.signalReceived(input)) messaging?.signal(input);
      },
      settled: (groupId) => messaging?.settled(groupId),
      unknownGroup: () => {
        if (mailbox) this.track(mailbox.sync().catch((err: unknown) => reportError(context, err)));
      },
    });
    messaging = new Messaging(context, groups);
    calls = new Calls(context, groups, messaging, this.options.callRingTimeoutMs ?? 45_000);
    const ownDevices = new OwnDevices(context, groups);
    mailbox = new Mailbox(context, groups, keyPackages, ownDevices, {
      announcementJoined: (groupId) => (announcements as Announcements).joined(groupId),
      communityOf: (groupId) =>
        (announcements as Announcements).get(groupId)?.communityId ?? undefined,
      removedFromGroup: async (groupId) => {
        if (announcements?.has(groupId)) await announcements.left(groupId);
        // Catching up now finds the commit that removed this device (or that the group is gone):
        // a call in it ends at once rather than on the next catch-up.
        else await groups.sync(groupId);
      },
    });
    const chats = new Chats(context, groups, mailbox, registry);
    const concurrency = this.options.distributionConcurrency ?? 8;
    const channels = new KeyChannels(context, groups, mailbox, concurrency);
    announcements = new Announcements(
      context,
      groups,
      messaging,
      channels,
      new SenderKeyStore(context),
      {
        concurrency,
        reactionDelayMs: this.options.reactionCountsDelayMs ?? 1000,
        adminListMaxAgeMs: this.options.adminListMaxAgeMs ?? 60_000,
      },
    );
    await announcements.load();
    const communities = new Communities(context, groups, chats, mailbox, announcements);
    this.session = {
      context,
      groups,
      messaging,
      calls,
      mailbox,
      chats,
      ownDevices,
      keyPackages,
      announcements,
      communities,
      channelFeed: new ChannelFeed(context),
    };
  }

  /** One catch-up at a time; a request during one makes it run again after. */
  private catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    const session = this.need();
    this.catchingUp = (async () => {
      try {
        do {
          this.catchUpAgain = false;
          await session.keyPackages.replenish();
          await session.mailbox.sync();
          const active = (await session.groups.list()).filter((g) => g.active);
          // One request says which groups moved; a group missing from it is one we left.
          const summaries = await this.api.groups();
          const lastSeq = new Map(summaries.map((g) => [g.id, g.lastSeq]));
          for (const g of active) {
            const last = lastSeq.get(g.groupId);
            if (last === undefined || last > g.cursor) await session.groups.sync(g.groupId);
          }
          // After the key channels: keys first, then the posts they open.
          await session.announcements.catchUp(summaries);
          await session.ownDevices.process();
          await session.messaging.flushOutbox();
          await session.channelFeed.catchUp();
          this.emit("synced", { groups: active.length });
        } while (this.catchUpAgain && !this.stopped);
      } finally {
        this.catchingUp = null;
      }
    })();
    return this.catchingUp;
  }

  /**
   * A failure of background work. Network trouble is not an error event: the
   * connection reconnects and catches up (`connection` events show it), and
   * when the connection stayed up (the server could not reach its database,
   * say) a catch-up runs again after a backoff, so a live entry is never
   * left unprocessed.
   */
  private background(session: Session, err: unknown): void {
    if (this.stopped) return;
    if (isVeilError(err) && err.retryable) {
      session.context.logger.debug({ code: err.code }, "background work interrupted");
      this.catchUpLater.schedule();
      return;
    }
    reportError(session.context, err);
  }

  private onFrame(session: Session, frame: IncomingFrame): void {
    const report = (err: unknown) => this.background(session, err);
    switch (frame.type) {
      case "resync":
        // The server's node lost touch with the others for a while: fetch what it missed.
        this.track(this.catchUp().catch(report));
        return;
      case "group.entry":
        if (session.announcements.has(frame.entry.groupId)) {
          this.track(session.announcements.onLiveEntry(frame.entry).catch(report));
        } else {
          this.track(session.groups.onLiveEntry(frame.entry).catch(report));
        }
        return;
      case "group.signal":
        this.track(session.groups.onSignal(frame.signal).catch(report));
        return;
      case "mailbox.item":
        this.track(session.mailbox.sync().catch(report));
        return;
      case "channel.post":
        this.track(session.channelFeed.onPost(frame.post).catch(report));
        return;
      case "channel.post.deleted":
        this.emit("channel-post-deleted", { channelId: frame.channelId, seq: frame.seq });
        return;
      case "channel.counts": {
        const { type: _type, ...counts } = frame;
        this.emit("channel-counts", counts);
        return;
      }
      default:
        return;
    }
  }

  /** Signs in again with the device key; false when the device is gone from the account. */
  private reauthenticate(): Promise<boolean> {
    const session = this.session;
    const account = this.account;
    if (!session || !account) return Promise.resolve(false);
    this.reauth ??= (async () => {
      try {
        await signIn(this.api, this.state, session.context.identity, account.deviceId);
        this.token = (await this.state.json(SessionRecord, ns.device, "session"))?.token ?? null;
        return true;
      } catch (err) {
        if (isVeilError(err, "signature_invalid")) {
          reportError(session.context, new VeilError("device_removed"));
          this.stopped = true;
          this.connection?.stop();
        }
        return false;
      } finally {
        this.reauth = null;
      }
    })();
    return this.reauth;
  }
}

function announcementInfo(meta: { groupId: string; active: boolean }): ChatInfo {
  return {
    groupId: meta.groupId,
    kind: "announcement",
    peerUserId: null,
    joined: true,
    active: meta.active,
  };
}

/** The type of PNG, JPEG or WebP bytes (the server checks them again). */
function imageType(bytes: Uint8Array): string {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return "image/png";
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  return "image/webp";
}

/** Runs idempotent channel work again, up to 3 times in all, while it fails with network trouble. */
async function resending<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 3 || !isVeilError(err) || !err.retryable) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
