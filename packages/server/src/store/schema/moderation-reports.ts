/**
 * A report: one per reporter per case. The reporter's id is kept (to count
 * distinct reporters and make a second report idempotent) but never shown.
 */
export interface ModerationReportsTable {
  id: string;
  case_id: string;
  reporter_id: string;
  reason: string;
  note: string | null;
  /**
   * JSON: the messages the reporter's client decrypted and chose to attach
   * (up to 5), and nothing else from the chat: the server holds only ciphertext.
   */
  messages: string;
  /** A reported person and the chat where the reporter met them; null otherwise. */
  user_id: string | null;
  group_id: string | null;
  created_at: number;
}
