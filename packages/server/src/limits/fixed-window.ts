import { sql } from "kysely";
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
