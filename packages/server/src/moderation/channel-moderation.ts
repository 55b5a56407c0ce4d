import type { ChannelDecision, ChannelModeration, GuidelineCategory } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Channels } from "../channels/channels.js";
import type { Database } from "../store/database.js";
import type { ModerationGate } from "./holds.js";
import type { Strikes } from "./strikes.js";

const decisionLimit = 100;
const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/**
 * What a channel's owner and admins learn of its moderation: what is held,
 * the decisions about it (violations, and held changes released) with their
 * appeals, its strikes, and why it is suspended. Never who reported it.
 */
export class ChannelModerationView {
  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly gate: ModerationGate,
    private readonly strikes: Strikes,
  ) {}

  async of(auth: AuthContext, channelId: string): Promise<ChannelModeration> {
    // As the channel's admin-only reads answer: channel_not_found, or not_channel_admin.
    const { channel, role } = await this.channels.asAdmin(auth, channelId);
    const db = this.database.db;
    const rows = await db
      .selectFrom("moderation_cases")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("status", "=", "closed")
      .where((eb) =>
        eb.or([
          eb("outcome", "=", "violation"),
          eb.and([eb("subject", "=", "held"), eb("outcome", "=", "none")]),
        ]),
      )
      .where("subject", "in", ["channel", "post", "held"])
      .orderBy("decided_at", "desc")
      .orderBy("id")
      .limit(decisionLimit)
      .execute();
    const ids = rows.map((r) => r.id);
    const [appeals, strikes, held, active] = await Promise.all([
      ids.length === 0
        ? []
        : db.selectFrom("moderation_appeals").selectAll().where("case_id", "in", ids).execute(),
      ids.length === 0
        ? []
        : db
            .selectFrom("moderation_strikes")
            .select(["case_id", "lifted_at"])
            .where("case_id", "in", ids)
            .execute(),
      this.gate.held(channelId),
      this.strikes.active(db, channelId),
    ]);
    const appealOf = new Map(appeals.map((a) => [a.case_id, a]));
    const strikeOf = new Map(strikes.map((s) => [s.case_id, s]));
    const decisions: ChannelDecision[] = rows.map((r) => {
      const appeal = appealOf.get(r.id);
      const strike = strikeOf.get(r.id);
      return {
        id: r.id,
        subject: r.subject as ChannelDecision["subject"],
        seq: r.seq === null ? null : Number(r.seq),
        outcome: r.outcome ?? "none",
        category: r.outcome_category as GuidelineCategory | null,
        decidedAt: iso(r.decided_at) as string,
        strike: strike !== undefined && strike.lifted_at === null,
        appeal: appeal
          ? {
              status: appeal.status,
              createdAt: iso(appeal.created_at) as string,
              decidedAt: iso(appeal.decided_at),
            }
          : null,
        canAppeal: role === "owner" && r.outcome === "violation" && !appeal,
      };
    });
    return {
      held,
      decisions,
      strikes: {
        active,
        threshold: this.strikes.threshold,
        windowDays: this.strikes.windowDays,
      },
      suspension:
        channel.status === "suspended"
          ? {
              reason: channel.suspension_reason ?? "",
              at: iso(channel.suspended_at) ?? new Date(0).toISOString(),
            }
          : null,
    };
  }
}
