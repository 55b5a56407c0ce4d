import { randomBytes } from "node:crypto";
import type { AuditEntry } from "@veil/protocol";
import type { Db } from "../store/database.js";

/** Every action the audit log records. */
export type AuditAction =
  | "case.claimed"
  | "case.noted"
  | "case.decided"
  | "hold.released"
  | "hold.removed"
  | "post.removed"
  | "strike.added"
  | "strike.lifted"
  | "channel.suspended"
  | "channel.reinstated"
  | "account.flagged"
  | "account.cleared"
  | "appeal.opened"
  | "appeal.decided";

let lastAt = 0;
let counter = 0;

/**
 * An id that sorts by time (and, within a millisecond, by order of writing on
 * this node), so the log reads newest first by id alone and pages by it.
 */
function auditId(at: number): string {
  counter = at === lastAt ? counter + 1 : 0;
  lastAt = at;
  return `ml_${at.toString(36).padStart(9, "0")}${counter.toString(36).padStart(3, "0")}${randomBytes(6).toString("base64url")}`;
}

/**
 * Appends one line to the audit log. Pass the transaction's handle: the line
 * is written with the change it records, or not at all. Details are ids and
 * categories, never content (a post's text, a note, a reported message).
 */
export async function appendAudit(
  db: Db,
  at: number,
  entry: {
    actorId: string | null;
    action: AuditAction;
    caseId: string | null;
    detail?: Record<string, string | number | boolean | null>;
  },
): Promise<void> {
  await db
    .insertInto("moderation_audit")
    .values({
      id: auditId(at),
      at,
      actor_id: entry.actorId,
      action: entry.action,
      case_id: entry.caseId,
      detail: JSON.stringify(entry.detail ?? {}),
    })
    .execute();
}

/** The audit log, newest first, `limit` lines before the id `before` (the previous page's last). */
export async function listAudit(
  db: Db,
  before: string | undefined,
  limit: number,
): Promise<{ entries: AuditEntry[]; next: string | null }> {
  let query = db.selectFrom("moderation_audit").selectAll();
  if (before !== undefined) query = query.where("id", "<", before);
  const rows = await query
    .orderBy("id", "desc")
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  return {
    entries: page.map((r) => ({
      id: r.id,
      at: new Date(Number(r.at)).toISOString(),
      actorUserId: r.actor_id,
      action: r.action,
      caseId: r.case_id,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    })),
    next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
