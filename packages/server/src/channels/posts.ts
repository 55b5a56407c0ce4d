import { type ChannelPost, type CreatePostRequest, defaultChannelReactions } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { channelFollowerView } from "../privacy/policy.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { ChannelPostsTable } from "../store/schema/channels.js";
import type { Channels } from "./channels.js";

const dayMs = 24 * 3600 * 1000;
/** Admins edit and delete posts for this long. */
export const editWindowMs = 30 * dayMs;
/** Counts of one post are pushed at most this often (a storm of reactions costs bounded broadcasts). */
const countsEveryMs = 1000;
const maxPage = 200;

/**
 * Posts of a channel and their reactions. A post is one row whatever the
 * number of followers; connected followers get it as one frame per node
 * (the gateway knows who follows what), offline ones read it by sequence.
 * A reaction is one row per follower per post, with the counters updated in
 * the same transaction; counts are pushed coalesced, at most once a second
 * per post. Followers see counts; admins see who, as R8 allows.
 */
export class ChannelPosts {
  /** Posts whose counts changed and wait for their coalesced push, by `channel seq`. */
  private readonly dirty = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** An admin posts, as the channel. A resend with the same client id is stored once. */
  async post(
    auth: AuthContext,
    channelId: string,
    request: CreatePostRequest,
  ): Promise<ChannelPost & { duplicate: boolean }> {
    const { channel } = await this.channels.asAdmin(auth, channelId);
    if (channel.status !== "active") throw new VeilError("channel_not_found");
    const existing = await this.byClientId(channelId, request.id);
    if (existing) return { ...(await this.view(auth, existing)), duplicate: true };
    try {
      const row = await this.database.transaction(async (tx) => {
        const now = this.now();
        const { last_seq } = await tx.db
          .updateTable("channels")
          .set((eb) => ({ last_seq: eb("last_seq", "+", 1), last_post_at: now }))
          .where("id", "=", channelId)
          .returning("last_seq")
          .executeTakeFirstOrThrow();
        const post: ChannelPostsTable = {
          channel_id: channelId,
          seq: Number(last_seq),
          client_id: request.id,
          text: request.text,
          created_at: now,
          edited_at: null,
        };
        await tx.db.insertInto("channel_posts").values(post).execute();
        const published = this.toPost(post, {}, null);
        tx.onCommit(() =>
          this.bus.publish({ type: "channel.posted", channelId, seq: post.seq, post: published }),
        );
        return post;
      });
      return { ...this.toPost(row, {}, null), duplicate: false };
    } catch (error) {
      if (!this.database.isUniqueViolation(error)) throw error;
      const row = await this.byClientId(channelId, request.id);
      if (!row) throw error;
      return { ...(await this.view(auth, row)), duplicate: true };
    }
  }

  private byClientId(channelId: string, clientId: string) {
    return this.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("client_id", "=", clientId)
      .executeTakeFirst();
  }

  /** Posts after `after`, within the retention period: to followers, and as a preview to anyone. */
  async list(auth: AuthContext, channelId: string, after: number, limit: number) {
    const { channel } = await this.channels.standing(auth, channelId);
    const rows = await this.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", ">", after)
      .where("created_at", ">", this.now() - this.retentionMs)
      .orderBy("seq")
      .limit(Math.min(Math.max(limit, 1), maxPage))
      .execute();
    return { posts: await this.views(auth, rows), lastSeq: Number(channel.last_seq) };
  }

  private async view(auth: AuthContext, row: ChannelPostsTable): Promise<ChannelPost> {
    return (await this.views(auth, [row]))[0] as ChannelPost;
  }

