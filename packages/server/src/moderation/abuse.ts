import type { Logger } from "pino";
import type { ModerationConfig } from "../config.js";
import { VeilError } from "../errors.js";
import type { Database, Db } from "../store/database.js";
import { appendAudit } from "./audit.js";
import { addReasons, openCase } from "./cases.js";

const dayMs = 24 * 3600 * 1000;
const reportWindowMs = 7 * dayMs;
export const strangersReason = "many chats with strangers";
const reportedReason = (n: number) => `reported by ${n} people within 7 days`;

/**
 * Account abuse: accounts that start many chats with people who do not have
 * them as a contact are rate limited and flagged for review; accounts that
 * several people report are flagged too, and their stranger-chat limit is cut
 * until a moderator clears them. Counters live in the database, so every
 * node shares them. Logs carry ids only.
 */
export class AccountAbuse {
  constructor(
    private readonly database: Database,
    private readonly config: Pick<
      ModerationConfig,
      "strangerChatsPerDay" | "flaggedStrangerChatsPerDay" | "reportsToFlag"
    >,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /**
   * Counts a chat the user starts with `peerIds` if any of them does not
   * have the user as a contact; past the day's limit, refuses it
   * (`rate_limited`, Retry-After when the oldest counted chat leaves the
   * window) and flags the account for review, once. Overlapping requests
   * may each pass the count: the limit is a brake, not an exact quota.
   */
  async startingChat(userId: string, chatKey: string, peerIds: string[]): Promise<void> {
    const peers = [...new Set(peerIds.filter((p) => p !== userId))];
    if (peers.length === 0) return;
    const knownBy = await this.db
      .selectFrom("contacts")
      .select("owner_id")
      .where("owner_id", "in", peers)
      .where("contact_id", "=", userId)
      .execute();
    if (knownBy.length === peers.length) return;
    const counted = await this.db
      .selectFrom("stranger_chats")
      .select("at")
      .where("user_id", "=", userId)
      .where("chat_key", "=", chatKey)
      .executeTakeFirst();
    if (counted) return;
    const now = this.now();
    const flag = await this.db
      .selectFrom("account_flags")
      .select("limited")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    const limit =
      flag?.limited === 1
        ? this.config.flaggedStrangerChatsPerDay
        : this.config.strangerChatsPerDay;
    const recent = await this.db
      .selectFrom("stranger_chats")
      .select("at")
      .where("user_id", "=", userId)
      .where("at", ">", now - dayMs)
      .orderBy("at")
      .execute();
    if (recent.length >= limit) {
      await this.flagForStrangers(userId);
      // A slot frees when the chat `limit` places from the newest leaves the 24 hours.
      const freedAt = limit === 0 ? now + dayMs : Number(recent[recent.length - limit]?.at) + dayMs;
      const retryAfterSeconds = Math.max(1, Math.ceil((freedAt - now) / 1000));
      throw new VeilError(
        "rate_limited",
        "Too many new chats with people who do not have you as a contact; retry later.",
        {
          retryAfterSeconds,
        },
      );
    }
    await this.db
      .insertInto("stranger_chats")
      .values({ user_id: userId, chat_key: chatKey, at: now })
      .onConflict((oc) => oc.columns(["user_id", "chat_key"]).doNothing())
      .execute();
  }

  /** Opens a `user` case about the account, once, when it passes its stranger-chat limit. */
  private async flagForStrangers(userId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const now = this.now();
      const flag = await tx.db
        .selectFrom("account_flags")
        .select("strangers_at")
        .where("user_id", "=", userId)
        .$call((q) => this.database.forUpdate(q))
        .executeTakeFirst();
      if (flag?.strangers_at != null) return;
      const opened = await openCase(tx.db, now, {
        subject: "user",
        userId,
        score: 0.3,
        category: "spam",
        reasons: [strangersReason],
      });
      await addReasons(tx.db, opened, [strangersReason]);
      await tx.db
        .insertInto("account_flags")
        .values({
          user_id: userId,
          strangers_at: now,
          reports_at: null,
          limited: 0,
          case_id: opened.id,
        })
        .onConflict((oc) =>
          oc.column("user_id").doUpdateSet({ strangers_at: now, case_id: opened.id }),
        )
        .execute();
      await appendAudit(tx.db, now, {
        actorId: null,
        action: "account.flagged",
        caseId: opened.id,
        detail: { userId, reason: "strangers" },
      });
      this.logger.info({ userId, caseId: opened.id }, "account flagged: many chats with strangers");
    });
  }

  /**
   * After a report of a person, in its transaction: once `reportsToFlag`
   * distinct people reported them within 7 days, the account is flagged (its
   * case says so) and its stranger-chat limit is cut until a moderator clears it.
   */
  async reported(db: Db, userId: string, caseId: string): Promise<void> {
    const now = this.now();
    const row = await db
      .selectFrom("moderation_reports")
      .select((eb) => eb.fn.count<string>("reporter_id").distinct().as("n"))
      .where("user_id", "=", userId)
      .where("created_at", ">", now - reportWindowMs)
      .executeTakeFirstOrThrow();
    const reporters = Number(row.n);
    if (reporters < this.config.reportsToFlag) return;
    const flag = await db
      .selectFrom("account_flags")
      .select("reports_at")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (flag?.reports_at != null) return;
    await db
      .insertInto("account_flags")
      .values({ user_id: userId, strangers_at: null, reports_at: now, limited: 1, case_id: caseId })
      .onConflict((oc) =>
        oc.column("user_id").doUpdateSet({ reports_at: now, limited: 1, case_id: caseId }),
      )
      .execute();
    const opened = await db
      .selectFrom("moderation_cases")
      .selectAll()
      .where("id", "=", caseId)
      .executeTakeFirstOrThrow();
    await addReasons(db, opened, [reportedReason(reporters)]);
    await appendAudit(db, now, {
      actorId: null,
      action: "account.flagged",
      caseId,
      detail: { userId, reason: "reports", reporters },
    });
    this.logger.info({ userId, caseId }, "account flagged: reported by several people");
  }

  /** A moderator found a violation: the account stays flagged, its limit cut. */
  async confirmed(db: Db, actorId: string, userId: string, caseId: string): Promise<void> {
    const now = this.now();
    await db
      .insertInto("account_flags")
      .values({
        user_id: userId,
        strangers_at: null,
        reports_at: null,
        limited: 1,
        case_id: caseId,
      })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ limited: 1, case_id: caseId }))
      .execute();
    await appendAudit(db, now, {
      actorId,
      action: "account.flagged",
      caseId,
      detail: { userId, reason: "violation" },
    });
  }

  /** A moderator found nothing wrong: the flag goes, and the usual limit is back. */
  async cleared(db: Db, actorId: string, userId: string, caseId: string): Promise<void> {
    const deleted = await db
      .deleteFrom("account_flags")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return;
    await appendAudit(db, this.now(), {
      actorId,
      action: "account.cleared",
      caseId,
      detail: { userId },
    });
  }

  /** Forgets chats that left the 24-hour window. */
  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom("stranger_chats")
      .where("at", "<=", now - dayMs)
      .execute();
  }
}
