/** A moderator's note on a case (moderators see each other's notes). */
export interface ModerationNotesTable {
  id: string;
  case_id: string;
  author_id: string;
  text: string;
  created_at: number;
}
