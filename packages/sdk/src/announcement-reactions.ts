import type { ClientContext } from "./context.js";
import type { Envelope } from "./envelope.js";
import { isVeilError } from "./errors.js";
import type { Effects } from "./groups.js";
import {
  asJson,
  del,
  HistoryRecord,
  ns,
  put,
  ReactionCountsRecord,
  ReactionRecord,
  seqKey,
} from "./local-state.js";
import { settleAll } from "./pool.js";

const nameLookups = 8;

type CountsEnvelope = Extract<Envelope, { type: "reaction_counts" }>;

/** Who reacted to an announcement, as an admin sees it (R6). */
export interface AnnouncementReaction {
  userId: string;
  /** Their name as the server shows it to this admin now (null if it shows none). */
  name: string | null;
  emoji: string;
  /** The reacting device's clock, milliseconds. */
  at: number;
}

/**
 * Reactions to announcements. A member's reaction reaches each admin over
 * their key channel; the admins' devices record who reacted. The device that
 * posted the announcement publishes the counts (and only the counts) as a
 * `reaction_counts` announcement, once a burst of reactions has settled
 * (`delayMs`); members keep the latest counts they read.
 */
export class AnnouncementReactions {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly context: ClientContext,
    private readonly publish: (groupId: string, body: CountsBody) => Promise<unknown>,
    private readonly delayMs: number,
  ) {}

  /** An admin device hears of a reaction (an empty emoji takes it back). */
  async record(
    groupId: string,
    userId: string,
    target: string,
    emoji: string,
    at: number,
  ): Promise<Effects> {
    const key = `${groupId}/${target}/${userId}`;
    const held = await this.context.state.json(ReactionRecord, ns.reactions, key);
    // Kept even when empty: an older reaction that arrives late must not come back.
    if (held && held.at > at) return { ops: [] };
    const ops = [put(ns.reactions, key, asJson({ userId, emoji, at } satisfies ReactionRecord))];
    if (!(await this.postedHere(groupId, target))) return { ops };
    ops.push(put(ns.countsDue, `${groupId}/${target}`, 1));
    return { ops, after: () => this.schedule(groupId, target) };
  }

  /** Everyone's reaction to one announcement (admins' devices only hold them). */
  async who(groupId: string, messageId: string): Promise<ReactionRecord[]> {
    const held = await this.context.state.listJson(
      ReactionRecord,
      ns.reactions,
      `${groupId}/${messageId}/`,
    );
    return held
      .map((h) => h.value)
      .filter((r) => r.emoji !== "")
      .sort((a, b) => a.at - b.at);
  }

  /**
   * `who`, with names: asked of the server each time (a name changes, and
   * what an admin may see goes through the privacy rules, R6).
   */
  async named(groupId: string, messageId: string): Promise<AnnouncementReaction[]> {
    const reactions = await this.who(groupId, messageId);
    const profiles = await settleAll(reactions, nameLookups, (r) =>
      this.context.api.user(r.userId),
    );
    return reactions.map((r, i) => {
      const profile = profiles[i];
      const name = profile?.status === "fulfilled" ? (profile.value.name ?? null) : null;
      return { userId: r.userId, name, emoji: r.emoji, at: r.at };
    });
  }

  /** The counts on an announcement: published by the admins, or counted here on an admin's device. */
  async counts(groupId: string, messageId: string): Promise<Record<string, number>> {
    const record = await this.context.state.json(
      ReactionCountsRecord,
      ns.reactionCounts,
      `${groupId}/${messageId}`,
    );
    return record?.counts ?? {};
  }

  /** A `reaction_counts` announcement read from the log. */
  async countsRead(groupId: string, envelope: CountsEnvelope): Promise<Effects> {
    const key = `${groupId}/${envelope.target}`;
    const held = await this.context.state.json(ReactionCountsRecord, ns.reactionCounts, key);
    if (held && held.at > envelope.ts) return { ops: [] };
    const record: ReactionCountsRecord = { counts: envelope.counts, at: envelope.ts };
    return {
      ops: [put(ns.reactionCounts, key, asJson(record))],
      after: () =>
        this.context.events.emit("reactions", {
          groupId,
          messageId: envelope.target,
          counts: envelope.counts,
        }),
    };
  }

  /** Publishes every count still due (after a restart, say). */
  async flushDue(): Promise<void> {
    for (const key of await this.context.state.keys(ns.countsDue)) {
      const [groupId, target] = key.split("/");
      if (groupId && target) await this.flush(groupId, target);
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(groupId: string, target: string): void {
    const key = `${groupId}/${target}`;
    if (this.timers.has(key) || this.context.closed()) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (this.context.closed()) return;
      this.context.track(this.flush(groupId, target));
    }, this.delayMs);
    this.timers.set(key, timer);
  }

  /**
   * Counts and publishes. Offline, the counts stay due for the next catch-up;
   * refused (this user is no admin any more, say), they are dropped. Never throws.
   */
  private async flush(groupId: string, target: string): Promise<void> {
    const key = `${groupId}/${target}`;
    const counts: Record<string, number> = {};
    try {
      for (const r of await this.who(groupId, target)) counts[r.emoji] = (counts[r.emoji] ?? 0) + 1;
      const at = Date.now();
      await this.publish(groupId, { target, counts, at });
      const record: ReactionCountsRecord = { counts, at };
      await this.context.state.write([
        put(ns.reactionCounts, key, asJson(record)),
        del(ns.countsDue, key),
      ]);
    } catch (err) {
      const code = isVeilError(err) ? err.code : "unexpected";
      this.context.logger.debug({ groupId, code }, "reaction counts not published");
      if (!isVeilError(err) || !err.retryable) {
        await this.context.state.write([del(ns.countsDue, key)]).catch(() => undefined);
      }
      return;
    }
    this.context.events.emit("reactions", { groupId, messageId: target, counts });
  }

  /** Whether this very device posted the announcement (it alone publishes its counts). */
  private async postedHere(groupId: string, messageId: string): Promise<boolean> {
    const seq = await this.context.state.store.get(ns.seen, `${groupId}/${messageId}`);
    if (typeof seq !== "number") return false;
    const record = await this.context.state.json(HistoryRecord, ns.messages, seqKey(groupId, seq));
    return record?.senderDeviceId === this.context.deviceId;
  }
}

/** What a counts publication says. */
export interface CountsBody {
  target: string;
  counts: Record<string, number>;
  at: number;
}
