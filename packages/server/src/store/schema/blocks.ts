/** blocker_id has blocked blocked_id. */
export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: number;
}
