import type {
  AppealDecisionRequest,
  AppealReceipt,
  AppealRequest,
  AppealView,
  ModerationCase,
} from "@veil/protocol";
import type { Selectable } from "kysely";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import type { Database, Db } from "../store/database.js";
import type { ModerationAppealsTable } from "../store/schema/moderation-appeals.js";
import { appealOf, loadAbility } from "./abilities.js";
import { appendAudit } from "./audit.js";
import { addNote, caseRow, caseViews } from "./cases.js";
import type { Strikes } from "./strikes.js";

type AppealRow = Selectable<ModerationAppealsTable>;

/**
 * Appeals: a channel's owner appeals a violation about the channel, once per
 * decision; a moderator upholds it (nothing changes) or reinstates (the
 * strike is lifted, which may end a suspension the strikes caused).
 */
export class Appeals {
  constructor(
    private readonly database: Database,
    private readonly strikes: Strikes,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /**
   * Opens an appeal. A decision about a channel the caller does not
   * administer answers as a missing one (`case_not_found`); an admin who is
   * not the owner gets `not_channel_owner`.
   */
  async open(auth: AuthContext, request: AppealRequest): Promise<AppealReceipt> {
    const decision = await caseRow(this.db, request.decisionId);
    const admins =
      decision?.channel_id && decision.status === "closed"
        ? await this.db
            .selectFrom("channel_admins as a")
            .innerJoin("channels as c", "c.id", "a.channel_id")
            .select(["a.user_id", "a.role"])
            .where("a.channel_id", "=", decision.channel_id)
            .where("c.status", "!=", "deleted")
            .execute()
        : [];
    if (!decision || !admins.some((a) => a.user_id === auth.userId)) {
      throw new VeilError("case_not_found");
    }
    const owner = admins.find((a) => a.role === "owner")?.user_id ?? "";
    const ability = await loadAbility(this.db, auth.userId);
    if (!ability.can("create", appealOf(owner))) throw new VeilError("not_channel_owner");
    if (decision.outcome !== "violation") throw new VeilError("appeal_not_allowed");
    const id = newId("ma");
    try {
      await this.database.transaction(async (tx) => {
        const now = this.now();
        await tx.db
          .insertInto("moderation_appeals")
          .values({
            id,
            case_id: decision.id,
            channel_id: decision.channel_id as string,
            text: request.text,
            status: "open",
            created_at: now,
            decided_by: null,
            decided_at: null,
          })
          .execute();
        await appendAudit(tx.db, now, {
          actorId: auth.userId,
          action: "appeal.opened",
          caseId: decision.id,
          detail: { appealId: id, channelId: decision.channel_id },
        });
      });
    } catch (error) {
      if (this.database.isUniqueViolation(error)) throw new VeilError("appeal_exists");
      throw error;
    }
    return { appealId: id };
  }

  /** Open appeals, oldest first; or decided ones, latest first. */
  async list(status: "open" | "decided", limit: number): Promise<AppealView[]> {
    let query = this.db.selectFrom("moderation_appeals").selectAll();
    query =
      status === "open"
        ? query.where("status", "=", "open").orderBy("created_at", "asc")
        : query.where("status", "!=", "open").orderBy("decided_at", "desc");
    return this.views(await query.orderBy("id").limit(limit).execute());
  }

  private async views(rows: AppealRow[]): Promise<AppealView[]> {
    if (rows.length === 0) return [];
    const cases = await this.db
      .selectFrom("moderation_cases")
      .selectAll()
      .where(
        "id",
        "in",
        rows.map((r) => r.case_id),
      )
      .execute();
    const viewOf = new Map((await caseViews(this.db, cases)).map((c) => [c.id, c]));
    return rows.map((r) => ({
      id: r.id,
      decision: viewOf.get(r.case_id) as ModerationCase,
      text: r.text,
      status: r.status,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      decidedAt: r.decided_at === null ? null : new Date(Number(r.decided_at)).toISOString(),
    }));
  }

  /** A moderator upholds the decision, or reinstates: the strike goes, maybe the suspension too. */
  async decide(
    auth: AuthContext,
    appealId: string,
    request: AppealDecisionRequest,
  ): Promise<AppealView> {
    await this.database.transaction(async (tx) => {
      const now = this.now();
      const appeal = await tx.db
        .selectFrom("moderation_appeals")
        .selectAll()
        .where("id", "=", appealId)
        .$call((q) => this.database.forUpdate(q))
        .executeTakeFirst();
      if (!appeal) throw new VeilError("appeal_not_found");
      if (appeal.status !== "open") throw new VeilError("appeal_closed");
      await tx.db
        .updateTable("moderation_appeals")
        .set({ status: request.outcome, decided_by: auth.userId, decided_at: now })
        .where("id", "=", appealId)
        .execute();
      if (request.note) {
        await addNote(tx.db, now, {
          caseId: appeal.case_id,
          authorId: auth.userId,
          text: request.note,
        });
      }
      await appendAudit(tx.db, now, {
        actorId: auth.userId,
        action: "appeal.decided",
        caseId: appeal.case_id,
        detail: { appealId, outcome: request.outcome, channelId: appeal.channel_id },
      });
      if (request.outcome === "reinstated")
        await this.strikes.lift(tx, auth.userId, appeal.case_id);
    });
    const row = await this.db
      .selectFrom("moderation_appeals")
      .selectAll()
      .where("id", "=", appealId)
      .executeTakeFirstOrThrow();
    return (await this.views([row]))[0] as AppealView;
  }
}
