import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { GroupKind } from "@veil/protocol";
import { VeilError } from "./errors.js";
import type { Json, StoreOp, StoreValue, VeilStore } from "./store/store.js";

// The records a client keeps, by namespace. Each JSON record is checked
// against its schema when read: a store is data from disk, not our own memory.

const Str = Type.String();
const Int = Type.Integer();
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IdentityRecord = Type.Object({ seed: Str, publicKey: Str });
export const AccountRecord = Type.Object({ userId: Str, deviceId: Str, serverUrl: Str });
export const SessionRecord = Type.Object({ id: Str, token: Str });
export const LinkRecord = Type.Object({ linkId: Str, secret: Str, code: Str, expiresAt: Str });
export const MailboxRecord = Type.Object({ position: Int });
export type LinkRecord = Static<typeof LinkRecord>;

export const GroupMeta = Type.Object({
  groupId: Str,
  kind: GroupKind,
  /** The other user of a direct chat. */
  peerUserId: Nullable(Str),
  /** The last log entry processed. */
  cursor: Int,
  joinedSeq: Int,
  /** False once this device was removed. */
  active: Type.Boolean(),
  /** Device id to user id, as the server's member lists named them (kept after removal). */
  members: Type.Record(Str, Str),
  /** Set while a commit of ours is in flight: the epoch it was built on. */
  pendingCommitEpoch: Nullable(Int),
});
export type GroupMeta = Static<typeof GroupMeta>;

export const KeyPackageRecord = Type.Object({
  publicKeyPackage: Str,
  privateKeyPackage: Str,
  lastResort: Type.Boolean(),
  createdAt: Int,
});
export type KeyPackageRecord = Static<typeof KeyPackageRecord>;

export const OutboxRecord = Type.Object({
  groupId: Str,
  id: Str,
  createdAt: Int,
  envelope: Type.Unknown(),
});
export type OutboxRecord = Static<typeof OutboxRecord>;

export const HistoryRecord = Type.Object({
  groupId: Str,
  seq: Int,
  senderUserId: Nullable(Str),
  senderDeviceId: Str,
  fromMe: Type.Boolean(),
  storedAt: Int,
  envelope: Type.Unknown(),
});
export type HistoryRecord = Static<typeof HistoryRecord>;

export const PendingDeviceRecord = Type.Object({ since: Int, done: Type.Array(Str) });
export type PendingDeviceRecord = Static<typeof PendingDeviceRecord>;

/** A community's announcement group as this device reads it (no MLS state: sender keys). */
export const AnnouncementMeta = Type.Object({
  groupId: Str,
  communityId: Nullable(Str),
  /** The last log entry processed. */
  cursor: Int,
  joinedSeq: Int,
  /** False once this device left the announcement group (or the community ended). */
  active: Type.Boolean(),
  /** The community's admins when last asked: whose sender keys and posts are accepted. */
  admins: Type.Array(Str),
});
export type AnnouncementMeta = Static<typeof AnnouncementMeta>;

/** An admin device's record of who holds its current sender key in an announcement group. */
export const KeyDistributionRecord = Type.Object({
  /** The current own key's id (hex). */
  keyId: Str,
  /** The group's member devices (device id to user id) at the last post: a removal rotates. */
  members: Type.Record(Str, Str),
  /** Devices that received the current key over a key channel. */
  delivered: Type.Array(Str),
});
export type KeyDistributionRecord = Static<typeof KeyDistributionRecord>;

/** A sender key received from an admin device over a key channel. */
export const ReceivedKeyRecord = Type.Object({
  senderUserId: Str,
  senderDeviceId: Str,
  /** `serializeSenderKey` of the state, base64url. */
  state: Str,
});
export type ReceivedKeyRecord = Static<typeof ReceivedKeyRecord>;

/** A reaction to an announcement, as the admins' devices record it (R6: they see who). */
export const ReactionRecord = Type.Object({ userId: Str, emoji: Str, at: Int });
export type ReactionRecord = Static<typeof ReactionRecord>;

