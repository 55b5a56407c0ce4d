/**
 * An account flagged for review: it started many chats with strangers, or
 * several people reported it. `limited` cuts its stranger-chat limit until a
 * moderator decides its case `none` (which deletes the row).
 */
export interface AccountFlagsTable {
  user_id: string;
  /** When it passed its stranger-chat limit (its case was opened then, once). */
  strangers_at: number | null;
  /** When enough distinct people had reported it. */
  reports_at: number | null;
  limited: number;
  case_id: string | null;
}
