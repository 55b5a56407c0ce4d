import { FormatRegistry, type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  type AppealDecisionRequest,
  AppealList,
  AppealReceipt,
  type AppealRequest,
  Appended,
  ApprovedDevice,
  AuditPage,
  CaseDetail,
  CaseResponse,
  ChallengeResponse,
  ChannelAdminList,
  ChannelDirectory,
  ChannelMedia,
  ChannelModeration,
  ChannelPost,
  ChannelPostPage,
  ChannelView,
  ClaimKeyPackagesResponse,
  type CommitRequest,
  CommunityList,
  CommunityMemberList,
  CommunityView,
  type CreateChannelRequest,
  type CreateCommunityRequest,
  type CreateGroupRequest,
  type CreatePostRequest,
  type DecisionRequest,
  Device,
  DeviceLinkResponse,
  DeviceLinkStatus,
  type DeviceProof,
  Directory,
  FollowerInteractionList,
  FollowerVoteList,
  type GroupInfoRequest,
  type GroupSettingsRequest,
  GroupSummary,
  HeldItem,
  IceServerList,
  Invite,
  InviteList,
  InvitePreview,
  isErrorCode,
  JoinRequestList,
  JoinResult,
  KeyPackageStock,
  LinkResult,
  LogPage,
  MailboxPage,
  ModerationQueue,
  OwnProfile,
  PendingDeviceLink,
  type PhoneProof,
  ReportReceipt,
  type ReportRequest,
  type SendMessageRequest,
  SessionGrant,
  SuggestionList,
  type UpdateChannelRequest,
  type UpdateCommunityRequest,
  type UpdatePrivacyRequest,
  type UpdateProfileRequest,
  type UploadKeyPackagesRequest,
  VisibleProfile,
} from "@veil/protocol";
import { exactBuffer } from "./encoding.js";
import { VeilError } from "./errors.js";

if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set("date-time", (value) => !Number.isNaN(Date.parse(value)));
}

const Empty = Type.Unknown();
/** A post, an edit or a channel change: published at once, or held for review (202). */
const PostOrHeld = Type.Union([ChannelPost, HeldItem]);
const ChannelOrHeld = Type.Union([ChannelView, HeldItem]);
/** A 204 (or 202): nothing to read. */
const NoContent = Type.Void();
const RegisterResponse = Type.Object({
  user: OwnProfile,
  deviceId: Type.String(),
  session: SessionGrant,
});
const SignInResponse = Type.Object({
  userId: Type.String(),
  deviceId: Type.String(),
  session: SessionGrant,
});
const VerificationResponse = Type.Object({
  verificationId: Type.String(),
  expiresAt: Type.String(),
});
const BlobStored = Type.Object({ id: Type.String(), size: Type.Integer() });

export interface ApiClientOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** The session token to send, if any. */
  token?: () => string | null;
  /**
   * Called once when an authenticated request is refused (`unauthenticated`):
   * sign in again and return true to retry the request.
   */
  reauthenticate?: () => Promise<boolean>;
}

interface RequestOptions<T extends TSchema> {
  body?: unknown;
  bytes?: Uint8Array;
  /** The content type of `bytes` (default application/octet-stream). */
  contentType?: string;
  auth?: boolean;
  schema: T;
}

