import type { ReportReceipt, ReportRequest } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Channels } from "../channels/channels.js";
import type { ChannelPosts } from "../channels/posts.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import { enforceLimits } from "../limits/fixed-window.js";
import type { Database } from "../store/database.js";
import type { AccountAbuse } from "./abuse.js";
import { type CaseOpening, openCase } from "./cases.js";
import type { Screening } from "./screening.js";

const hourMs = 60 * 60_000;
/** Each distinct reporter raises a case's risk by this much (thousandths), up to 1. */
const riskPerReporter = 150;

/**
 * Reports from anyone signed in: a channel or a post they can see, or a
 * person they met in a chat (with the messages their client chose to attach:
 * the server has nothing else of the chat). Reports about one subject join
 * its open case; the same reporter counts once.
 */
export class Reports {
  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly posts: ChannelPosts,
    private readonly screening: Screening,
    private readonly abuse: AccountAbuse,
    private readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  async report(auth: AuthContext, request: ReportRequest): Promise<ReportReceipt> {
    await enforceLimits(
      this.database.db,
      [{ key: `report:${auth.userId}`, limit: this.perHour }],
      hourMs,
      this.now(),
    );
    const opening = await this.subject(auth, request);
    const messages = request.subject === "user" ? (request.messages ?? []) : [];
    return this.database.transaction(async (tx) => {
      const now = this.now();
      const opened = await openCase(tx.db, now, opening);
      const inserted = await tx.db
        .insertInto("moderation_reports")
        .values({
          id: newId("mr"),
          case_id: opened.id,
          reporter_id: auth.userId,
          reason: request.reason,
          note: request.note ?? null,
          messages: JSON.stringify(messages),
          user_id: request.subject === "user" ? request.userId : null,
          group_id: request.subject === "user" ? request.groupId : null,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(["case_id", "reporter_id"]).doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!inserted) {
        // The same person reporting the same subject again: one report.
        const existing = await tx.db
          .selectFrom("moderation_reports")
          .select("id")
          .where("case_id", "=", opened.id)
          .where("reporter_id", "=", auth.userId)
          .executeTakeFirstOrThrow();
        return { reportId: existing.id };
      }
      await tx.db
        .updateTable("moderation_cases")
        // In one statement (no lost updates between concurrent reports), capped at 1.
        .set((eb) => ({
          report_count: eb("report_count", "+", 1),
          // Without a category from the checks, the first reporter's guideline suggests one.
          ...(request.reason === "other"
            ? {}
            : { category: eb.fn.coalesce("category", eb.val(request.reason)) }),
          risk: eb
            .case()
            .when(eb("risk", "+", riskPerReporter), ">", 1000)
            .then(1000)
            .else(eb("risk", "+", riskPerReporter))
            .end(),
        }))
        .where("id", "=", opened.id)
        .execute();
      if (request.subject === "user") await this.abuse.reported(tx.db, request.userId, opened.id);
      return { reportId: inserted.id };
    });
  }

  /**
   * What the report is about, checked as the reporter may see it: a channel or
   * post they cannot see answers exactly as a missing one, and a person they
   * share no chat with (or a chat they are not in) as a user who does not exist.
   */
  private async subject(auth: AuthContext, request: ReportRequest): Promise<CaseOpening> {
    switch (request.subject) {
      case "channel": {
        const { channel } = await this.channels.standing(auth, request.channelId);
        const finding = this.screening.text([channel.name, channel.description]);
        return {
          subject: "channel",
          channelId: channel.id,
          score: finding.score,
          category: finding.category,
          reasons: finding.reasons,
        };
      }
      case "post": {
        const { post } = await this.posts.readable(auth, request.channelId, request.seq);
        const finding = this.screening.text([post.text]);
        return {
          subject: "post",
          channelId: request.channelId,
          seq: request.seq,
          text: post.text,
          score: finding.score,
          category: finding.category,
          reasons: finding.reasons,
        };
      }
      case "user": {
        if (request.userId === auth.userId) throw new VeilError("user_not_found");
        const members = await this.database.db
          .selectFrom("group_members")
          .select("user_id")
          .distinct()
          .where("group_id", "=", request.groupId)
          .where("user_id", "in", [auth.userId, request.userId])
          .execute();
        if (members.length !== 2) throw new VeilError("user_not_found");
        return { subject: "user", userId: request.userId, score: 0, category: null, reasons: [] };
      }
    }
  }
}
