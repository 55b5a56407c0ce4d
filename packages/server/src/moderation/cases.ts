import type { CaseSubject, GuidelineCategory, HeldItem, ModerationCase } from "@veil/protocol";
import type { Selectable } from "kysely";
import { newId } from "../ids.js";
import type { Db } from "../store/database.js";
import type { ModerationCasesTable } from "../store/schema/moderation-cases.js";
import type { ModerationHoldsTable } from "../store/schema/moderation-holds.js";
import { heldItem } from "./held-items.js";

export type CaseRow = Selectable<ModerationCasesTable>;

/** Risk is kept in thousandths: exact, and the same integer on both databases. */
export const toRisk = (score: number): number =>
  Math.max(0, Math.min(1000, Math.round(score * 1000)));

/** What a new case is about, and how risky the checks think it is. */
export interface CaseOpening {
  subject: CaseSubject;
  channelId?: string | null;
  seq?: number | null;
  userId?: string | null;
  holdId?: string | null;
  text?: string | null;
  /** 0 to 1. */
  score: number;
  category: GuidelineCategory | null;
  reasons: string[];
}

/** The key that makes one open case per subject. */
export function subjectKey(opening: CaseOpening): string {
  switch (opening.subject) {
    case "channel":
      return `channel:${opening.channelId}`;
    case "post":
      return `post:${opening.channelId}:${opening.seq}`;
    case "held":
      return `held:${opening.holdId}`;
    case "user":
      return `user:${opening.userId}`;
  }
}

/**
 * Opens a case, or returns the open case about the same subject (one open
 * case per subject: the unique `open_key` settles concurrent openings).
 * Inside the caller's transaction.
 */
export async function openCase(db: Db, now: number, opening: CaseOpening): Promise<CaseRow> {
  const key = subjectKey(opening);
  await db
    .insertInto("moderation_cases")
    .values({
      id: newId("mc"),
      subject: opening.subject,
      subject_key: key,
      open_key: key,
      status: "open",
      channel_id: opening.channelId ?? null,
      seq: opening.seq ?? null,
      user_id: opening.userId ?? null,
      hold_id: opening.holdId ?? null,
      text: opening.text ?? null,
      risk: toRisk(opening.score),
      category: opening.category,
      reasons: JSON.stringify(opening.reasons),
      report_count: 0,
      opened_at: now,
      claimed_by: null,
      claimed_at: null,
      outcome: null,
      outcome_category: null,
      decided_by: null,
      decided_at: null,
    })
    .onConflict((oc) => oc.column("open_key").doNothing())
    .execute();
  return db
    .selectFrom("moderation_cases")
    .selectAll()
    .where("open_key", "=", key)
    .executeTakeFirstOrThrow();
}

/** A moderator's note on a case (inside the caller's transaction); returns its id. */
export async function addNote(
  db: Db,
  now: number,
  note: { caseId: string; authorId: string; text: string },
): Promise<string> {
  const id = newId("mn");
  await db
    .insertInto("moderation_notes")
    .values({
      id,
      case_id: note.caseId,
      author_id: note.authorId,
      text: note.text,
      created_at: now,
    })
    .execute();
  return id;
}

/** Adds reasons to a case (a flag joining a case that reports opened), once each. */
export async function addReasons(db: Db, row: CaseRow, reasons: string[]): Promise<void> {
  const current = JSON.parse(row.reasons) as string[];
  const next = [...current, ...reasons.filter((r) => !current.includes(r))];
  if (next.length === current.length) return;
  await db
    .updateTable("moderation_cases")
    .set({ reasons: JSON.stringify(next) })
    .where("id", "=", row.id)
    .execute();
}

const iso = (ms: number | null): string | null =>
  ms === null ? null : new Date(Number(ms)).toISOString();

/**
 * Cases as moderators read them: the channel's handle and name for their
 * eyes, held content with its case; never a reporter.
 */
export async function caseViews(db: Db, rows: CaseRow[]): Promise<ModerationCase[]> {
  if (rows.length === 0) return [];
  const channelIds = [...new Set(rows.flatMap((r) => (r.channel_id ? [r.channel_id] : [])))];
  const holdIds = [...new Set(rows.flatMap((r) => (r.hold_id ? [r.hold_id] : [])))];
  const [channels, holds] = await Promise.all([
    channelIds.length === 0
      ? []
      : db
          .selectFrom("channels")
          .select(["id", "handle", "name"])
          .where("id", "in", channelIds)
          .execute(),
    holdIds.length === 0
      ? []
      : db.selectFrom("moderation_holds").selectAll().where("id", "in", holdIds).execute(),
  ]);
  const channelOf = new Map(channels.map((c) => [c.id, c]));
  const holdOf = new Map<string, Selectable<ModerationHoldsTable>>(holds.map((h) => [h.id, h]));
  return rows.map((r) => {
    const channel = r.channel_id ? channelOf.get(r.channel_id) : undefined;
    const hold = r.hold_id ? holdOf.get(r.hold_id) : undefined;
    const held: HeldItem | null = hold ? heldItem(hold) : null;
    return {
      id: r.id,
      subject: r.subject,
      status: r.status,
      channelId: r.channel_id,
      channelHandle: channel?.handle ?? null,
      channelName: channel?.name ?? null,
      seq: r.seq === null ? null : Number(r.seq),
      userId: r.user_id,
      held,
      text: r.text,
      risk: Number(r.risk) / 1000,
      category: r.category as GuidelineCategory | null,
      reasons: JSON.parse(r.reasons) as string[],
      reportCount: Number(r.report_count),
      openedAt: iso(r.opened_at) as string,
      claimedBy: r.claimed_by,
      claimedAt: iso(r.claimed_at),
      outcome: r.outcome,
      outcomeCategory: r.outcome_category as GuidelineCategory | null,
      decidedAt: iso(r.decided_at),
    };
  });
}

export async function caseRow(db: Db, caseId: string): Promise<CaseRow | undefined> {
  return db.selectFrom("moderation_cases").selectAll().where("id", "=", caseId).executeTakeFirst();
}
