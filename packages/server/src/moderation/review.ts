import type {
  CaseDetail,
  DecisionRequest,
  GuidelineCategory,
  ModerationCase,
  ReportedMessage,
} from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Channels } from "../channels/channels.js";
import type { ChannelMediaFiles } from "../channels/media.js";
import type { ChannelPosts } from "../channels/posts.js";
import { VeilError } from "../errors.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { AccountAbuse } from "./abuse.js";
import { appendAudit } from "./audit.js";
import { addNote, type CaseRow, caseRow, caseViews } from "./cases.js";
import { holdPayload } from "./held-items.js";
import type { Strikes } from "./strikes.js";

/** A claim older than this no longer keeps other moderators off the case. */
export const claimTtlMs = 15 * 60_000;
const historyLimit = 20;

/**
 * Human review: the queue, a case with everything needed to decide it,
 * claims (one moderator at a time), notes, and decisions: a violation
 * removes held content or takes the post down and gives the channel a
 * strike (or flags a person); `none` releases what was held. Every change
 * writes its line of the audit log in the same transaction.
 */
export class ModerationReview {
  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly posts: ChannelPosts,
    private readonly media: ChannelMediaFiles,
    private readonly strikes: Strikes,
    private readonly abuse: AccountAbuse,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** Open cases, highest risk first, then oldest first; or decided ones, latest first. */
  async queue(status: "open" | "closed", limit: number): Promise<ModerationCase[]> {
    let query = this.db.selectFrom("moderation_cases").selectAll().where("status", "=", status);
    query =
      status === "open"
        ? query.orderBy("risk", "desc").orderBy("opened_at", "asc")
        : query.orderBy("decided_at", "desc");
    const rows = await query.orderBy("id").limit(limit).execute();
    return caseViews(this.db, rows);
  }

  /** A case, its reports (never who sent them), notes, earlier decisions and strike count. */
  async detail(caseId: string): Promise<CaseDetail> {
    const row = await this.found(this.db, caseId);
    const [view] = await caseViews(this.db, [row]);
    const [reports, notes, earlier] = await Promise.all([
      this.db
        .selectFrom("moderation_reports")
        .select(["reporter_id", "reason", "note", "messages", "created_at"])
        .where("case_id", "=", caseId)
        .orderBy("created_at")
        .orderBy("id")
        .execute(),
      this.db
        .selectFrom("moderation_notes")
        .select(["author_id", "text", "created_at"])
        .where("case_id", "=", caseId)
        .orderBy("created_at")
        .orderBy("id")
        .execute(),
      this.history(row),
    ]);
    return {
      case: view as ModerationCase,
      reports: reports.map((r) => ({
        reason: r.reason as CaseDetail["reports"][number]["reason"],
        note: r.note,
        // A message the reporter sent themselves names them as "reporter", never by id.
        messages: (JSON.parse(r.messages) as ReportedMessage[]).map((m) =>
          m.senderUserId === r.reporter_id ? { ...m, senderUserId: "reporter" } : m,
        ),
        createdAt: new Date(Number(r.created_at)).toISOString(),
      })),
      notes: notes.map((n) => ({
        by: n.author_id,
        text: n.text,
        createdAt: new Date(Number(n.created_at)).toISOString(),
      })),
      history: await caseViews(this.db, earlier),
      strikes: row.channel_id
        ? await this.strikes.active(this.db, row.channel_id)
        : await this.violations(row.user_id),
    };
  }

  /** Earlier decisions about the same channel, or the same person, newest first. */
  private history(row: CaseRow): Promise<CaseRow[]> {
    const query = this.db
      .selectFrom("moderation_cases")
      .selectAll()
      .where("status", "=", "closed")
      .where("id", "!=", row.id);
    const about = row.channel_id
      ? query.where("channel_id", "=", row.channel_id)
      : query.where("user_id", "=", row.user_id ?? "");
    return about.orderBy("decided_at", "desc").limit(historyLimit).execute();
  }

