import type { Generated } from "kysely";

/**
 * A group: an MLS 1:1 chat ("direct"), group chat ("group") or key channel
 * ("keys"), or a community's announcement group (sender keys, no MLS tree).
 * The server holds only ciphertext.
 */
export interface GroupsTable {
  id: string;
  kind: "group" | "direct" | "announcement" | "keys";
  /** The current MLS epoch: a commit is accepted only for it. */
  epoch: number;
  /** The last log sequence number used. */
  last_seq: number;
  created_by: string;
  /** Who may send: every member, or the admins only. */
  send_policy: Generated<"all" | "admins">;
  created_at: number;
  name: Generated<string>;
  description: Generated<string>;
  community_id: string | null;
  /** Who may change the name and description. */
  info_policy: Generated<"all" | "admins">;
  /** 1: new members need an admin's approval (requests wait in a queue). */
  approve_members: Generated<number>;
}
