import { loadSuite, type SuiteName } from "@veil/crypto";
import type { OwnProfile } from "@veil/protocol";
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
import { ApiClient } from "./api-client.js";
import { type ChatInfo, Chats } from "./chats.js";
import {
  browserWebSocket,
  Connection,
  type IncomingFrame,
  type WebSocketFactory,
} from "./connection.js";
import { type ClientContext, reportError } from "./context.js";
import { DeviceKeyRegistry } from "./device-keys.js";
import type { AttachmentRef } from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import { type ChatMessage, Emitter, type VeilEvents } from "./events.js";
import { Groups } from "./groups.js";
import { KeyPackages } from "./key-packages.js";
import { LocalState, ns, SessionRecord } from "./local-state.js";
import { type Logger, silentLogger } from "./logger.js";
import { Mailbox } from "./mailbox.js";
import { Messaging, type SendResult } from "./messaging.js";
import { OwnDevices } from "./own-devices.js";
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
}

/** The parts of a signed-in client. */
interface Session {
  context: ClientContext;
  groups: Groups;
  messaging: Messaging;
  mailbox: Mailbox;
  chats: Chats;
  ownDevices: OwnDevices;
  keyPackages: KeyPackages;
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

  chats(): Promise<ChatInfo[]> {
    return this.need().chats.list();
  }

  chat(groupId: string): Promise<ChatInfo | undefined> {
    return this.need().chats.get(groupId);
  }

  /** Resolves once this device is a member of the group (a welcome may still be on its way). */
  async waitForChat(groupId: string, timeoutMs = 30_000): Promise<ChatInfo> {
    const session = this.need();
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

  sendText(groupId: string, text: string, options: { replyTo?: string } = {}): Promise<SendResult> {
    return this.need().messaging.text(groupId, text, options.replyTo);
  }

  /** Reacts to a message; an empty emoji takes the reaction back. */
  react(groupId: string, messageId: string, emoji: string): Promise<SendResult> {
    return this.need().messaging.react(groupId, messageId, emoji);
  }

  /** Encrypts the file with a fresh key, uploads the ciphertext, sends key and hash over MLS. */
  sendAttachment(
    groupId: string,
    bytes: Uint8Array,
    options: { name?: string; mime?: string; caption?: string; replyTo?: string } = {},
  ) {
    return this.need().messaging.attachment(groupId, bytes, options);
  }

  /** Downloads an attachment, checks its hash and size, and decrypts it. */
  downloadAttachment(ref: AttachmentRef): Promise<Uint8Array> {
    return this.need().messaging.download(ref);
  }

  markRead(groupId: string, messageIds: string[]): Promise<SendResult[]> {
    return this.need().messaging.markRead(groupId, messageIds);
  }

  setTyping(groupId: string, typing: boolean): Promise<void> {
    return this.need().messaging.typing(groupId, typing);
  }

  /** The messages this device has shown in a chat (and its own sent ones), in log order. */
  messages(groupId: string): Promise<ChatMessage[]> {
    return this.need().messaging.history(groupId);
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
    let mailbox: Mailbox | undefined;
    const groups = new Groups(context, registry, keyPackages, {
      application: (input) => (messaging as Messaging).application(input),
      ownApplication: (groupId, entry) => (messaging as Messaging).ownApplication(groupId, entry),
      signal: (input) => messaging?.signal(input),
      settled: (groupId) => messaging?.settled(groupId),
      unknownGroup: () => {
        if (mailbox) this.track(mailbox.sync().catch((err: unknown) => reportError(context, err)));
      },
    });
    messaging = new Messaging(context, groups);
    const ownDevices = new OwnDevices(context, groups);
    mailbox = new Mailbox(context, groups, keyPackages, ownDevices);
    const chats = new Chats(context, groups, mailbox, registry);
    this.session = { context, groups, messaging, mailbox, chats, ownDevices, keyPackages };
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
          const lastSeq = new Map((await this.api.groups()).map((g) => [g.id, g.lastSeq]));
          for (const g of active) {
            const last = lastSeq.get(g.groupId);
            if (last === undefined || last > g.cursor) await session.groups.sync(g.groupId);
          }
          await session.ownDevices.process();
          await session.messaging.flushOutbox();
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
   * connection reconnects and catches up (`connection` events show it).
   */
  private background(session: Session, err: unknown): void {
    if (this.stopped) return;
    if (isVeilError(err) && err.retryable) {
      session.context.logger.debug({ code: err.code }, "background work interrupted");
      return;
    }
    reportError(session.context, err);
  }

  private onFrame(session: Session, frame: IncomingFrame): void {
    const report = (err: unknown) => this.background(session, err);
    switch (frame.type) {
      case "group.entry":
        this.track(session.groups.onLiveEntry(frame.entry).catch(report));
        return;
      case "group.signal":
        this.track(session.groups.onSignal(frame.signal).catch(report));
        return;
      case "mailbox.item":
        this.track(session.mailbox.sync().catch(report));
        return;
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
