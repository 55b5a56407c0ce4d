import type { Generated } from "kysely";

/** A user's device, known by its Ed25519 public key. */
export interface DevicesTable {
  id: string;
  user_id: string;
  name: string;
  /** base64url of the raw 32-byte Ed25519 public key; unique. */
  public_key: string;
  created_at: number;
  /** Set while the device has a live connection; presence reads it. */
  online_since: number | null;
  last_seen_at: number | null;
  /** The last sequence number used in this device's mailbox. */
  mailbox_seq: Generated<number>;
}
