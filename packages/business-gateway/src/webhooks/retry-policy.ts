/**
 * When to try a failed delivery again: exponential backoff with full jitter
 * (a random delay between 0 and min(cap, base·2^(attempt-1))), until the
 * retry window since the event (or its last replay) is over: then `dead`.
 */
export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  /** How long a delivery is retried in all. */
  windowMs: number;
  /** Per attempt; a slow receiver counts as failed. */
  timeoutMs: number;
  random: () => number;
}

/** About three days: 10 s doubling to a 6 h cap (attempt 13 reaches it), 72 h in all. */
export const defaultRetryPolicy: RetryPolicy = {
  baseMs: 10_000,
  capMs: 6 * 60 * 60_000,
  windowMs: 72 * 60 * 60_000,
  timeoutMs: 10_000,
  random: Math.random,
};

/** The delay before the next try after `attempts` failures (attempts ≥ 1). */
export function backoffDelay(policy: RetryPolicy, attempts: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.floor(policy.random() * ceiling);
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from `now`, or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
