import type { GuidelineCategory } from "@veil/protocol";
import type { Channels } from "../channels/channels.js";
import { newId } from "../ids.js";
import type { Db, Tx } from "../store/database.js";
import { appendAudit } from "./audit.js";
import { guidelineWords } from "./screening.js";

const dayMs = 24 * 3600 * 1000;

/** A channel's strikes that count: not lifted, within the last `windowDays`. */
export async function countActiveStrikes(
  db: Db,
  channelId: string,
  windowDays: number,
  now: number,
): Promise<number> {
  const row = await db
    .selectFrom("moderation_strikes")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("channel_id", "=", channelId)
    .where("lifted_at", "is", null)
    .where("created_at", ">", now - windowDays * dayMs)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Strikes: each confirmed violation is one against its channel, in a table of
 * its own (deleting the post does not undo it). Reaching the threshold within
 * the window suspends the channel through the channels' own suspension; an
 * appeal that reinstates lifts the strike, and a suspension the strikes
 * caused ends once they fall back under the threshold.
 */
export class Strikes {
  constructor(
    private readonly channels: Pick<Channels, "suspendForStrikes" | "reinstateAfterStrikes">,
    readonly threshold: number,
    readonly windowDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  private since(): number {
    return this.now() - this.windowDays * dayMs;
  }

  /** Strikes that count: not lifted, within the window. */
  active(db: Db, channelId: string): Promise<number> {
    return countActiveStrikes(db, channelId, this.windowDays, this.now());
  }

  /**
   * A strike for a confirmed violation, in the decision's transaction; at the
   * threshold the channel is suspended, its reason naming the guidelines broken.
   */
  async add(
    tx: Tx,
    actorId: string,
    caseId: string,
    channelId: string,
    category: GuidelineCategory,
  ): Promise<void> {
    const now = this.now();
    const id = newId("ms");
    await tx.db
      .insertInto("moderation_strikes")
      .values({
        id,
        channel_id: channelId,
        case_id: caseId,
        category,
        created_at: now,
        lifted_at: null,
      })
      .execute();
    await appendAudit(tx.db, now, {
      actorId,
      action: "strike.added",
      caseId,
      detail: { channelId, strikeId: id, category },
    });
    if ((await this.active(tx.db, channelId)) < this.threshold) return;
    const reason = await this.suspensionReason(tx.db, channelId);
    if (await this.channels.suspendForStrikes(tx, channelId, reason)) {
      await appendAudit(tx.db, now, {
        actorId: null,
        action: "channel.suspended",
        caseId,
        detail: { channelId, strikes: this.threshold },
      });
    }
  }

  /** Lifts a decision's strike (an appeal reinstated it); may end a suspension the strikes caused. */
  async lift(tx: Tx, actorId: string, caseId: string): Promise<void> {
    const now = this.now();
    const strike = await tx.db
      .selectFrom("moderation_strikes")
      .select(["id", "channel_id"])
      .where("case_id", "=", caseId)
      .where("lifted_at", "is", null)
      .executeTakeFirst();
    if (!strike) return;
    await tx.db
      .updateTable("moderation_strikes")
      .set({ lifted_at: now })
      .where("id", "=", strike.id)
      .execute();
    await appendAudit(tx.db, now, {
      actorId,
      action: "strike.lifted",
      caseId,
      detail: { channelId: strike.channel_id, strikeId: strike.id },
    });
    if ((await this.active(tx.db, strike.channel_id)) >= this.threshold) return;
    if (await this.channels.reinstateAfterStrikes(tx, strike.channel_id)) {
      await appendAudit(tx.db, now, {
        actorId,
        action: "channel.reinstated",
        caseId,
        detail: { channelId: strike.channel_id },
      });
    }
  }

  /** "Repeated breaches of the content guidelines (fraud or a scam; spam)." */
  private async suspensionReason(db: Db, channelId: string): Promise<string> {
    const rows = await db
      .selectFrom("moderation_strikes")
      .select("category")
      .where("channel_id", "=", channelId)
      .where("lifted_at", "is", null)
      .where("created_at", ">", this.since())
      .orderBy("created_at")
      .execute();
    const broken = [...new Set(rows.map((r) => r.category as GuidelineCategory))];
    return `Repeated breaches of the content guidelines (${broken
      .map((c) => guidelineWords[c])
      .join("; ")}).`;
  }
}
