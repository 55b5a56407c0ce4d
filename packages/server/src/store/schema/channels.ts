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
  /**
   * Suspended and deleted channels are never listed. A suspended one is
   * shown to its admins and followers only; a deleted one answers as missing.
   */
  status: Generated<"active" | "suspended" | "deleted">;
  follower_count: Generated<number>;
  last_seq: Generated<number>;
  last_post_at: number | null;
  created_at: number;
  /** The photo's blob id (the SHA-256 of its bytes, in the blob store), or null (0011). */
  photo: string | null;
  /** The photo's type, sniffed from its bytes (0011). */
  photo_type: string | null;
  /** Why a platform admin suspended the channel, while it is suspended (0011). */
  suspension_reason: string | null;
  suspended_at: number | null;
  /**
   * Who suspended it (0012): `admin` (a platform admin, by hand) or `strikes`
   * (moderation, on reaching the strike threshold). Only a suspension by
   * strikes is lifted when an appeal brings the strikes back under it.
   */
  suspended_by: "admin" | "strikes" | null;
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
  /** JSON: the ids of the channel media shown with the post, in order (0010). */
  media: string | null;
  /** JSON: the link preview the admin's client made (0010). */
  preview: string | null;
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

/** Public media uploaded to a channel; the bytes live in the blob store under `id` (their SHA-256). */
export interface ChannelMediaTable {
  channel_id: string;
  id: string;
  /** Sniffed from the bytes, never taken from the upload's header. */
  content_type: string;
  size: number;
  created_at: number;
}

/** A post's poll. `options` is a JSON array of strings; `voters` counts followers who voted. */
export interface ChannelPollsTable {
  channel_id: string;
  seq: number;
  question: string;
  options: string;
  multiple: number;
  closes_at: number | null;
  voters: Generated<number>;
}

/** One row per follower per option chosen. */
export interface ChannelPollVotesTable {
  channel_id: string;
  seq: number;
  user_id: string;
  option: number;
  at: number;
}

/** Exact votes per option, kept in the vote's transaction. */
export interface ChannelPollCountsTable {
  channel_id: string;
  seq: number;
  option: number;
  count: number;
}
