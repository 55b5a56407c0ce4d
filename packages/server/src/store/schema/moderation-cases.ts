/**
 * A case in the review queue: held content, or the reports about one
 * subject (a channel, a post, a person). One open case per subject.
 */
export interface ModerationCasesTable {
  id: string;
  subject: "channel" | "post" | "held" | "user";
  /** `channel:<id>`, `post:<channel>:<seq>`, `held:<hold>` or `user:<id>`. */
  subject_key: string;
  /** `subject_key` while the case is open, null once decided: unique, so one open case per subject. */
  open_key: string | null;
  status: "open" | "closed";
  channel_id: string | null;
  seq: number | null;
  user_id: string | null;
  hold_id: string | null;
  /** A reported post's text when the first report came (evidence, if the post is deleted). */
  text: string | null;
  /** 0 to 1000 (thousandths): the checks' score, raised by each distinct reporter. */
  risk: number;
  category: string | null;
  /** JSON array of reasons in words. */
  reasons: string;
  report_count: number;
  opened_at: number;
  claimed_by: string | null;
  claimed_at: number | null;
  outcome: "violation" | "none" | null;
  outcome_category: string | null;
  decided_by: string | null;
  decided_at: number | null;
}
