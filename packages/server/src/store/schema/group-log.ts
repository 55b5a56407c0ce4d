/**
 * A group's log: every commit and application message, stored once and read
 * by every member device from its own cursor (fan-out on read).
 */
export interface GroupLogTable {
  group_id: string;
  seq: number;
  kind: "commit" | "application";
  epoch: number;
  sender_device_id: string;
  sender_user_id: string;
  /** The sender's message id, for de-duplication of resends. */
  client_id: string | null;
  /** MLS ciphertext (or a public commit): never plaintext. */
  data: Buffer;
  /** A user who blocked the sender of this 1:1 message: never delivered to them. */
  withheld_from: string | null;
  created_at: number;
}
