/** Fixed-window counters shared by every server node (the lookup limits). */
export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}