/** The counts an admin published for an announcement (all that members see). */
export const ReactionCountsRecord = Type.Object({
  counts: Type.Record(Str, Int),
  /** The publishing envelope's clock: a later publication replaces an earlier one. */
  at: Int,
});
export type ReactionCountsRecord = Static<typeof ReactionCountsRecord>;

/**
 * How far this device has read a followed channel (the last post sequence
 * shown), and whether the channel is muted (absent in records kept before
 * mute was stored: not muted).
 */
export const ChannelCursorRecord = Type.Object({
  cursor: Int,
  muted: Type.Optional(Type.Boolean()),
});

export const ns = {
  device: "device",
  mls: "mls",
  pendingMls: "pending-mls",
  groups: "groups",
  keyPackages: "key-packages",
  outbox: "outbox",
  messages: "messages",
  seen: "seen",
  /** Stored call actions (HistoryRecord): `<groupId>/<callId>/<messageId>`. */
  calls: "calls",
  deviceKeys: "device-keys",
  pendingDevices: "pending-devices",
  announcements: "announcements",
  /** This device's own sender key per announcement group (bytes). */
  ownSenderKeys: "own-sender-keys",
  keyDistribution: "key-distribution",
  /** `<announcementGroupId>/<senderDeviceId>/<keyId hex>`. */
  senderKeys: "sender-keys",
  /** Announcement posts whose sender key has not arrived: `<groupId>/<seq padded>`. */
  pendingPosts: "pending-posts",
  /** `<groupId>/<messageId>/<userId>` (admins only). */
  reactions: "reactions",
  reactionCounts: "reaction-counts",
  /** Announcements of this device whose counts are to publish: `<groupId>/<messageId>`. */
  countsDue: "counts-due",
  /** Followed channels: `<channelId>` to how far this device has read. */
  channelCursors: "channel-cursors",
} as const;

/** Typed access to a VeilStore. */
export class LocalState {
  constructor(readonly store: VeilStore) {}

  async json<T extends TSchema>(
    schema: T,
    namespace: string,
    key: string,
  ): Promise<Static<T> | undefined> {
    const value = await this.store.get(namespace, key);
    if (value === undefined) return undefined;
    return checked(schema, value, namespace, key);
  }

  async bytes(namespace: string, key: string): Promise<Uint8Array | undefined> {
    const value = await this.store.get(namespace, key);
    if (value === undefined) return undefined;
    if (!(value instanceof Uint8Array)) throw corrupt(namespace, key);
    return value;
  }

  async listJson<T extends TSchema>(
    schema: T,
    namespace: string,
    prefix?: string,
  ): Promise<Array<{ key: string; value: Static<T> }>> {
    const entries = await this.store.list(namespace, prefix);
    return entries.map((e) => ({ key: e.key, value: checked(schema, e.value, namespace, e.key) }));
  }

  async keys(namespace: string, prefix?: string): Promise<string[]> {
    return (await this.store.list(namespace, prefix)).map((e) => e.key);
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    return this.store.write(ops);
  }
}

export const put = (namespace: string, key: string, value: Json | Uint8Array): StoreOp => ({
  type: "put",
  ns: namespace,
  key,
  value,
});

export const del = (namespace: string, key: string): StoreOp => ({
  type: "delete",
  ns: namespace,
  key,
});

/** A record as JSON for the store (the schemas above only hold JSON). */
export const asJson = (value: object): Json => value as Json;

function checked<T extends TSchema>(
  schema: T,
  value: StoreValue,
  namespace: string,
  key: string,
): Static<T> {
  if (value instanceof Uint8Array || !Value.Check(schema, value)) throw corrupt(namespace, key);
  return value;
}

function corrupt(namespace: string, key: string): VeilError {
  return new VeilError("store_corrupt", `The record ${namespace}/${key} cannot be read`);
}

/** Sorts lexically like numbers: history keys are `<groupId>/<seq padded>`. */
export const seqKey = (groupId: string, seq: number): string =>
  `${groupId}/${String(seq).padStart(15, "0")}`;
