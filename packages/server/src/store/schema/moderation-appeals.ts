/** A channel owner's appeal of a violation: one per decision (`case_id` is unique). */
export interface ModerationAppealsTable {
  id: string;
  case_id: string;
  channel_id: string;
  text: string;
  status: "open" | "upheld" | "reinstated";
  created_at: number;
  decided_by: string | null;
  decided_at: number | null;
}
