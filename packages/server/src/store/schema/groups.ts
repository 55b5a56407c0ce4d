import type { Generated } from "kysely";

/** An MLS group: a 1:1 chat ("direct") or a group chat. The server holds only ciphertext. */
export interface GroupsTable {
  id: string;
  kind: "group" | "direct";
  /** The current MLS epoch: a commit is accepted only for it. */
  epoch: number;
  /** The last log sequence number used. */
  last_seq: number;
  created_by: string;
  /** Who may send: every member, or the admins only. */
  send_policy: Generated<"all" | "admins">;
  created_at: number;
}
