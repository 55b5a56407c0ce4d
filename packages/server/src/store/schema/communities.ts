import type { Generated } from "kysely";

/** A community: related groups and one announcement group, under an owner and admins. */
export interface CommunitiesTable {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  /** Created with the community; every member is in it. */
  announcement_group_id: string;
  /** 1: people joining by link wait for an admin's approval. */
  approve_members: Generated<number>;
  /** Who may link groups: "members" (admins approve suggestions) or "admins". */
  group_add_policy: Generated<"members" | "admins">;
  photo: Buffer | null;
  photo_type: string | null;
  /** Set when the owner deactivated it: its groups were unlinked, its members let go. */
  deactivated_at: number | null;
  created_at: number;
}

/** A user's place in a community. Members are never listed to members (R4). */
export interface CommunityMembersTable {
  community_id: string;
  user_id: string;
  role: "owner" | "admin" | "member";
  joined_at: number;
}

/** An invite link: whoever holds the code may join (or ask to) until it expires or is revoked. */
export interface CommunityInvitesTable {
  code: string;
  community_id: string;
  created_by: string;
  expires_at: number;
  created_at: number;
}

/** Someone asking to join a community (by link, when approval is on) or a group. */
export interface JoinRequestsTable {
  /** A community id or a group id. */
  target_id: string;
  user_id: string;
  created_at: number;
}

/** A group a member proposed for the community, waiting for an admin. */
export interface GroupSuggestionsTable {
  community_id: string;
  group_id: string;
  suggested_by: string;
  created_at: number;
}

/** The one key channel (a pairwise MLS group) between two users. */
export interface KeyChannelsTable {
  user_low: string;
  user_high: string;
  group_id: string;
}
