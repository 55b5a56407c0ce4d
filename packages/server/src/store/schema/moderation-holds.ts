/**
 * A channel change held for review: a new post, an edit, a new name or
 * description, a new photo. Never in `channel_posts` (a post gets its row and
 * its seq only when released), so followers catching up by seq never see it.
 */
export interface ModerationHoldsTable {
  id: string;
  channel_id: string;
  kind: "post" | "edit" | "profile" | "photo";
  /** The post an edit changes; null otherwise. */
  seq: number | null;
  /**
   * A held post's client id while it is held: a resend with the same id
   * answers the same hold (unique with `channel_id`); cleared once decided.
   */
  client_id: string | null;
  /**
   * JSON: what would be published. A post: the CreatePostRequest; an edit:
   * `{ text }`; a profile change: `{ name?, description? }`; a photo:
   * `{ blobId, contentType }`.
   */
  payload: string;
  category: string | null;
  /** JSON array of the checks' reasons, in words (never the content). */
  reasons: string;
  status: "held" | "released" | "removed";
  created_at: number;
  decided_at: number | null;
}