/**
 * The Veil HTTP API, typed. Every failure is a VeilError whose `code` is the
 * server's (or `network_error` / `bad_response`); answers are checked against
 * the protocol's schemas before use.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The WebSocket URL of this server. */
  get webSocketUrl(): string {
    return `${this.baseUrl.replace(/^http/, "ws")}/v1/ws`;
  }

  async request<T extends TSchema>(
    method: string,
    path: string,
    options: RequestOptions<T>,
  ): Promise<Static<T>> {
    const auth = options.auth ?? true;
    const response = await this.send(method, path, options, auth);
    if (response.status === 401 && auth && this.options.reauthenticate) {
      const error = await readError(response);
      if (error.code === "unauthenticated" && (await this.options.reauthenticate())) {
        return this.parse(await this.send(method, path, options, auth), options.schema);
      }
      throw error;
    }
    return this.parse(response, options.schema);
  }

  private async send<T extends TSchema>(
    method: string,
    path: string,
    options: RequestOptions<T>,
    auth: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = auth ? this.options.token?.() : null;
    if (auth && !token) throw new VeilError("not_signed_in");
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.bytes) {
      headers["content-type"] = options.contentType ?? "application/octet-stream";
      body = exactBuffer(options.bytes);
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body });
    } catch (err) {
      throw new VeilError("network_error", undefined, { cause: err });
    }
  }

  private async parse<T extends TSchema>(response: Response, schema: T): Promise<Static<T>> {
    if (!response.ok) throw await readError(response);
    // 202 may carry a body (a change held for review) or none (a signal accepted).
    const text = response.status === 204 ? "" : await response.text().catch(() => "");
    if (
      response.status === 204 ||
      (response.status === 202 && (text === "" || (schema as TSchema) === NoContent))
    ) {
      return undefined as Static<T>;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new VeilError("bad_response", undefined, { cause: err, status: response.status });
    }
    if (!Value.Check(schema, value)) {
      throw new VeilError("bad_response", undefined, { status: response.status });
    }
    return value;
  }

  // --- accounts and devices ------------------------------------------------------

  challenge() {
    return this.request("POST", "/v1/auth/challenges", { auth: false, schema: ChallengeResponse });
  }

  requestPhoneVerification(phone: string) {
    return this.request("POST", "/v1/phone-verifications", {
      auth: false,
      body: { phone },
      schema: VerificationResponse,
    });
  }

  register(body: { name: string; username?: string; phone?: PhoneProof; device: DeviceProof }) {
    return this.request("POST", "/v1/accounts", { auth: false, body, schema: RegisterResponse });
  }

  signIn(body: { deviceId: string; challengeId: string; signature: string }) {
    return this.request("POST", "/v1/sessions", { auth: false, body, schema: SignInResponse });
  }

  me() {
    return this.request("GET", "/v1/me", { schema: OwnProfile });
  }

  user(userId: string) {
    return this.request("GET", `/v1/users/${encodeURIComponent(userId)}`, {
      schema: VisibleProfile,
    });
  }

  lookupPhone(phone: string) {
    return this.request("POST", "/v1/lookup/phone", { body: { phone }, schema: VisibleProfile });
  }

  addContact(contact: { userId: string } | { phone: string }) {
    return this.request("POST", "/v1/contacts", { body: contact, schema: VisibleProfile });
  }

  /** Changes your name, username or about. */
  updateProfile(body: UpdateProfileRequest) {
    return this.request("PATCH", "/v1/me", { body, schema: OwnProfile });
  }

  /** Changes who sees your number, photo, about and presence, and whether your number finds you. */
  updatePrivacy(body: UpdatePrivacyRequest) {
    return this.request("PATCH", "/v1/me/privacy", { body, schema: OwnProfile });
  }

  /** Sets your photo (PNG, JPEG or WebP bytes). */
  setPhoto(bytes: Uint8Array, contentType: string) {
    return this.request("PUT", "/v1/me/photo", { bytes, contentType, schema: OwnProfile });
  }

  removePhoto() {
    return this.request("DELETE", "/v1/me/photo", { schema: OwnProfile });
  }

  /** Another user's photo, when their setting lets you see it (`photo_not_found` otherwise). */
  userPhoto(userId: string): Promise<Uint8Array> {
    return this.download(`/v1/users/${encodeURIComponent(userId)}/photo`);
  }

  contacts() {
    return this.request("GET", "/v1/contacts", { schema: Type.Array(VisibleProfile) });
  }

  removeContact(userId: string) {
    return this.request("DELETE", `/v1/contacts/${encodeURIComponent(userId)}`, { schema: Empty });
  }

  blocks() {
    return this.request("GET", "/v1/blocks", { schema: Type.Array(VisibleProfile) });
  }

  /** Blocks a user: they see at most your name, and their messages to you are not delivered. */
  block(userId: string) {
    return this.request("PUT", `/v1/blocks/${encodeURIComponent(userId)}`, { schema: Empty });
  }

  unblock(userId: string) {
    return this.request("DELETE", `/v1/blocks/${encodeURIComponent(userId)}`, { schema: Empty });
  }

  devices() {
    return this.request("GET", "/v1/devices", { schema: Type.Array(Device) });
  }

  /** Removes a device from the account; the groups it was in then rotate their keys. */
  removeDevice(deviceId: string) {
    return this.request("DELETE", `/v1/devices/${encodeURIComponent(deviceId)}`, { schema: Empty });
  }

  startDeviceLink(proof: DeviceProof) {
    return this.request("POST", "/v1/device-links", {
      auth: false,
      body: proof,
      schema: DeviceLinkResponse,
    });
  }

  deviceLinkStatus(linkId: string, secret: string) {
    return this.request("POST", "/v1/device-links/status", {
      auth: false,
      body: { linkId, secret },
      schema: DeviceLinkStatus,
    });
  }

  pendingDeviceLink(code: string) {
    return this.request("GET", `/v1/device-links/${encodeURIComponent(code)}`, {
      schema: PendingDeviceLink,
    });
  }

  approveDeviceLink(code: string, signature: string) {
    return this.request("POST", "/v1/device-links/approve", {
      body: { code, signature },
      schema: ApprovedDevice,
    });
  }

  // --- the delivery service ------------------------------------------------------

  uploadKeyPackages(body: UploadKeyPackagesRequest) {
    return this.request("POST", "/v1/key-packages", { body, schema: KeyPackageStock });
  }

  keyPackageStock() {
    return this.request("GET", "/v1/key-packages", { schema: KeyPackageStock });
  }

  /** One key package per device of each user (at most 50 users), or of these devices only. */
  claimKeyPackages(userIds: string[], deviceIds?: string[]) {
    return this.request("POST", "/v1/key-packages/claim", {
      body: { userIds, ...(deviceIds ? { deviceIds } : {}) },
      schema: ClaimKeyPackagesResponse,
    });
  }

  createGroup(body: CreateGroupRequest) {
    return this.request("POST", "/v1/groups", { body, schema: GroupSummary });
  }

  groups() {
    return this.request("GET", "/v1/groups", { schema: Type.Array(GroupSummary) });
  }

  group(groupId: string) {
    return this.request("GET", `/v1/groups/${encodeURIComponent(groupId)}`, {
      schema: GroupSummary,
    });
  }

  commit(groupId: string, body: CommitRequest) {
    return this.request("POST", `/v1/groups/${encodeURIComponent(groupId)}/commits`, {
      body,
      schema: Appended,
    });
  }

  sendMessage(groupId: string, body: SendMessageRequest) {
    return this.request("POST", `/v1/groups/${encodeURIComponent(groupId)}/messages`, {
      body,
      schema: Appended,
    });
  }

  sendSignal(groupId: string, message: string) {
    return this.request("POST", `/v1/groups/${encodeURIComponent(groupId)}/signals`, {
      body: { message },
      schema: Empty,
    });
  }

  log(groupId: string, after: number, limit = 200) {
    return this.request(
      "GET",
      `/v1/groups/${encodeURIComponent(groupId)}/log?after=${after}&limit=${limit}`,
      { schema: LogPage },
    );
  }

  setCursor(groupId: string, seq: number) {
    return this.request("PUT", `/v1/groups/${encodeURIComponent(groupId)}/cursor`, {
      body: { seq },
      schema: Empty,
    });
  }

  mailbox(after: number) {
    return this.request("GET", `/v1/mailbox?after=${after}`, { schema: MailboxPage });
  }

  ackMailbox(upTo: number) {
    return this.request("POST", "/v1/mailbox/ack", { body: { upTo }, schema: Empty });
  }

  uploadBlob(groupId: string, bytes: Uint8Array) {
    return this.request("POST", `/v1/groups/${encodeURIComponent(groupId)}/blobs`, {
      bytes,
      schema: BlobStored,
    });
  }

  /** The raw bytes of a blob. */
  downloadBlob(blobId: string): Promise<Uint8Array> {
    return this.download(`/v1/blobs/${encodeURIComponent(blobId)}`);
  }

  // --- group administration ------------------------------------------------------

  setGroupAdmin(groupId: string, userId: string, admin: boolean) {
    return this.request(admin ? "PUT" : "DELETE", `${groupPath(groupId)}/admins/${enc(userId)}`, {
      schema: GroupSummary,
    });
  }

  updateGroupSettings(groupId: string, body: GroupSettingsRequest) {
    return this.request("PATCH", `${groupPath(groupId)}/settings`, { body, schema: GroupSummary });
  }

  updateGroupInfo(groupId: string, body: GroupInfoRequest) {
    return this.request("PATCH", `${groupPath(groupId)}/info`, { body, schema: GroupSummary });
  }

  /** Leaves a group: this user's devices go at once; the others commit the removal. */
  leaveGroup(groupId: string) {
    return this.request("DELETE", `${groupPath(groupId)}/members/me`, { schema: NoContent });
  }

  requestToJoinGroup(groupId: string) {
    return this.request("POST", `${groupPath(groupId)}/requests`, { schema: NoContent });
  }

  groupRequests(groupId: string) {
    return this.request("GET", `${groupPath(groupId)}/requests`, { schema: JoinRequestList });
  }

  /** Turns a request down (a decider), or withdraws one's own (one's own user id). */
  dismissGroupRequest(groupId: string, userId: string) {
    return this.request("DELETE", `${groupPath(groupId)}/requests/${enc(userId)}`, {
      schema: NoContent,
    });
  }

  // --- communities -------------------------------------------------------------

  createCommunity(body: CreateCommunityRequest) {
    return this.request("POST", "/v1/communities", { body, schema: CommunityView });
  }

  communities() {
    return this.request("GET", "/v1/communities", { schema: CommunityList });
  }

  community(communityId: string) {
    return this.request("GET", communityPath(communityId), { schema: CommunityView });
  }

  updateCommunity(communityId: string, body: UpdateCommunityRequest) {
    return this.request("PATCH", communityPath(communityId), { body, schema: CommunityView });
  }

  deactivateCommunity(communityId: string) {
    return this.request("DELETE", communityPath(communityId), { schema: NoContent });
  }

  /** PNG, JPEG or WebP bytes; `contentType` names which (the server checks the bytes). */
  setCommunityPhoto(communityId: string, bytes: Uint8Array, contentType: string) {
    return this.request("PUT", `${communityPath(communityId)}/photo`, {
      bytes,
      contentType,
      schema: CommunityView,
    });
  }

  communityPhoto(communityId: string): Promise<Uint8Array> {
    return this.download(`${communityPath(communityId)}/photo`);
  }

  removeCommunityPhoto(communityId: string) {
    return this.request("DELETE", `${communityPath(communityId)}/photo`, {
      schema: CommunityView,
    });
  }

  transferCommunityOwnership(communityId: string, userId: string) {
    return this.request("POST", `${communityPath(communityId)}/owner`, {
      body: { userId },
      schema: CommunityView,
    });
  }

  setCommunityAdmin(communityId: string, userId: string, admin: boolean) {
    return this.request(
      admin ? "PUT" : "DELETE",
      `${communityPath(communityId)}/admins/${enc(userId)}`,
      { schema: CommunityView },
    );
  }

  communityMembers(communityId: string) {
    return this.request("GET", `${communityPath(communityId)}/members`, {
      schema: CommunityMemberList,
    });
  }

  /** Removes a member (admins), or leaves when `userId` is the caller's own. */
  removeCommunityMember(communityId: string, userId: string) {
    return this.request("DELETE", `${communityPath(communityId)}/members/${enc(userId)}`, {
      schema: NoContent,
    });
  }

  createInvite(communityId: string, body: { expiresInSeconds?: number } = {}) {
    return this.request("POST", `${communityPath(communityId)}/invites`, { body, schema: Invite });
  }

  invites(communityId: string) {
    return this.request("GET", `${communityPath(communityId)}/invites`, { schema: InviteList });
  }

  revokeInvite(communityId: string, code: string) {
    return this.request("DELETE", `${communityPath(communityId)}/invites/${enc(code)}`, {
      schema: NoContent,
    });
  }

  previewInvite(code: string) {
    return this.request("GET", `/v1/invites/${enc(code)}`, { schema: InvitePreview });
  }

  joinByInvite(code: string) {
    return this.request("POST", `/v1/invites/${enc(code)}/join`, { schema: JoinResult });
  }

  communityRequests(communityId: string) {
    return this.request("GET", `${communityPath(communityId)}/requests`, {
      schema: JoinRequestList,
    });
  }

  answerCommunityRequest(communityId: string, userId: string, approve: boolean) {
    const path = `${communityPath(communityId)}/requests/${enc(userId)}`;
    return approve
      ? this.request("POST", `${path}/approve`, { schema: NoContent })
      : this.request("DELETE", path, { schema: NoContent });
  }

  groupDirectory(communityId: string) {
    return this.request("GET", `${communityPath(communityId)}/groups`, { schema: Directory });
  }

  /** A new group in the community, with this device alone in it at epoch 0. */
  createCommunityGroup(communityId: string, body: { name: string; description?: string }) {
    return this.request("POST", `${communityPath(communityId)}/groups`, {
      body,
      schema: GroupSummary,
    });
  }

  linkGroup(communityId: string, groupId: string) {
    return this.request("POST", `${communityPath(communityId)}/links`, {
      body: { groupId },
      schema: LinkResult,
    });
  }

  unlinkGroup(communityId: string, groupId: string) {
    return this.request("DELETE", `${communityPath(communityId)}/groups/${enc(groupId)}`, {
      schema: NoContent,
    });
  }

  groupSuggestions(communityId: string) {
    return this.request("GET", `${communityPath(communityId)}/suggestions`, {
      schema: SuggestionList,
    });
  }

  answerGroupSuggestion(communityId: string, groupId: string, approve: boolean) {
    const path = `${communityPath(communityId)}/suggestions/${enc(groupId)}`;
    return approve
      ? this.request("POST", `${path}/approve`, { schema: NoContent })
      : this.request("DELETE", path, { schema: NoContent });
  }

  // --- channels (public: plain HTTP, no end-to-end encryption) -----------------

  createChannel(body: CreateChannelRequest) {
    return this.request("POST", "/v1/channels", { body, schema: ChannelView });
  }

  /** The directory: search by name or handle, filter by category or country, sort. */
  channelDirectory(query: ChannelDirectoryQuery = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString() ? `?${params.toString()}` : "";
    return this.request("GET", `/v1/channels${search}`, { schema: ChannelDirectory });
  }

  /** Channels the caller follows or administers. */
  myChannels() {
    return this.request("GET", "/v1/me/channels", { schema: ChannelDirectory });
  }

  iceServers() {
    return this.request("GET", "/v1/calls/ice-servers", { schema: IceServerList });
  }

  channelInvitations() {
    return this.request("GET", "/v1/me/channel-invitations", { schema: ChannelDirectory });
  }

  channelByInvite(code: string) {
    return this.request("GET", `/v1/channel-invites/${enc(code)}`, { schema: ChannelView });
  }

  channel(channelId: string) {
    return this.request("GET", channelPath(channelId), { schema: ChannelView });
  }

  /** The channel as changed, or the change held for review (a HeldItem, `state: "held"`). */
  updateChannel(channelId: string, body: UpdateChannelRequest) {
    return this.request("PATCH", channelPath(channelId), { body, schema: ChannelOrHeld });
  }

  deleteChannel(channelId: string) {
    return this.request("DELETE", channelPath(channelId), { schema: NoContent });
  }

  /** Sets or clears the verified badge (platform admins). */
  setChannelVerified(channelId: string, verified: boolean) {
    return this.request(verified ? "PUT" : "DELETE", `${channelPath(channelId)}/verified`, {
      schema: NoContent,
    });
  }

  /** Follows, or changes `muted` when already following. */
  followChannel(channelId: string, muted = false) {
    return this.request("PUT", `${channelPath(channelId)}/follow`, {
      body: { muted },
      schema: ChannelView,
    });
  }

  unfollowChannel(channelId: string) {
    return this.request("DELETE", `${channelPath(channelId)}/follow`, { schema: NoContent });
  }

  channelAdmins(channelId: string) {
    return this.request("GET", `${channelPath(channelId)}/admins`, { schema: ChannelAdminList });
  }

  inviteChannelAdmin(channelId: string, userId: string) {
    return this.request("POST", `${channelPath(channelId)}/admins`, {
      body: { userId },
      schema: NoContent,
    });
  }

  acceptChannelAdmin(channelId: string) {
    return this.request("PUT", `${channelPath(channelId)}/admins/me`, { schema: ChannelView });
  }

  /** Removes an admin or withdraws an invitation (owner); `me` steps down. */
  removeChannelAdmin(channelId: string, userId: string) {
    return this.request("DELETE", `${channelPath(channelId)}/admins/${enc(userId)}`, {
      schema: NoContent,
    });
  }

  transferChannel(channelId: string, userId: string) {
    return this.request("POST", `${channelPath(channelId)}/owner`, {
      body: { userId },
      schema: ChannelView,
    });
  }

  /** Posts as the channel; a resend with the same `id` answers the stored post. */
  createChannelPost(channelId: string, body: CreatePostRequest) {
    return this.request("POST", `${channelPath(channelId)}/posts`, { body, schema: PostOrHeld });
  }

  channelPosts(channelId: string, after = 0, limit = 50) {
    return this.request("GET", `${channelPath(channelId)}/posts?after=${after}&limit=${limit}`, {
      schema: ChannelPostPage,
    });
  }

  editChannelPost(channelId: string, seq: number, text: string) {
    return this.request("PATCH", `${channelPostPath(channelId, seq)}`, {
      body: { text },
      schema: PostOrHeld,
    });
  }

  deleteChannelPost(channelId: string, seq: number) {
    return this.request("DELETE", channelPostPath(channelId, seq), { schema: NoContent });
  }

  /** Reacts with `emoji`, or takes the reaction back (null). */
  reactToChannelPost(channelId: string, seq: number, emoji: string | null) {
    const path = `${channelPostPath(channelId, seq)}/reaction`;
    return emoji === null
      ? this.request("DELETE", path, { schema: ChannelPost })
      : this.request("PUT", path, { body: { emoji }, schema: ChannelPost });
  }

  /** Who reacted (admins): a per-channel handle, the name, the photo if allowed. */
  channelReactions(channelId: string, seq: number) {
    return this.request("GET", `${channelPostPath(channelId, seq)}/reactions`, {
      schema: FollowerInteractionList,
    });
  }

  /** Votes with option indexes (replacing any vote), or withdraws the vote (null). */
  voteInChannelPoll(channelId: string, seq: number, options: number[] | null) {
    const path = `${channelPostPath(channelId, seq)}/vote`;
    return options === null
      ? this.request("DELETE", path, { schema: ChannelPost })
      : this.request("PUT", path, { body: { options }, schema: ChannelPost });
  }

  /** Who voted for what (admins): a per-channel handle, the name, the photo if allowed. */
  channelVotes(channelId: string, seq: number) {
    return this.request("GET", `${channelPostPath(channelId, seq)}/votes`, {
      schema: FollowerVoteList,
    });
  }

  /** A follower's photo by the path a reaction or vote list gave (admins). */
  followerPhoto(photoPath: string): Promise<Uint8Array> {
    if (!/^\/v1\/channels\/[^/]+\/followers\/[^/]+\/photo$/.test(photoPath)) {
      return Promise.reject(new VeilError("bad_response"));
    }
    return this.download(photoPath);
  }

  /** Closes a post's poll now (admins). */
  closeChannelPoll(channelId: string, seq: number) {
    return this.request("POST", `${channelPostPath(channelId, seq)}/poll/close`, {
      schema: ChannelPost,
    });
  }

  /** Uploads a file for posts (admins): the server sniffs its type and checks its size. */
  uploadChannelMedia(channelId: string, bytes: Uint8Array) {
    return this.request("POST", `${channelPath(channelId)}/media`, { bytes, schema: ChannelMedia });
  }

  /** A channel file's bytes (anyone the channel is shown to). */
  channelMedia(channelId: string, mediaId: string): Promise<Uint8Array> {
    return this.download(`${channelPath(channelId)}/media/${enc(mediaId)}`);
  }

  /** PNG, JPEG or WebP bytes (admins); `contentType` names which (the server checks the bytes). */
  setChannelPhoto(channelId: string, bytes: Uint8Array, contentType: string) {
    return this.request("PUT", `${channelPath(channelId)}/photo`, {
      bytes,
      contentType,
      schema: ChannelOrHeld,
    });
  }

  channelPhoto(channelId: string): Promise<Uint8Array> {
    return this.download(`${channelPath(channelId)}/photo`);
  }

  removeChannelPhoto(channelId: string) {
    return this.request("DELETE", `${channelPath(channelId)}/photo`, { schema: ChannelView });
  }

  /** Suspends the channel with a reason, or lifts the suspension (null) (platform admins). */
  setChannelSuspension(channelId: string, reason: string | null) {
    const path = `${channelPath(channelId)}/suspension`;
    return reason === null
      ? this.request("DELETE", path, { schema: NoContent })
      : this.request("PUT", path, { body: { reason }, schema: NoContent });
  }

  // --- moderation -------------------------------------------------------------------

  /** Reports a channel, a post, or a person met in a chat (with what the reporter attaches). */
  report(body: ReportRequest) {
    return this.request("POST", "/v1/reports", { body, schema: ReportReceipt });
  }

  /** What is held, decided and why a channel is suspended (its owner and admins). */
  channelModeration(channelId: string) {
    return this.request("GET", `${channelPath(channelId)}/moderation`, {
      schema: ChannelModeration,
    });
  }

  /** The channel's owner appeals a violation, once. */
  appeal(body: AppealRequest) {
    return this.request("POST", "/v1/moderation/appeals", { body, schema: AppealReceipt });
  }

  /** The review queue (platform moderators and admins): highest risk, then oldest, first. */
  moderationQueue(status: "open" | "closed" = "open", limit = 50) {
    return this.request("GET", `/v1/moderation/queue?status=${status}&limit=${limit}`, {
      schema: ModerationQueue,
    });
  }

  moderationCase(caseId: string) {
    return this.request("GET", `/v1/moderation/cases/${enc(caseId)}`, { schema: CaseDetail });
  }

  claimCase(caseId: string) {
    return this.request("POST", `/v1/moderation/cases/${enc(caseId)}/claim`, {
      schema: CaseResponse,
    });
  }

  noteCase(caseId: string, text: string) {
    return this.request("POST", `/v1/moderation/cases/${enc(caseId)}/notes`, {
      body: { text },
      schema: CaseResponse,
    });
  }

  decideCase(caseId: string, body: DecisionRequest) {
    return this.request("POST", `/v1/moderation/cases/${enc(caseId)}/decision`, {
      body,
      schema: CaseResponse,
    });
  }

  /** Open appeals (oldest first), or decided ones. */
  moderationAppeals(status: "open" | "decided" = "open") {
    return this.request("GET", `/v1/moderation/appeals?status=${status}`, { schema: AppealList });
  }

  /** A file of a case: a held photo, a held post's media, or a reported post's (moderators). */
  caseMedia(caseId: string, mediaId: string): Promise<Uint8Array> {
    return this.download(`/v1/moderation/cases/${enc(caseId)}/media/${enc(mediaId)}`);
  }

  decideAppeal(appealId: string, body: AppealDecisionRequest) {
    return this.request("POST", `/v1/moderation/appeals/${enc(appealId)}/decision`, {
      body,
      schema: Empty,
    });
  }

  /** The audit log, newest first; pass the last page's `next` to read further back. */
  moderationAudit(before?: string) {
    const query = before ? `?before=${enc(before)}` : "";
    return this.request("GET", `/v1/moderation/audit${query}`, { schema: AuditPage });
  }

  /** The channel with this handle. */
  channelByHandle(handle: string) {
    return this.request("GET", `/v1/channels/by-handle/${enc(handle)}`, { schema: ChannelView });
  }

  /** GETs raw bytes (a blob, a photo), signing in again once if the session expired. */
  private async download(path: string): Promise<Uint8Array> {
    let response = await this.send("GET", path, { schema: Empty }, true);
    if (response.status === 401 && this.options.reauthenticate) {
      await response.arrayBuffer().catch(() => undefined);
      if (await this.options.reauthenticate())
        response = await this.send("GET", path, { schema: Empty }, true);
    }
    if (!response.ok) throw await readError(response);
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw new VeilError("network_error", undefined, { cause: err });
    }
  }
}

const enc = encodeURIComponent;
const groupPath = (groupId: string) => `/v1/groups/${enc(groupId)}`;
const communityPath = (communityId: string) => `/v1/communities/${enc(communityId)}`;
const channelPath = (channelId: string) => `/v1/channels/${enc(channelId)}`;
const channelPostPath = (channelId: string, seq: number) =>
  `${channelPath(channelId)}/posts/${Math.trunc(seq)}`;

/** What the channel directory filters and sorts by. */
export interface ChannelDirectoryQuery {
  /** Words of the name or handle. */
  q?: string;
  category?: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string;
  sort?: "new" | "active" | "popular";
  limit?: number;
}

async function readError(response: Response): Promise<VeilError> {
  let code: string | undefined;
  let message: string | undefined;
  let category: string | undefined;
  try {
    const body = (await response.json()) as {
      error?: { code?: unknown; message?: unknown; category?: unknown };
    };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
    if (typeof body.error?.category === "string") category = body.error.category;
  } catch {
    // not our error shape
  }
  if (code !== undefined && isErrorCode(code)) {
    return new VeilError(code, message, {
      status: response.status,
      ...(category ? { category } : {}),
    });
  }
  return new VeilError("bad_response", `HTTP ${response.status}`, { status: response.status });
}
