/** An MLS group: a 1:1 chat ("direct") or a group chat. The server holds only ciphertext. */
export interface GroupsTable {
  id: string;
  kind: "group" | "direct";
  /** The current MLS epoch: a commit is accepted only for it. */
  epoch: number;
  /** The last log sequence number used. */
  last_seq: number;
  created_by: string;
  created_at: number;
}
