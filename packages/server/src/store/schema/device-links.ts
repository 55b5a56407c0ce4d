import type { Generated } from "kysely";

/** A new device waiting to be linked to an account by one of its existing devices. */
export interface DeviceLinksTable {
  id: string;
  /** The short code shown on the new device (digits). */
  code: string;
  secret_hash: string;
  public_key: string;
  name: string;
  expires_at: number;
  /** Set on approval. */
  device_id: string | null;
  user_id: string | null;
  /** 1 once the account's other devices were told (at the new device's first key packages). */
  announced: Generated<number>;
}
