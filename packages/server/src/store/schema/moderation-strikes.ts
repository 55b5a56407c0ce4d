/**
 * A confirmed violation against a channel. Its own row, so deleting the post
 * does not undo it; an appeal that reinstates sets `lifted_at`.
 */
export interface ModerationStrikesTable {
  id: string;
  channel_id: string;
  case_id: string;
  category: string;
  created_at: number;
  lifted_at: number | null;
}