  /** Posts with their counts and the caller's own reaction. */
  private async views(auth: AuthContext, rows: ChannelPostsTable[]): Promise<ChannelPost[]> {
    if (rows.length === 0) return [];
    const channelId = rows[0]?.channel_id as string;
    const seqs = rows.map((r) => r.seq);
    const [counts, mine] = await Promise.all([
      this.db
        .selectFrom("channel_counts")
        .select(["seq", "emoji", "count"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .where("count", ">", 0)
        .execute(),
      this.db
        .selectFrom("channel_reactions")
        .select(["seq", "emoji"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .where("user_id", "=", auth.userId)
        .execute(),
    ]);
    const countsOf = new Map<number, Record<string, number>>();
    for (const c of counts) {
      const record = countsOf.get(Number(c.seq)) ?? {};
      record[c.emoji] = Number(c.count);
      countsOf.set(Number(c.seq), record);
    }
    const myReaction = new Map(mine.map((m) => [Number(m.seq), m.emoji]));
    return rows.map((r) =>
      this.toPost(r, countsOf.get(Number(r.seq)) ?? {}, myReaction.get(Number(r.seq)) ?? null),
    );
  }

  private toPost(
    row: ChannelPostsTable,
    reactions: Record<string, number>,
    myReaction: string | null,
  ): ChannelPost {
    return {
      channelId: row.channel_id,
      seq: Number(row.seq),
      id: row.client_id,
      text: row.text,
      reactions,
      myReaction,
      createdAt: new Date(row.created_at).toISOString(),
      editedAt: row.edited_at === null ? null : new Date(row.edited_at).toISOString(),
    };
  }

  /** A post an admin may still change (30 days), or the matching error. */
  private async editable(auth: AuthContext, channelId: string, seq: number, db: Db) {
    await this.channels.asAdmin(auth, channelId, db);
    const row = await db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!row) throw new VeilError("post_not_found");
    if (row.created_at <= this.now() - editWindowMs) throw new VeilError("edit_window_closed");
    return row;
  }

  async edit(
    auth: AuthContext,
    channelId: string,
    seq: number,
    text: string,
  ): Promise<ChannelPost> {
    const row = await this.database.transaction(async (tx) => {
      const post = await this.editable(auth, channelId, seq, tx.db);
      const edited = { ...post, text, edited_at: this.now() };
      await tx.db
        .updateTable("channel_posts")
        .set({ text, edited_at: edited.edited_at })
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .execute();
      const published = this.toPost(edited, {}, null);
      tx.onCommit(() =>
        this.bus.publish({ type: "channel.posted", channelId, seq, post: published }),
      );
      return edited;
    });
    return this.view(auth, row);
  }

  async remove(auth: AuthContext, channelId: string, seq: number): Promise<void> {
    await this.database.transaction(async (tx) => {
      await this.editable(auth, channelId, seq, tx.db);
      await this.deletePosts(tx, channelId, [seq]);
      tx.onCommit(() => this.bus.publish({ type: "channel.posted", channelId, seq, post: null }));
    });
  }

  /** Deletes posts with their reactions and counts. */
  private async deletePosts(tx: Tx, channelId: string, seqs: number[]): Promise<void> {
    for (const table of ["channel_counts", "channel_reactions", "channel_posts"] as const) {
      await tx.db
        .deleteFrom(table)
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .execute();
    }
  }

  /** Posts older than the retention period go, with their reactions. */
  async prune(now: number): Promise<number> {
    const old = await this.db
      .selectFrom("channel_posts")
      .select(["channel_id", "seq"])
      .where("created_at", "<=", now - this.retentionMs)
      .limit(5000)
      .execute();
    const byChannel = new Map<string, number[]>();
    for (const p of old) {
      const list = byChannel.get(p.channel_id) ?? [];
      list.push(Number(p.seq));
      byChannel.set(p.channel_id, list);
    }
    await this.database.transaction(async (tx) => {
      for (const [channelId, seqs] of byChannel) await this.deletePosts(tx, channelId, seqs);
    });
    return old.length;
  }

  // --- reactions -------------------------------------------------------------------

  /** One reaction per follower per post: set, changed, or (emoji null) removed. */
  async react(
    auth: AuthContext,
    channelId: string,
    seq: number,
    emoji: string | null,
  ): Promise<ChannelPost> {
    const row = await this.database.transaction(async (tx) => {
      const { channel } = await this.channels.standing(auth, channelId, tx.db);
      if (emoji !== null) {
        if (
          channel.reaction_policy === "none" ||
          (channel.reaction_policy === "default" &&
            !(defaultChannelReactions as readonly string[]).includes(emoji))
        ) {
          throw new VeilError("reaction_not_allowed");
        }
      }
      const follower = await tx.db
        .selectFrom("channel_followers")
        .select("user_id")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if (!follower) throw new VeilError("not_following");
      const post = await tx.db
        .selectFrom("channel_posts")
        .selectAll()
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .where("created_at", ">", this.now() - this.retentionMs)
        .executeTakeFirst();
      if (!post) throw new VeilError("post_not_found");
      const previous = await tx.db
        .selectFrom("channel_reactions")
        .select("emoji")
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if ((previous?.emoji ?? null) === emoji) return post;
      if (previous) await this.count(tx, channelId, seq, previous.emoji, -1);
      if (emoji === null) {
        await tx.db
          .deleteFrom("channel_reactions")
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .where("user_id", "=", auth.userId)
          .execute();
      } else {
        await tx.db
          .insertInto("channel_reactions")
          .values({ channel_id: channelId, seq, user_id: auth.userId, emoji, at: this.now() })
          .onConflict((oc) =>
            oc.columns(["channel_id", "seq", "user_id"]).doUpdateSet({ emoji, at: this.now() }),
          )
          .execute();
        await this.count(tx, channelId, seq, emoji, 1);
      }
      tx.onCommit(() => this.countsChanged(channelId, seq));
      return post;
    });
    return this.view(auth, row);
  }

  private async count(tx: Tx, channelId: string, seq: number, emoji: string, by: 1 | -1) {
    await tx.db
      .insertInto("channel_counts")
      .values({ channel_id: channelId, seq, emoji, count: by === 1 ? 1 : 0 })
      .onConflict((oc) =>
        oc
          .columns(["channel_id", "seq", "emoji"])
          .doUpdateSet((eb) => ({ count: eb("channel_counts.count", "+", by) })),
      )
      .execute();
  }

  /** Schedules one push of the post's counts within a second, however many reactions come. */
  private countsChanged(channelId: string, seq: number): void {
    const key = `${channelId} ${seq}`;
    if (this.dirty.has(key)) return;
    const timer = setTimeout(() => {
      this.dirty.delete(key);
      void this.pushCounts(channelId, seq).catch(() => {});
    }, countsEveryMs);
    timer.unref();
    this.dirty.set(key, timer);
  }

  private async pushCounts(channelId: string, seq: number): Promise<void> {
    const rows = await this.db
      .selectFrom("channel_counts")
      .select(["emoji", "count"])
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .where("count", ">", 0)
      .execute();
    const counts = Object.fromEntries(rows.map((r) => [r.emoji, Number(r.count)]));
    await this.bus.publish({ type: "channel.counts", channelId, seq, counts });
  }

  /** Stops pending pushes (shutdown). */
  close(): void {
    for (const timer of this.dirty.values()) clearTimeout(timer);
    this.dirty.clear();
  }

  /**
   * Who reacted to a post, for the channel's admins (R8): each follower's
   * per-channel handle, name, and photo only if their setting allows it to
   * this admin. Never a phone number, username or user id.
   */
  async interactions(auth: AuthContext, channelId: string, seq: number) {
    await this.channels.asAdmin(auth, channelId);
    const rows = await this.db
      .selectFrom("channel_reactions as r")
      .innerJoin("channel_followers as f", (join) =>
        join.onRef("f.channel_id", "=", "r.channel_id").onRef("f.user_id", "=", "r.user_id"),
      )
      .select(["r.user_id", "r.emoji", "r.at", "f.handle"])
      .where("r.channel_id", "=", channelId)
      .where("r.seq", "=", seq)
      .orderBy("r.at")
      .limit(1000)
      .execute();
    const subjects = await this.profiles.subjects(rows.map((r) => r.user_id));
    const relation = await this.profiles.relationsBetween([auth.userId], [...subjects.values()]);
    return rows.flatMap((r) => {
      const subject = subjects.get(r.user_id);
      if (!subject) return [];
      return [
        {
          follower: channelFollowerView(subject, relation(auth.userId, subject), r.handle),
          emoji: r.emoji,
          at: new Date(r.at).toISOString(),
        },
      ];
    });
  }
}
