import type { Generated } from "kysely";

/** A channel: a public one-way broadcast (not end-to-end encrypted; the server reads posts). */
export interface ChannelsTable {
  id: string;
  handle: string;
  name: string;
  description: string;
  category: string | null;
  country: string | null;
  /** 1: a platform admin verified it. */
  verified: Generated<number>;
  reaction_policy: Generated<"any" | "default" | "none">;
  /** Whoever holds it may open (preview and follow) the channel. */
  invite_code: string;
  /** Suspended and deleted channels are never listed, and answer as missing. */
  status: Generated<"active" | "suspended" | "deleted">;
  follower_count: Generated<number>;
  last_seq: Generated<number>;
  last_post_at: number | null;
  created_at: number;
}

/** The owner and up to 15 admins. Never shown to followers (R9). */
export interface ChannelAdminsTable {
  channel_id: string;
  user_id: string;
  role: "owner" | "admin";
  added_at: number;
}

/** The owner's invitation to administer; it expires after 7 days. */
export interface ChannelAdminInvitesTable {
  channel_id: string;
  user_id: string;
  expires_at: number;
}

/** A follower. `handle` is per channel and pseudonymous: what admins see instead of an id (R8). */
export interface ChannelFollowersTable {
  channel_id: string;
  user_id: string;
  handle: string;
  muted: Generated<number>;
  followed_at: number;
}

/** One row per post, whatever the number of followers. */
export interface ChannelPostsTable {
  channel_id: string;
  seq: number;
  client_id: string;
  text: string;
  created_at: number;
  edited_at: number | null;
}

/** One reaction per follower per post. */
export interface ChannelReactionsTable {
  channel_id: string;
  seq: number;
  user_id: string;
  emoji: string;
  at: number;
}

/** Exact counts per post and emoji, kept in the reaction's transaction. */
export interface ChannelCountsTable {
  channel_id: string;
  seq: number;
  emoji: string;
  count: number;
}
