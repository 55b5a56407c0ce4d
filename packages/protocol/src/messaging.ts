import { type Static, Type } from "@sinclair/typebox";

/** MLS bytes on the wire: base64url without padding. */
const MlsBytes = (maxLength: number) =>
  Type.String({ pattern: "^[A-Za-z0-9_-]+$", minLength: 4, maxLength });
const EntityId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const UploadKeyPackagesRequest = Type.Object(
  {
    keyPackages: Type.Array(MlsBytes(16_384), { maxItems: 100 }),
    /** Used when the one-time packages run out; replaces the previous one. */
    lastResort: Type.Optional(MlsBytes(16_384)),
  },
  { additionalProperties: false },
);
export type UploadKeyPackagesRequest = Static<typeof UploadKeyPackagesRequest>;

export const KeyPackageStock = Type.Object({
  oneTime: Type.Integer(),
  lastResort: Type.Boolean(),
});
export type KeyPackageStock = Static<typeof KeyPackageStock>;

export const ClaimKeyPackagesRequest = Type.Object(
  {
    userIds: Type.Array(EntityId, { minItems: 1, maxItems: 50 }),
    /** Only these devices of those users (say, the one device just linked). */
    deviceIds: Type.Optional(Type.Array(EntityId, { minItems: 1, maxItems: 500 })),
  },
  { additionalProperties: false },
);

export const ClaimedKeyPackage = Type.Object({
  userId: Type.String(),
  deviceId: Type.String(),
  keyPackage: Type.String(),
});
export const ClaimKeyPackagesResponse = Type.Object({ devices: Type.Array(ClaimedKeyPackage) });
export type ClaimKeyPackagesResponse = Static<typeof ClaimKeyPackagesResponse>;

/** A group's name and description: stored by the server, shown in a community's directory. */
export const GroupName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: "^\\s*[^\\s\\u0000][^\\u0000]*$",
});
export const GroupDescription = Type.String({ maxLength: 2048, pattern: "^[^\\u0000]*$" });

export const CreateGroupRequest = Type.Union([
  Type.Object(
    {
      kind: Type.Literal("group"),
      name: Type.Optional(GroupName),
      description: Type.Optional(GroupDescription),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("direct"), peerUserId: EntityId },
    { additionalProperties: false },
  ),
  /**
   * A pairwise MLS group that carries announcement keys between a community
   * admin and a member (never a chat: it creates no relation between them).
   */
  Type.Object(
    { kind: Type.Literal("keys"), peerUserId: EntityId },
    { additionalProperties: false },
  ),
]);
export type CreateGroupRequest = Static<typeof CreateGroupRequest>;

export const GroupMember = Type.Object({ userId: Type.String(), deviceId: Type.String() });

export const GroupKind = Type.Union([
  Type.Literal("group"),
  Type.Literal("direct"),
  Type.Literal("announcement"),
  Type.Literal("keys"),
]);
export type GroupKind = Static<typeof GroupKind>;
const Audience = Type.Union([Type.Literal("all"), Type.Literal("admins")]);

export const GroupSummary = Type.Object({
  id: Type.String(),
  /**
   * `group`, `direct` (1:1), `announcement` (a community's; sender-key
   * encrypted, only community admins post) or `keys` (carries announcement keys).
   */
  kind: GroupKind,
  name: Type.String(),
  description: Type.String(),
  /** The community it belongs to, if any. */
  communityId: Type.Union([Type.String(), Type.Null()]),
  /** Users in the group (an announcement group's members see only this). */
  memberCount: Type.Integer(),
  /** A direct chat or key channel: the other person (even before their devices joined). */
  peerUserId: Type.Optional(Type.String()),
  epoch: Type.Integer(),
  lastSeq: Type.Integer(),
  /** What this device has acknowledged reading. */
  cursor: Type.Integer(),
  /** The log entry this device joined at; it reads only after it. */
  joinedSeq: Type.Integer(),
  /**
   * Member devices. An announcement group lists them only to community
   * admins, and only in `GET /v1/groups/{id}` (empty in the list of groups).
   */
  members: Type.Array(GroupMember),
  /** Users who administer the group (a direct chat has none; an announcement group: the community's admins). */
  admins: Type.Array(Type.String()),
  /** Who may send: every member, or the admins only. */
  sendPolicy: Audience,
  /** Who may change the name and description. */
  infoPolicy: Audience,
  /** New members join only when an admin approves their request. */
  approveMembers: Type.Boolean(),
  /** For a direct chat that already existed: true. */
  existing: Type.Optional(Type.Boolean()),
});
export type GroupSummary = Static<typeof GroupSummary>;

