import type { HeldItem } from "@veil/protocol";
import type { ContentGate, Submission, Verdict } from "../channels/content-gate.js";
import { newId } from "../ids.js";
import type { Database, Tx } from "../store/database.js";
import { openCase } from "./cases.js";
import { heldItem } from "./held-items.js";
import { rejection, type Screening } from "./screening.js";
import { countActiveStrikes } from "./strikes.js";

/** What a held photo's case says: no classifier judged it, a strike made people look. */
const photoReason =
  "a new photo for a channel with an active strike (images are reviewed by people)";

/**
 * The checks every channel change passes before it is published (channels'
 * `ContentGate` port): refuse what breaks the guidelines outright, hold for
 * review what might, and keep held changes apart from what followers read.
 */
export class ModerationGate implements ContentGate {
  constructor(
    private readonly database: Database,
    private readonly screening: Screening,
    /** `VEIL_STRIKE_WINDOW_DAYS`: a new photo is held while the channel has a strike in it. */
    private readonly strikeWindowDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  async screen(submission: Submission): Promise<Verdict> {
    switch (submission.kind) {
      case "media":
        if (this.screening.imageBlocked(submission.blobId)) throw rejection("illegal", true);
        return { action: "publish" };
      case "photo": {
        if (this.screening.imageBlocked(submission.blobId)) throw rejection("illegal", true);
        const active = await countActiveStrikes(
          this.database.db,
          submission.channelId,
          this.strikeWindowDays,
          this.now(),
        );
        if (active === 0) return { action: "publish" };
        return { action: "hold", category: null, risk: 0.5, reasons: [photoReason] };
      }
      case "post": {
        const { request } = submission;
        const images = [...(request.media ?? []), request.preview?.image ?? ""];
        if (images.some((id) => id !== "" && this.screening.imageBlocked(id))) {
          throw rejection("illegal", true);
        }
        return this.verdict([
          request.text,
          request.poll?.question,
          ...(request.poll?.options ?? []),
          request.preview?.title,
          request.preview?.description,
        ]);
      }
      case "edit":
        return this.verdict([submission.text]);
      case "profile":
        return this.verdict([submission.name, submission.description]);
    }
  }

  private verdict(parts: Array<string | undefined>): Verdict {
    const finding = this.screening.text(parts);
    if (finding.action === "reject" && finding.category) throw rejection(finding.category);
    if (finding.action === "publish") return { action: "publish" };
    return {
      action: "hold",
      category: finding.category,
      risk: finding.score,
      reasons: finding.reasons,
    };
  }

  async heldPost(channelId: string, clientId: string): Promise<HeldItem | null> {
    const row = await this.database.db
      .selectFrom("moderation_holds")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("client_id", "=", clientId)
      .where("status", "=", "held")
      .executeTakeFirst();
    return row ? heldItem(row) : null;
  }

  /** Stores the held change and opens its case in the queue (subject `held`). */
  async hold(
    tx: Tx,
    submission: Exclude<Submission, { kind: "media" }> & { channelId: string },
    verdict: Extract<Verdict, { action: "hold" }>,
  ): Promise<HeldItem> {
    const now = this.now();
    const payload =
      submission.kind === "post"
        ? { request: submission.request }
        : submission.kind === "edit"
          ? { text: submission.text }
          : submission.kind === "profile"
            ? { name: submission.name, description: submission.description }
            : { blobId: submission.blobId, contentType: submission.contentType };
    const row = {
      id: newId("mh"),
      channel_id: submission.channelId,
      kind: submission.kind,
      seq: submission.kind === "edit" ? submission.seq : null,
      client_id: submission.kind === "post" ? submission.request.id : null,
      payload: JSON.stringify(payload),
      category: verdict.category,
      reasons: JSON.stringify(verdict.reasons),
      status: "held" as const,
      created_at: now,
      decided_at: null,
    };
    await tx.db.insertInto("moderation_holds").values(row).execute();
    await openCase(tx.db, now, {
      subject: "held",
      channelId: submission.channelId,
      seq: row.seq,
      holdId: row.id,
      score: verdict.risk,
      category: verdict.category,
      reasons: verdict.reasons,
    });
    return heldItem(row);
  }

  /** What a channel has waiting for review, oldest first (its admins see it). */
  async held(channelId: string): Promise<HeldItem[]> {
    const rows = await this.database.db
      .selectFrom("moderation_holds")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("status", "=", "held")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(heldItem);
  }
}
