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

export const CreateGroupRequest = Type.Union([
  Type.Object({ kind: Type.Literal("group") }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal("direct"), peerUserId: EntityId },
    { additionalProperties: false },
  ),
]);
export type CreateGroupRequest = Static<typeof CreateGroupRequest>;

export const GroupMember = Type.Object({ userId: Type.String(), deviceId: Type.String() });

export const GroupSummary = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal("group"), Type.Literal("direct")]),
  /** A direct chat: the other person (even before their devices joined). */
  peerUserId: Type.Optional(Type.String()),
  epoch: Type.Integer(),
  lastSeq: Type.Integer(),
  /** What this device has acknowledged reading. */
  cursor: Type.Integer(),
  /** The log entry this device joined at; it reads only after it. */
  joinedSeq: Type.Integer(),
  members: Type.Array(GroupMember),
  /** Users who administer the group (a direct chat has none). */
  admins: Type.Array(Type.String()),
  /** Who may send: every member, or the admins only. */
  sendPolicy: Type.Union([Type.Literal("all"), Type.Literal("admins")]),
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
export const SignalRequest = Type.Object(
  { message: MlsBytes(16_384) },
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
  { sendPolicy: Type.Union([Type.Literal("all"), Type.Literal("admins")]) },
  { additionalProperties: false },
);
export type GroupSettingsRequest = Static<typeof GroupSettingsRequest>;