export const CommitRequest = Type.Object(
  {
    /** The epoch the commit was built on: it must be the group's current one. */
    epoch: Seq,
    commit: MlsBytes(4_000_000),
    welcome: Type.Optional(MlsBytes(4_000_000)),
    /** Devices the commit adds (each got the welcome) and removes. */
    addDevices: Type.Optional(Type.Array(EntityId, { maxItems: 5000 })),
    removeDevices: Type.Optional(Type.Array(EntityId, { maxItems: 5000 })),
  },
  { additionalProperties: false },
);
export type CommitRequest = Static<typeof CommitRequest>;

export const SendMessageRequest = Type.Object(
  {
    /** The client's id for this message: a resend with the same id is stored once. */
    id: Type.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }),
    message: MlsBytes(200_000),
  },
  { additionalProperties: false },
);
export type SendMessageRequest = Static<typeof SendMessageRequest>;

/** An ephemeral MLS message (typing, say): pushed to connected members, never stored. */
/**
 * Room for a call's SDP offer (up to 32 KiB in the envelope, as base64 of its
 * MLS ciphertext): a group call's offers carry a media section per direction.
 */
export const maxSignalLength = 49_152;
export const SignalRequest = Type.Object(
  { message: MlsBytes(maxSignalLength) },
  { additionalProperties: false },
);

export const Signal = Type.Object({
  groupId: Type.String(),
  senderDeviceId: Type.String(),
  epoch: Type.Integer(),
  data: Type.String(),
});
export type Signal = Static<typeof Signal>;

export const Appended = Type.Object({
  seq: Type.Integer(),
  epoch: Type.Integer(),
  /** True when this id was already stored: nothing new was appended. */
  duplicate: Type.Boolean(),
});
export type Appended = Static<typeof Appended>;

export const LogEntry = Type.Object({
  groupId: Type.String(),
  seq: Type.Integer(),
  kind: Type.Union([Type.Literal("commit"), Type.Literal("application")]),
  epoch: Type.Integer(),
  senderDeviceId: Type.String(),
  id: Type.Union([Type.String(), Type.Null()]),
  data: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});
export type LogEntry = Static<typeof LogEntry>;

export const LogQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: "^\\d{1,15}$" })),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,4}$" })),
  },
  { additionalProperties: false },
);

export const LogPage = Type.Object({ entries: Type.Array(LogEntry), lastSeq: Type.Integer() });
export type LogPage = Static<typeof LogPage>;

export const CursorRequest = Type.Object({ seq: Seq }, { additionalProperties: false });

export const MailboxItem = Type.Object({
  seq: Type.Integer(),
  kind: Type.Union([
    Type.Literal("welcome"),
    Type.Literal("key_packages_low"),
    /** Another device joined your account: add it to your groups. */
    Type.Literal("device_linked"),
    /** A device left a group's member list: commit its removal from the MLS tree. */
    Type.Literal("remove_device"),
    /** This device was removed from a group (it will not see the commit that did it). */
    Type.Literal("removed_from_group"),
    /**
     * Someone asked to join a group this device's user may answer for, or a
     * community it administers (then `groupId` is the announcement group).
     */
    Type.Literal("join_request"),
    /** This device was added to an announcement group (no welcome: it needs the admins' keys). */
    Type.Literal("announcement_joined"),
  ]),
  groupId: Type.Union([Type.String(), Type.Null()]),
  /** welcome: the MLS Welcome (base64url). */
  data: Type.Union([Type.String(), Type.Null()]),
  /** welcome: the log entry (the commit) the device joins at. */
  joinedSeq: Type.Union([Type.Integer(), Type.Null()]),
  /** device_linked, remove_device: the device concerned. */
  deviceId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
});
export type MailboxItem = Static<typeof MailboxItem>;

export const MailboxPage = Type.Object({ items: Type.Array(MailboxItem) });
export type MailboxPage = Static<typeof MailboxPage>;

export const MailboxAckRequest = Type.Object({ upTo: Seq }, { additionalProperties: false });

export const GroupIdParams = Type.Object({ groupId: EntityId });
export const GroupUserParams = Type.Object({ groupId: EntityId, userId: EntityId });

export const GroupSettingsRequest = Type.Object(
  {
    sendPolicy: Type.Optional(Audience),
    infoPolicy: Type.Optional(Audience),
    approveMembers: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type GroupSettingsRequest = Static<typeof GroupSettingsRequest>;

export const GroupInfoRequest = Type.Object(
  { name: Type.Optional(GroupName), description: Type.Optional(GroupDescription) },
  { additionalProperties: false, minProperties: 1 },
);
export type GroupInfoRequest = Static<typeof GroupInfoRequest>;

/** Someone asking to join a group (shown to its admins: id, name, photo if allowed). */
export const JoinRequest = Type.Object({
  userId: Type.String(),
  name: Type.Optional(Type.String()),
  photo: Type.Optional(Type.String()),
  createdAt: Type.String({ format: "date-time" }),
});
export type JoinRequest = Static<typeof JoinRequest>;
export const JoinRequestList = Type.Object({ requests: Type.Array(JoinRequest) });