  private async violations(userId: string | null): Promise<number> {
    if (userId === null) return 0;
    const row = await this.db
      .selectFrom("moderation_cases")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", userId)
      .where("outcome", "=", "violation")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async found(db: Db, caseId: string, lock = false): Promise<CaseRow> {
    const row = lock
      ? await db
          .selectFrom("moderation_cases")
          .selectAll()
          .where("id", "=", caseId)
          .$call((q) => this.database.forUpdate(q))
          .executeTakeFirst()
      : await caseRow(db, caseId);
    if (!row) throw new VeilError("case_not_found");
    return row;
  }

  /** Whether another moderator holds a live claim on the case. */
  private claimedByOther(row: CaseRow, userId: string, now: number): boolean {
    return (
      row.claimed_by !== null &&
      row.claimed_by !== userId &&
      row.claimed_at !== null &&
      Number(row.claimed_at) > now - claimTtlMs
    );
  }

  /** Takes the case: `case_claimed` while another moderator's claim is under 15 minutes old. */
  async claim(auth: AuthContext, caseId: string): Promise<ModerationCase> {
    await this.database.transaction(async (tx) => {
      const now = this.now();
      const row = await this.found(tx.db, caseId, true);
      if (row.status !== "open") throw new VeilError("case_closed");
      if (this.claimedByOther(row, auth.userId, now)) throw new VeilError("case_claimed");
      await tx.db
        .updateTable("moderation_cases")
        .set({ claimed_by: auth.userId, claimed_at: now })
        .where("id", "=", caseId)
        .execute();
      await appendAudit(tx.db, now, {
        actorId: auth.userId,
        action: "case.claimed",
        caseId,
        ...(row.claimed_by && row.claimed_by !== auth.userId
          ? { detail: { tookOverFrom: row.claimed_by } }
          : {}),
      });
    });
    return this.view(caseId);
  }

  /** A note for the other moderators (on an open or a decided case). */
  async note(auth: AuthContext, caseId: string, text: string): Promise<ModerationCase> {
    await this.database.transaction(async (tx) => {
      const now = this.now();
      await this.found(tx.db, caseId);
      const id = await addNote(tx.db, now, { caseId, authorId: auth.userId, text });
      await appendAudit(tx.db, now, {
        actorId: auth.userId,
        action: "case.noted",
        caseId,
        detail: { noteId: id },
      });
    });
    return this.view(caseId);
  }

  private async view(caseId: string): Promise<ModerationCase> {
    const [view] = await caseViews(this.db, [await this.found(this.db, caseId)]);
    return view as ModerationCase;
  }

  /**
   * Decides an open case, by the moderator holding its claim or (unclaimed,
   * or the claim stale) claiming it now. In one transaction with everything
   * it causes: the release or removal, the strike and any suspension, the
   * account flag, and each one's line of the audit log.
   */
  async decide(
    auth: AuthContext,
    caseId: string,
    request: DecisionRequest,
  ): Promise<ModerationCase> {
    await this.database.transaction(async (tx) => {
      const now = this.now();
      const row = await this.found(tx.db, caseId, true);
      if (row.status !== "open") throw new VeilError("case_closed");
      if (this.claimedByOther(row, auth.userId, now)) throw new VeilError("case_claimed");
      const category = request.outcome === "violation" ? request.category : null;
      await tx.db
        .updateTable("moderation_cases")
        .set({
          status: "closed",
          open_key: null,
          outcome: request.outcome,
          outcome_category: category,
          decided_by: auth.userId,
          decided_at: now,
          claimed_by: auth.userId,
          claimed_at: row.claimed_by === auth.userId ? row.claimed_at : now,
        })
        .where("id", "=", caseId)
        .execute();
      if (request.note) {
        await addNote(tx.db, now, { caseId, authorId: auth.userId, text: request.note });
      }
      await appendAudit(tx.db, now, {
        actorId: auth.userId,
        action: "case.decided",
        caseId,
        detail: {
          subject: row.subject,
          outcome: request.outcome,
          category,
          ...(request.note ? { noted: true } : {}),
        },
      });
      if (category) await this.violation(tx, auth.userId, row, category);
      else await this.noViolation(tx, auth.userId, row);
    });
    return this.view(caseId);
  }

  private async violation(
    tx: Tx,
    actorId: string,
    row: CaseRow,
    category: GuidelineCategory,
  ): Promise<void> {
    const now = this.now();
    if (row.subject === "user") {
      if (row.user_id) await this.abuse.confirmed(tx.db, actorId, row.user_id, row.id);
      return;
    }
    if (row.subject === "held" && row.hold_id) {
      await tx.db
        .updateTable("moderation_holds")
        .set({ status: "removed", client_id: null, decided_at: now })
        .where("id", "=", row.hold_id)
        .where("status", "=", "held")
        .execute();
      await appendAudit(tx.db, now, {
        actorId,
        action: "hold.removed",
        caseId: row.id,
        detail: { holdId: row.hold_id, channelId: row.channel_id },
      });
    }
    if (row.subject === "post" && row.channel_id && row.seq !== null) {
      const removed = await this.posts.takeDown(tx, row.channel_id, Number(row.seq));
      await appendAudit(tx.db, now, {
        actorId,
        action: "post.removed",
        caseId: row.id,
        detail: { channelId: row.channel_id, seq: Number(row.seq), wasPublished: removed },
      });
    }
    if (row.channel_id) await this.strikes.add(tx, actorId, row.id, row.channel_id, category);
  }

  private async noViolation(tx: Tx, actorId: string, row: CaseRow): Promise<void> {
    if (row.subject === "user") {
      if (row.user_id) await this.abuse.cleared(tx.db, actorId, row.user_id, row.id);
      return;
    }
    if (row.subject !== "held" || !row.hold_id) return;
    const hold = await tx.db
      .selectFrom("moderation_holds")
      .selectAll()
      .where("id", "=", row.hold_id)
      .where("status", "=", "held")
      .executeTakeFirst();
    if (!hold) return;
    const now = this.now();
    const payload = holdPayload(hold);
    let seq: number | null = hold.seq === null ? null : Number(hold.seq);
    switch (payload.kind) {
      case "post": {
        // Published through the normal path: the next seq, pushed to followers.
        const post = await this.posts.publishReleased(tx, hold.channel_id, payload.request);
        seq = post?.seq ?? null;
        break;
      }
      case "edit":
        await this.posts.applyReleasedEdit(tx, hold.channel_id, Number(hold.seq), payload.text);
        break;
      case "profile":
        await this.channels.applyProfile(tx, hold.channel_id, payload);
        break;
      case "photo":
        await this.media.applyReleasedPhoto(
          tx,
          hold.channel_id,
          payload.blobId,
          payload.contentType,
        );
        break;
    }
    await tx.db
      .updateTable("moderation_holds")
      .set({ status: "released", client_id: null, decided_at: now })
      .where("id", "=", hold.id)
      .execute();
    await appendAudit(tx.db, now, {
      actorId,
      action: "hold.released",
      caseId: row.id,
      detail: { holdId: hold.id, channelId: hold.channel_id, kind: hold.kind, seq },
    });
  }

  /**
   * A file a case shows (a held post's media or a held photo; a reported
   * post's media), by id, for the moderator's eyes; `media_not_found` for
   * anything the case does not show.
   */
  async caseFile(caseId: string, mediaId: string) {
    const row = await this.found(this.db, caseId);
    let contentType: string | null = null;
    const hold = row.hold_id
      ? await this.db
          .selectFrom("moderation_holds")
          .selectAll()
          .where("id", "=", row.hold_id)
          .executeTakeFirst()
      : undefined;
    const payload = hold ? holdPayload(hold) : null;
    if (payload?.kind === "photo" && payload.blobId === mediaId) contentType = payload.contentType;
    const shown =
      payload?.kind === "post"
        ? [...(payload.request.media ?? []), payload.request.preview?.image]
        : row.subject === "post" && row.channel_id && row.seq !== null
          ? await this.postMedia(row.channel_id, Number(row.seq))
          : [];
    if (contentType === null && row.channel_id && shown.includes(mediaId)) {
      const media = await this.db
        .selectFrom("channel_media")
        .select("content_type")
        .where("channel_id", "=", row.channel_id)
        .where("id", "=", mediaId)
        .executeTakeFirst();
      contentType = media?.content_type ?? null;
    }
    const blob = contentType ? await this.media.blob(mediaId) : null;
    if (!blob || !contentType) throw new VeilError("media_not_found");
    return { contentType, ...blob };
  }

  private async postMedia(channelId: string, seq: number): Promise<string[]> {
    const post = await this.db
      .selectFrom("channel_posts")
      .select(["media", "preview"])
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!post) return [];
    const preview = post.preview ? (JSON.parse(post.preview) as { image?: string }) : null;
    return [
      ...(post.media ? (JSON.parse(post.media) as string[]) : []),
      ...(preview?.image ? [preview.image] : []),
    ];
  }
}
