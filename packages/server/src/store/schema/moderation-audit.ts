/**
 * The moderation audit log: append-only (nothing updates or deletes it), one
 * row per action, written in the action's transaction. Ids sort by time.
 */
export interface ModerationAuditTable {
  id: string;
  at: number;
  /** The moderator or owner who acted; null for the system (a suspension strikes caused). */
  actor_id: string | null;
  action: string;
  case_id: string | null;
  /** JSON: ids and categories only, never content. */
  detail: string;
}
