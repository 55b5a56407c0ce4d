import { sql } from "kysely";
import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";

/**
 * Counts one hit for `key` in the current window and tells whether it is
 * within `limit`. The counters live in the database, so every server node
 * shares them.
 */
export async function hitLimit(
  db: Db,
  key: string,
  limit: number,
  windowMs: number,
  now: number,
): Promise<boolean> {
  const windowStart = now - (now % windowMs);
  const row = await db
    .insertInto("rate_limits")
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.columns(["key", "window_start"]).doUpdateSet({ count: sql`rate_limits.count + 1` }),
    )
    .returning("count")
    .executeTakeFirstOrThrow();
  return row.count <= limit;
}

/** Drops windows that ended before `now` (run from time to time). */
export async function pruneLimits(db: Db, windowMs: number, now: number): Promise<void> {
  await db
    .deleteFrom("rate_limits")
    .where("window_start", "<", now - windowMs)
    .execute();
}

/**
 * Counts a hit for each key and fails with `rate_limited` if any is over its
 * limit, telling the client when the current window ends (Retry-After).
 */
export async function enforceLimits(
  db: Db,
  limits: Array<{ key: string; limit: number }>,
  windowMs: number,
  now: number,
): Promise<void> {
  let over = false;
  for (const { key, limit } of limits) {
    if (!(await hitLimit(db, key, limit, windowMs, now))) over = true;
  }
  if (over) {
    const retryAfterSeconds = Math.ceil((windowMs - (now % windowMs)) / 1000);
    throw new VeilError("rate_limited", undefined, { retryAfterSeconds });
  }
}
