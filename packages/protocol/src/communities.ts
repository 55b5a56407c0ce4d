import { type Static, Type } from "@sinclair/typebox";
import { GroupDescription, GroupName } from "./messaging.js";
import { VisibleProfile } from "./profiles.js";

const EntityId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Timestamp = Type.String({ format: "date-time" });
const Audience = Type.Union([Type.Literal("members"), Type.Literal("admins")]);

export const CommunityRole = Type.Union([
  Type.Literal("owner"),
  Type.Literal("admin"),
  Type.Literal("member"),
]);
export type CommunityRole = Static<typeof CommunityRole>;

export const CreateCommunityRequest = Type.Object(
  { name: GroupName, description: Type.Optional(GroupDescription) },
  { additionalProperties: false },
);
export type CreateCommunityRequest = Static<typeof CreateCommunityRequest>;

export const UpdateCommunityRequest = Type.Object(
  {
    name: Type.Optional(GroupName),
    description: Type.Optional(GroupDescription),
    /** New members (by invite link) wait for an admin's approval. Off by default. */
    approveMembers: Type.Optional(Type.Boolean()),
    /** Who may add groups: every member (admins approve members' suggestions) or admins only. */
    groupAddPolicy: Type.Optional(Audience),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCommunityRequest = Static<typeof UpdateCommunityRequest>;

/** A community as one of its members sees it. Members are never listed here. */
export const CommunityView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  /** The community photo's address (GET it), or null. */
  photo: Type.Union([Type.String(), Type.Null()]),
  /** The caller's role. */
  role: CommunityRole,
  memberCount: Type.Integer(),
  groupCount: Type.Integer(),
  announcementGroupId: Type.String(),
  approveMembers: Type.Boolean(),
  groupAddPolicy: Audience,
  /** The admins (owner first) as the caller may see them (R5). */
  admins: Type.Array(VisibleProfile),
  limits: Type.Object({
    groups: Type.Integer(),
    groupMembers: Type.Integer(),
    announcementMembers: Type.Integer(),
  }),
  createdAt: Timestamp,
});
export type CommunityView = Static<typeof CommunityView>;
export const CommunityList = Type.Object({ communities: Type.Array(CommunityView) });

export const CommunityIdParams = Type.Object({ communityId: EntityId });
export const CommunityUserParams = Type.Object({ communityId: EntityId, userId: EntityId });
export const CommunityGroupParams = Type.Object({ communityId: EntityId, groupId: EntityId });
export const InviteCodeParams = Type.Object({
  code: Type.String({ minLength: 16, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }),
});
export const CommunityInviteParams = Type.Object({
  communityId: EntityId,
  code: InviteCodeParams.properties.code,
});

/** Community members as its admins see them (R6): id, name, phone, photo if allowed. */
export const CommunityMember = Type.Object({
  profile: VisibleProfile,
  role: CommunityRole,
  joinedAt: Timestamp,
});
export const CommunityMemberList = Type.Object({ members: Type.Array(CommunityMember) });

export const CreateInviteRequest = Type.Object(
  {
    /** Seconds until the link expires (default 7 days; at most 1 year). */
    expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 31_536_000 })),
  },
  { additionalProperties: false },
);
export const Invite = Type.Object({
  code: Type.String(),
  expiresAt: Timestamp,
  createdAt: Timestamp,
});
export type Invite = Static<typeof Invite>;
export const InviteList = Type.Object({ invites: Type.Array(Invite) });

/** What an invite link shows before joining: no member of the community is named. */
export const InvitePreview = Type.Object({
  communityId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  memberCount: Type.Integer(),
  approveMembers: Type.Boolean(),
});
export type InvitePreview = Static<typeof InvitePreview>;

export const JoinResult = Type.Object({
  /** `joined`, or `pending` while an admin has to approve. */
  status: Type.Union([Type.Literal("joined"), Type.Literal("pending")]),
  communityId: Type.String(),
});
export type JoinResult = Static<typeof JoinResult>;

/** A group in the community's directory: no member is named. */
export const DirectoryEntry = Type.Object({
  groupId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  size: Type.Integer(),
  /** The caller is a member. */
  joined: Type.Boolean(),
  /** The caller asked to join and waits. */
  requested: Type.Boolean(),
});
export type DirectoryEntry = Static<typeof DirectoryEntry>;
export const Directory = Type.Object({ groups: Type.Array(DirectoryEntry) });

export const LinkGroupRequest = Type.Object({ groupId: EntityId }, { additionalProperties: false });
export const LinkResult = Type.Object({
  /** `linked`, or `suggested` when only admins add groups and the caller is not one. */
  status: Type.Union([Type.Literal("linked"), Type.Literal("suggested")]),
});

export const Suggestion = Type.Object({
  groupId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  size: Type.Integer(),
  suggestedBy: VisibleProfile,
  createdAt: Timestamp,
});
export const SuggestionList = Type.Object({ suggestions: Type.Array(Suggestion) });

export const TransferOwnershipRequest = Type.Object(
  { userId: EntityId },
  { additionalProperties: false },
);
