/** A device's session. The bearer token itself is never stored, only its SHA-256. */
export interface SessionsTable {
  id: string;
  user_id: string;
  device_id: string;
  token_hash: string;
  created_at: number;
  last_used_at: number;
}
