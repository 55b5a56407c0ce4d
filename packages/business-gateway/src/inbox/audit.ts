import { randomId } from "../ids.js";
import type { Db } from "../store/database.js";

/** Who did something: an agent id, "admin-key", "api-key:<id>", or "system" (routing). */
export type Actor = string;

/**
 * Appends an audit row. `details` holds ids, names of roles and teams, and
 * settings: never message text, note bodies or customer names.
 */
export async function audit(
  db: Db,
  actor: Actor,
  action: string,
  target: string | null,
  details: Record<string, unknown> = {},
  at = Date.now(),
): Promise<void> {
  await db
    .insertInto("inbox_audit")
    .values({
      id: randomId("aud_", 12),
      at,
      actor,
      action,
      target,
      details: JSON.stringify(details),
    })
    .execute();
}

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

/** Newest first; the cursor is the last entry of the previous page. */
export async function listAudit(
  db: Db,
  options: { limit: number; cursor: { at: number; id: string } | null },
): Promise<AuditEntry[]> {
  let query = db.selectFrom("inbox_audit").selectAll();
  const cursor = options.cursor;
  if (cursor)
    query = query.where((eb) =>
      eb.or([
        eb("at", "<", cursor.at),
        eb.and([eb("at", "=", cursor.at), eb("id", "<", cursor.id)]),
      ]),
    );
  const rows = await query
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }));
}
