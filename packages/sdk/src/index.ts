export type {
  AppealView,
  AuditEntry,
  CaseDetail,
  ChannelDecision,
  ChannelMedia,
  ChannelModeration,
  ChannelPoll,
  ChannelPost,
  ChannelView,
  CommunityRole,
  CommunityView,
  DirectoryEntry,
  GroupSummary,
  GuidelineCategory,
  HeldItem,
  IceServer,
  Invite,
  InvitePreview,
  JoinRequest,
  JoinResult,
  ModerationCase,
  ReportReason,
} from "@veil/protocol";
export { guidelineCategories } from "@veil/protocol";
export type { Account, DeviceLinkOffer, RegisterInput } from "./account.js";
export { linkFingerprint, parseLinkUri } from "./account.js";
export type { AnnouncementReaction } from "./announcement-reactions.js";
export type { AnnouncementContent } from "./announcements.js";
export { ApiClient, type ApiClientOptions, type ChannelDirectoryQuery } from "./api-client.js";
export { decryptAttachment, encryptAttachment } from "./attachments.js";
export { type CallSignal, maxCallParticipants } from "./calls.js";
export {
  type ChannelLink,
  type ChannelPostContent,
  forwardedChannelPost,
  parseChannelLink,
} from "./channel-feed.js";
export type { ChatInfo } from "./chats.js";
export { VeilClient, type VeilClientOptions } from "./client.js";
export {
  browserWebSocket,
  type SocketHandlers,
  type SocketLike,
  type WebSocketFactory,
} from "./connection.js";
export {
  AttachmentRef,
  CallEnvelope,
  CallFingerprint,
  Envelope,
  type EnvelopeType,
  encodeEnvelope,
  envelopeVersion,
  parseEnvelope,
} from "./envelope.js";
export {
  type ClientErrorCode,
  clientErrorCodes,
  isVeilError,
  VeilError,
  type VeilErrorCode,
} from "./errors.js";
export type {
  CallEvent,
  CallHistoryEntry,
  CallMedia,
  CallMediaKey,
  CallPayload,
  CallState,
  ChannelCountsEvent,
  ChannelPostDeletedEvent,
  ChannelPostEvent,
  ChatMessage,
  CommunityEvent,
  ConnectionEvent,
  DeviceLinkedEvent,
  ErrorEvent,
  JoinRequestEvent,
  Member,
  MembershipEvent,
  MessageContent,
  ReactionCountsEvent,
  ReceiptEvent,
  SentEvent,
  TypingEvent,
  VeilEvents,
} from "./events.js";
export { Emitter } from "./events.js";
export { DeviceIdentity, verifySignature } from "./identity.js";
export { type Logger, silentLogger } from "./logger.js";
export type { SendResult } from "./messaging.js";
export { isHeld, maxReportedMessages } from "./moderation.js";
export { IndexedDbStore } from "./store/indexeddb-store.js";
export { MemoryStore } from "./store/memory-store.js";
export type { Json, StoreEntry, StoreOp, StoreValue, VeilStore } from "./store/store.js";
