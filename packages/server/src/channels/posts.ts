import {
  type ChannelMedia,
  type ChannelPoll,
  type ChannelPost,
  type CreatePostRequest,
  defaultChannelReactions,
  type HeldItem,
  type LinkPreview,
  type PollCounts,
} from "@veil/protocol";
import type { Selectable } from "kysely";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { channelFollowerView, followerPhotoAllowed } from "../privacy/policy.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { ChannelPollsTable, ChannelPostsTable } from "../store/schema/channels.js";
import type { Channels } from "./channels.js";
import type { ContentGate } from "./content-gate.js";
import { isSingleEmoji } from "./emoji.js";

const dayMs = 24 * 3600 * 1000;
/** Admins edit and delete posts for this long. */
export const editWindowMs = 30 * dayMs;
/** How far back anyone who neither follows nor administers a channel reads it (a preview). */
export const previewMs = 30 * dayMs;
/** Counts of one post are pushed at most this often (a storm of reactions costs bounded broadcasts). */
const countsEveryMs = 1000;
const maxPage = 200;

type PollRow = Selectable<ChannelPollsTable>;
/** What a post view adds to its row: counts, the caller's own reaction and vote, media, the poll. */
interface PostExtras {
  reactions: Record<string, number>;
  myReaction: string | null;
  media: ChannelMedia[];
  poll: ChannelPoll | null;
}
const noExtras = (): PostExtras => ({ reactions: {}, myReaction: null, media: [], poll: null });

/** The preview's URL must parse as http or https (the schema's pattern is a first sieve). */
function checkPreview(preview: LinkPreview): void {
  let url: URL;
  try {
    url = new URL(preview.url);
  } catch {
    throw new VeilError("link_preview_invalid");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new VeilError("link_preview_invalid");
  }
  if (url.hostname === "" || url.username !== "" || url.password !== "") {
    throw new VeilError("link_preview_invalid");
  }
}

/** Whether the channel's reaction setting takes `emoji`: `any` takes exactly one emoji. */
function reactionAllowed(policy: "any" | "default" | "none", emoji: string): boolean {
  if (policy === "none") return false;
  if (policy === "default") return (defaultChannelReactions as readonly string[]).includes(emoji);
  return isSingleEmoji(emoji);
}

/** Counter changes sorted by key: every transaction takes the counter rows in the same order. */
function inOrder<K extends string | number>(changes: Array<[K, 1 | -1]>): Array<[K, 1 | -1]> {
  return [...changes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The link a forwarded copy of a post carries back to its channel. */
export const postLink = (handle: string, seq: number) => `veil://channel/${handle}/${seq}`;

/**
 * Posts of a channel and their reactions. A post is one row whatever the
 * number of followers; connected followers get it as one frame per node
 * (the gateway knows who follows what), offline ones read it by sequence.
 * A reaction is one row per follower per post, with the counters updated in
 * the same transaction; counts are pushed coalesced, at most once a second
 * per post and node. Followers see counts; admins see who, as R8 allows.
 *
 * Concurrency: a follower's reactions and votes run one at a time (their
 * follow row is locked first, where the backend has row locks), so a change
 * always reads the follower's latest choice; counters change in a fixed
 * order (by emoji, by option), so two followers never wait on each other.
 */
export class ChannelPosts {
  /** Posts whose counts changed and wait for their coalesced push, by `channel seq`. */
  private readonly dirty = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly gate: ContentGate,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /**
   * An admin posts, as the channel. A resend with the same client id is
   * stored once. The post is checked first: refused (`content_rejected`),
   * held for review (answered as the HeldItem; it gets its seq only when a
   * moderator releases it), or published.
   */
  async post(
    auth: AuthContext,
    channelId: string,
    request: CreatePostRequest,
  ): Promise<(ChannelPost & { duplicate: boolean }) | HeldItem> {
    const { channel } = await this.channels.asAdmin(auth, channelId);
    if (channel.status !== "active") throw new VeilError("channel_suspended");
    if (request.text === undefined && !request.media && !request.poll) {
      throw new VeilError("post_empty");
    }
    if (request.preview) checkPreview(request.preview);
    const poll = request.poll ? this.checkPoll(request.poll) : null;
    const existing = await this.byClientId(channelId, request.id);
    if (existing) return { ...(await this.view(auth, channel.handle, existing)), duplicate: true };
    const pending = await this.gate.heldPost(channelId, request.id);
    if (pending) return pending;
    // Unknown media is the admin's mistake, answered before any check.
    await this.mediaOf(this.db, channelId, [
      ...(request.media ?? []),
      ...(request.preview?.image ? [request.preview.image] : []),
    ]);
    const verdict = await this.gate.screen({ kind: "post", channelId, request });
    if (verdict.action === "hold") {
      const submission = { kind: "post", channelId, request } as const;
      try {
        return await this.database.transaction((tx) => this.gate.hold(tx, submission, verdict));
      } catch (error) {
        // The same post resent while the first was being held: answer that hold.
        const held = this.database.isUniqueViolation(error)
          ? await this.gate.heldPost(channelId, request.id)
          : null;
        if (!held) throw error;
        return held;
      }
    }
    try {
      const view = await this.database.transaction((tx) =>
        this.insertPost(tx, channelId, channel.handle, request, poll),
      );
      return { ...view, duplicate: false };
    } catch (error) {
      if (!this.database.isUniqueViolation(error)) throw error;
      const row = await this.byClientId(channelId, request.id);
      if (!row) throw error;
      return { ...(await this.view(auth, channel.handle, row)), duplicate: true };
    }
  }

  /**
   * Publishes a post a moderator released, in the decision's transaction,
   * exactly as a fresh post: the next seq, pushed to connected followers.
   * Null when there is nothing to publish (the channel was deleted, or a post
   * with the same client id is already out).
   */
  async publishReleased(
    tx: Tx,
    channelId: string,
    request: CreatePostRequest,
  ): Promise<ChannelPost | null> {
    const channel = await tx.db
      .selectFrom("channels")
      .select(["handle", "status"])
      .where("id", "=", channelId)
      .executeTakeFirst();
    if (!channel || channel.status === "deleted") return null;
    const existing = await tx.db
      .selectFrom("channel_posts")
      .select("seq")
      .where("channel_id", "=", channelId)
      .where("client_id", "=", request.id)
      .executeTakeFirst();
    if (existing) return null;
    // The poll's close time may have passed while it waited: it is then published closed.
    const poll = request.poll ? this.storedPoll(request.poll) : null;
    return this.insertPost(tx, channelId, channel.handle, request, poll);
  }

  /** Appends a post with the channel's next seq; followers get it once the transaction commits. */
  private async insertPost(
    tx: Tx,
    channelId: string,
    handle: string,
    request: CreatePostRequest,
    poll: ReturnType<ChannelPosts["storedPoll"]> | null,
  ): Promise<ChannelPost> {
    const now = this.now();
    const media = await this.mediaOf(tx.db, channelId, request.media ?? []);
    if (request.preview?.image) await this.mediaOf(tx.db, channelId, [request.preview.image]);
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
      text: request.text ?? "",
      created_at: now,
      edited_at: null,
      media: request.media ? JSON.stringify(request.media) : null,
      preview: request.preview ? JSON.stringify(request.preview) : null,
    };
    await tx.db.insertInto("channel_posts").values(post).execute();
    let pollRow: PollRow | null = null;
    if (poll) {
      pollRow = { channel_id: channelId, seq: post.seq, ...poll, voters: 0 };
      await tx.db.insertInto("channel_polls").values(pollRow).execute();
    }
    const published = this.toPost(post, handle, {
      ...noExtras(),
      media,
      poll: pollRow ? this.pollView(pollRow, new Map(), []) : null,
    });
    tx.onCommit(() =>
      this.bus.publish({ type: "channel.posted", channelId, seq: post.seq, post: published }),
    );
    return published;
  }

  /** A poll as stored, or `poll_invalid`: distinct options, a close time still ahead. */
  private checkPoll(poll: NonNullable<CreatePostRequest["poll"]>) {
    const stored = this.storedPoll(poll);
    if (stored.closes_at !== null && !(stored.closes_at > this.now())) {
      throw new VeilError("poll_invalid");
    }
    return stored;
  }

  private storedPoll(poll: NonNullable<CreatePostRequest["poll"]>) {
    const options = poll.options.map((o) => o.trim());
    if (options.some((o) => o === "") || new Set(options).size !== options.length) {
      throw new VeilError("poll_invalid");
    }
    const closesAt = poll.closesAt === undefined ? null : Date.parse(poll.closesAt);
    return {
      question: poll.question.trim(),
      options: JSON.stringify(options),
      multiple: poll.multiple ? 1 : 0,
      closes_at: closesAt,
    };
  }

  /** The channel's media by id, in the order asked; `media_not_found` if one is not the channel's. */
  private async mediaOf(db: Db, channelId: string, ids: string[]): Promise<ChannelMedia[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom("channel_media")
      .select(["id", "content_type", "size"])
      .where("channel_id", "=", channelId)
      .where("id", "in", [...new Set(ids)])
      .execute();
    const byId = new Map(
      rows.map((r) => [r.id, { id: r.id, contentType: r.content_type, size: Number(r.size) }]),
    );
    return ids.map((id) => {
      const media = byId.get(id);
      if (!media) throw new VeilError("media_not_found");
      return media;
    });
  }

  private byClientId(channelId: string, clientId: string) {
    return this.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("client_id", "=", clientId)
      .executeTakeFirst();
  }

  /**
   * Posts after `after`: within the retention period to followers and
   * admins; as a preview to anyone else, within the last 30 days at most,
   * however long the retention period.
   */
  async list(auth: AuthContext, channelId: string, after: number, limit: number) {
    const { channel, role, following } = await this.channels.standing(auth, channelId);
    const shownMs = this.shownMs(role !== null, following);
    const rows = await this.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", ">", after)
      .where("created_at", ">", this.now() - shownMs)
      .orderBy("seq")
      .limit(Math.min(Math.max(limit, 1), maxPage))
      .execute();
    return {
      posts: await this.views(auth, channel.handle, rows),
      lastSeq: Number(channel.last_seq),
    };
  }

  /** How far back a caller reads: the retention period, or (not following) a preview. */
  private shownMs(admin: boolean, following: boolean): number {
    return !admin && !following ? Math.min(this.retentionMs, previewMs) : this.retentionMs;
  }

  /**
   * A post as the caller may read it (the rules of `list`): the channel is
   * `channel_not_found` and the post `post_not_found` when not shown to them.
   */
  async readable(auth: AuthContext, channelId: string, seq: number) {
    const { channel, role, following } = await this.channels.standing(auth, channelId);
    const row = await this.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .where("created_at", ">", this.now() - this.shownMs(role !== null, following))
      .executeTakeFirst();
    if (!row) throw new VeilError("post_not_found");
    return { channel, post: row };
  }

  private async view(
    auth: AuthContext | null,
    handle: string,
    row: ChannelPostsTable,
    db: Db = this.db,
  ): Promise<ChannelPost> {
    return (await this.views(auth, handle, [row], db))[0] as ChannelPost;
  }

  /** Posts with their counts, media, polls, and the caller's own reaction and vote (none for null). */
  private async views(
    auth: AuthContext | null,
    handle: string,
    rows: ChannelPostsTable[],
    db: Db = this.db,
  ): Promise<ChannelPost[]> {
    if (rows.length === 0) return [];
    const channelId = rows[0]?.channel_id as string;
    const seqs = rows.map((r) => r.seq);
    const userId = auth?.userId ?? "";
    const [counts, mine, polls, pollCounts, myVotes] = await Promise.all([
      db
        .selectFrom("channel_counts")
        .select(["seq", "emoji", "count"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .where("count", ">", 0)
        .execute(),
      db
        .selectFrom("channel_reactions")
        .select(["seq", "emoji"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .where("user_id", "=", userId)
        .execute(),
      db
        .selectFrom("channel_polls")
        .selectAll()
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .execute(),
      db
        .selectFrom("channel_poll_counts")
        .select(["seq", "option", "count"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .execute(),
      db
        .selectFrom("channel_poll_votes")
        .select(["seq", "option"])
        .where("channel_id", "=", channelId)
        .where("seq", "in", seqs)
        .where("user_id", "=", userId)
        .execute(),
    ]);
    const countsOf = new Map<number, Record<string, number>>();
    for (const c of counts) {
      const record = countsOf.get(Number(c.seq)) ?? {};
      record[c.emoji] = Number(c.count);
      countsOf.set(Number(c.seq), record);
    }
    const myReaction = new Map(mine.map((m) => [Number(m.seq), m.emoji]));
    const votesOf = new Map<number, Map<number, number>>();
    for (const c of pollCounts) {
      const map = votesOf.get(Number(c.seq)) ?? new Map<number, number>();
      map.set(Number(c.option), Number(c.count));
      votesOf.set(Number(c.seq), map);
    }
    const myVoteOf = new Map<number, number[]>();
    for (const v of myVotes) {
      const list = myVoteOf.get(Number(v.seq)) ?? [];
      list.push(Number(v.option));
      myVoteOf.set(Number(v.seq), list);
    }
    const pollOf = new Map(polls.map((p) => [Number(p.seq), p]));
    const mediaIds = rows.flatMap((r) => (r.media ? (JSON.parse(r.media) as string[]) : []));
    const media = new Map<string, ChannelMedia>();
    if (mediaIds.length > 0) {
      const found = await db
        .selectFrom("channel_media")
        .select(["id", "content_type", "size"])
        .where("channel_id", "=", channelId)
        .where("id", "in", [...new Set(mediaIds)])
        .execute();
      for (const m of found) {
        media.set(m.id, { id: m.id, contentType: m.content_type, size: Number(m.size) });
      }
    }
    return rows.map((r) => {
      const seq = Number(r.seq);
      const poll = pollOf.get(seq);
      const ids = r.media ? (JSON.parse(r.media) as string[]) : [];
      return this.toPost(r, handle, {
        reactions: countsOf.get(seq) ?? {},
        myReaction: myReaction.get(seq) ?? null,
        media: ids.flatMap((id) => media.get(id) ?? []),
        poll: poll
          ? this.pollView(poll, votesOf.get(seq) ?? new Map(), myVoteOf.get(seq) ?? [])
          : null,
      });
    });
  }

  private pollView(row: PollRow, votes: Map<number, number>, mine: number[]): ChannelPoll {
    const options = JSON.parse(row.options) as string[];
    return {
      question: row.question,
      options: options.map((text, i) => ({ text, votes: votes.get(i) ?? 0 })),
      multiple: row.multiple === 1,
      voters: Number(row.voters),
      closesAt: row.closes_at === null ? null : new Date(Number(row.closes_at)).toISOString(),
      closed: this.closed(row),
      myVote: [...mine].sort((a, b) => a - b),
    };
  }

  private closed(row: Pick<PollRow, "closes_at">): boolean {
    return row.closes_at !== null && Number(row.closes_at) <= this.now();
  }

  private toPost(row: ChannelPostsTable, handle: string, extras: PostExtras): ChannelPost {
    return {
      channelId: row.channel_id,
      seq: Number(row.seq),
      id: row.client_id,
      text: row.text,
      link: postLink(handle, Number(row.seq)),
      media: extras.media,
      preview: row.preview ? (JSON.parse(row.preview) as LinkPreview) : null,
      poll: extras.poll,
      reactions: extras.reactions,
      myReaction: extras.myReaction,
      createdAt: new Date(row.created_at).toISOString(),
      editedAt: row.edited_at === null ? null : new Date(row.edited_at).toISOString(),
    };
  }

  /** A post still kept (inside the retention period), or `post_not_found`. */
  private async livePost(db: Db, channelId: string, seq: number) {
    const post = await db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .where("created_at", ">", this.now() - this.retentionMs)
      .executeTakeFirst();
    if (!post) throw new VeilError("post_not_found");
    return post;
  }

  /** The poll of a post, or `poll_not_found`. */
  private async pollOf(db: Db, channelId: string, seq: number) {
    const poll = await db
      .selectFrom("channel_polls")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!poll) throw new VeilError("poll_not_found");
    return poll;
  }

  /** A post an admin may still change (30 days), or the matching error. */
  private async editable(auth: AuthContext, channelId: string, seq: number, db: Db) {
    const { channel } = await this.channels.asAdmin(auth, channelId, db);
    const row = await db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!row) throw new VeilError("post_not_found");
    if (row.created_at <= this.now() - editWindowMs) throw new VeilError("edit_window_closed");
    return { row, handle: channel.handle };
  }

  /**
   * Edits a post (admins, 30 days). The new text is checked first; a held
   * edit leaves the post as it was until a moderator releases the edit.
   */
  async edit(
    auth: AuthContext,
    channelId: string,
    seq: number,
    text: string,
  ): Promise<ChannelPost | HeldItem> {
    await this.editable(auth, channelId, seq, this.db);
    const verdict = await this.gate.screen({ kind: "edit", channelId, seq, text });
    if (verdict.action === "hold") {
      const submission = { kind: "edit", channelId, seq, text } as const;
      return this.database.transaction((tx) => this.gate.hold(tx, submission, verdict));
    }
    const { row, handle } = await this.database.transaction(async (tx) => {
      const { row: post, handle } = await this.editable(auth, channelId, seq, tx.db);
      const edited = { ...post, text, edited_at: this.now() };
      await tx.db
        .updateTable("channel_posts")
        .set({ text, edited_at: edited.edited_at })
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .execute();
      const published = await this.view(null, handle, edited, tx.db);
      tx.onCommit(() =>
        this.bus.publish({ type: "channel.posted", channelId, seq, post: published }),
      );
      return { row: edited, handle };
    });
    return this.view(auth, handle, row);
  }

  /** Applies an edit a moderator released, if the post is still there; followers get it. */
  async applyReleasedEdit(tx: Tx, channelId: string, seq: number, text: string): Promise<boolean> {
    const channel = await tx.db
      .selectFrom("channels")
      .select("handle")
      .where("id", "=", channelId)
      .where("status", "!=", "deleted")
      .executeTakeFirst();
    const post = await tx.db
      .selectFrom("channel_posts")
      .selectAll()
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!channel || !post) return false;
    const edited = { ...post, text, edited_at: this.now() };
    await tx.db
      .updateTable("channel_posts")
      .set({ text, edited_at: edited.edited_at })
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .execute();
    const published = await this.view(null, channel.handle, edited, tx.db);
    tx.onCommit(() =>
      this.bus.publish({ type: "channel.posted", channelId, seq, post: published }),
    );
    return true;
  }

  async remove(auth: AuthContext, channelId: string, seq: number): Promise<void> {
    await this.database.transaction(async (tx) => {
      await this.editable(auth, channelId, seq, tx.db);
      await this.takeDown(tx, channelId, seq);
    });
  }

  /**
   * Deletes a post as an admin's delete does (its reactions, poll and votes
   * go; connected followers are told), in the caller's transaction: a
   * moderator's takedown too. False if it was already gone.
   */
  async takeDown(tx: Tx, channelId: string, seq: number): Promise<boolean> {
    const found = await tx.db
      .selectFrom("channel_posts")
      .select("seq")
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!found) return false;
    await this.deletePosts(tx, channelId, [seq]);
    tx.onCommit(() => this.bus.publish({ type: "channel.posted", channelId, seq, post: null }));
    return true;
  }

  /** Deletes posts with their reactions, polls, votes and counts (media stays: posts share it). */
  private async deletePosts(tx: Tx, channelId: string, seqs: number[]): Promise<void> {
    const tables = [
      "channel_poll_counts",
      "channel_poll_votes",
      "channel_polls",
      "channel_counts",
      "channel_reactions",
      "channel_posts",
    ] as const;
    for (const table of tables) {
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
      if (emoji !== null && !reactionAllowed(channel.reaction_policy, emoji)) {
        throw new VeilError("reaction_not_allowed");
      }
      await this.lockFollower(tx, channelId, auth.userId);
      const post = await this.livePost(tx.db, channelId, seq);
      const found = { row: post, handle: channel.handle };
      const previous = await tx.db
        .selectFrom("channel_reactions")
        .select("emoji")
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if ((previous?.emoji ?? null) === emoji) return found;
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
      }
      const changes: Array<[string, 1 | -1]> = [];
      if (previous) changes.push([previous.emoji, -1]);
      if (emoji !== null) changes.push([emoji, 1]);
      for (const [e, by] of inOrder(changes)) await this.count(tx, channelId, seq, e, by);
      tx.onCommit(() => this.countsChanged(channelId, seq));
      return found;
    });
    return this.view(auth, row.handle, row.row);
  }

  // --- polls -------------------------------------------------------------------------

  /**
   * A follower's vote: one option, or several in a multiple-choice poll;
   * changed, or (options null) withdrawn, while the poll is open. One row per
   * option chosen, with the counters in the same transaction.
   */
  async vote(
    auth: AuthContext,
    channelId: string,
    seq: number,
    options: number[] | null,
  ): Promise<ChannelPost> {
    const found = await this.database.transaction(async (tx) => {
      const { channel } = await this.channels.standing(auth, channelId, tx.db);
      await this.lockFollower(tx, channelId, auth.userId);
      const post = await this.livePost(tx.db, channelId, seq);
      const poll = await this.pollOf(tx.db, channelId, seq);
      if (this.closed(poll)) throw new VeilError("poll_closed");
      const next = new Set(options ?? []);
      const optionCount = (JSON.parse(poll.options) as string[]).length;
      if (
        options !== null &&
        (next.size !== options.length ||
          options.some((o) => o >= optionCount) ||
          (poll.multiple !== 1 && options.length !== 1))
      ) {
        throw new VeilError("vote_invalid");
      }
      const previous = new Set(
        (
          await tx.db
            .selectFrom("channel_poll_votes")
            .select("option")
            .where("channel_id", "=", channelId)
            .where("seq", "=", seq)
            .where("user_id", "=", auth.userId)
            .execute()
        ).map((r) => Number(r.option)),
      );
      const removed = [...previous].filter((o) => !next.has(o));
      const added = [...next].filter((o) => !previous.has(o));
      const result = { row: post, handle: channel.handle };
      if (removed.length === 0 && added.length === 0) return result;
      const now = this.now();
      if (removed.length > 0) {
        await tx.db
          .deleteFrom("channel_poll_votes")
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .where("user_id", "=", auth.userId)
          .where("option", "in", removed)
          .execute();
      }
      if (added.length > 0) {
        await tx.db
          .insertInto("channel_poll_votes")
          .values(
            added.map((option) => ({
              channel_id: channelId,
              seq,
              user_id: auth.userId,
              option,
              at: now,
            })),
          )
          .execute();
      }
      const changes = [
        ...removed.map((o): [number, 1 | -1] => [o, -1]),
        ...added.map((o): [number, 1 | -1] => [o, 1]),
      ];
      for (const [option, by] of inOrder(changes)) {
        await this.countVote(tx, channelId, seq, option, by);
      }
      const voters = (previous.size === 0 ? 1 : 0) - (next.size === 0 ? 1 : 0);
      // Last, and only if nobody closed the poll meanwhile: a vote overlapping
      // the closing waits for it on the poll row, then finds its close time
      // changed and rolls back.
      const { closes_at } = poll;
      const open = await tx.db
        .updateTable("channel_polls")
        .set((eb) => ({ voters: eb("voters", "+", voters) }))
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .where((eb) =>
          closes_at === null ? eb("closes_at", "is", null) : eb("closes_at", "=", closes_at),
        )
        .executeTakeFirst();
      if (open.numUpdatedRows === 0n) throw new VeilError("poll_closed");
      tx.onCommit(() => this.countsChanged(channelId, seq));
      return result;
    });
    return this.view(auth, found.handle, found.row);
  }

  /**
   * Closes a post's poll now (admins): later votes, changes and withdrawals
   * are `poll_closed`. Followers get the post again (its poll `closed`) and
   * the final counts; closing a closed poll changes nothing.
   */
  async closePoll(auth: AuthContext, channelId: string, seq: number): Promise<ChannelPost> {
    const found = await this.database.transaction(async (tx) => {
      const { channel } = await this.channels.asAdmin(auth, channelId, tx.db);
      const post = await this.livePost(tx.db, channelId, seq);
      const poll = await this.pollOf(tx.db, channelId, seq);
      const result = { row: post, handle: channel.handle };
      if (this.closed(poll)) return result;
      await tx.db
        .updateTable("channel_polls")
        .set({ closes_at: this.now() })
        .where("channel_id", "=", channelId)
        .where("seq", "=", seq)
        .execute();
      const published = await this.view(null, channel.handle, post, tx.db);
      tx.onCommit(async () => {
        this.countsChanged(channelId, seq);
        await this.bus.publish({ type: "channel.posted", channelId, seq, post: published });
      });
      return result;
    });
    return this.view(auth, found.handle, found.row);
  }

  /**
   * Locks the caller's follow row until the transaction ends, or
   * `not_following`: one reaction or vote at a time per follower, so a change
   * reads the follower's latest choice even under READ COMMITTED.
   */
  private async lockFollower(tx: Tx, channelId: string, userId: string): Promise<void> {
    const follower = await tx.db
      .selectFrom("channel_followers")
      .select("user_id")
      .where("channel_id", "=", channelId)
      .where("user_id", "=", userId)
      .$call((query) => this.database.forUpdate(query))
      .executeTakeFirst();
    if (!follower) throw new VeilError("not_following");
  }

  private async countVote(tx: Tx, channelId: string, seq: number, option: number, by: 1 | -1) {
    await tx.db
      .insertInto("channel_poll_counts")
      .values({ channel_id: channelId, seq, option, count: by === 1 ? 1 : 0 })
      .onConflict((oc) =>
        oc
          .columns(["channel_id", "seq", "option"])
          .doUpdateSet((eb) => ({ count: eb("channel_poll_counts.count", "+", by) })),
      )
      .execute();
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
    const poll = await this.pollCounts(channelId, seq);
    await this.bus.publish({
      type: "channel.counts",
      channelId,
      seq,
      counts,
      ...(poll ? { poll } : {}),
    });
  }

  private async pollCounts(channelId: string, seq: number): Promise<PollCounts | null> {
    const poll = await this.db
      .selectFrom("channel_polls")
      .select(["options", "voters"])
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!poll) return null;
    const rows = await this.db
      .selectFrom("channel_poll_counts")
      .select(["option", "count"])
      .where("channel_id", "=", channelId)
      .where("seq", "=", seq)
      .execute();
    const votes = (JSON.parse(poll.options) as string[]).map(() => 0);
    for (const r of rows) votes[Number(r.option)] = Number(r.count);
    return { votes, voters: Number(poll.voters) };
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
          follower: channelFollowerView(
            subject,
            relation(auth.userId, subject),
            r.handle,
            followerPhotoPath(channelId, r.handle),
          ),
          emoji: r.emoji,
          at: new Date(r.at).toISOString(),
        },
      ];
    });
  }

  /**
   * A follower's photo, for the channel's admins, by the follower's handle in
   * this channel (R8): only if the follower's setting lets this admin see it.
   * An unknown handle and a photo not allowed both answer `photo_not_found`.
   */
  async followerPhoto(auth: AuthContext, channelId: string, handle: string) {
    await this.channels.asAdmin(auth, channelId);
    const follower = await this.db
      .selectFrom("channel_followers")
      .select("user_id")
      .where("channel_id", "=", channelId)
      .where("handle", "=", handle)
      .executeTakeFirst();
    const subject =
      follower && (await this.profiles.subjects([follower.user_id])).get(follower.user_id);
    if (!subject) throw new VeilError("photo_not_found");
    const relation = await this.profiles.relationsBetween([auth.userId], [subject]);
    if (!followerPhotoAllowed(subject, relation(auth.userId, subject)) || subject.photo === null) {
      throw new VeilError("photo_not_found");
    }
    const photo = await this.db
      .selectFrom("photos")
      .select(["content_type", "bytes"])
      .where("id", "=", subject.photo)
      .executeTakeFirst();
    if (!photo) throw new VeilError("photo_not_found");
    return { contentType: photo.content_type, bytes: Buffer.from(photo.bytes) };
  }

  /**
   * Who voted for what, for the channel's admins (R8), as for reactions: the
   * per-channel handle, the name, the photo only if allowed; never a number or id.
   */
  async voters(auth: AuthContext, channelId: string, seq: number) {
    await this.channels.asAdmin(auth, channelId);
    const rows = await this.db
      .selectFrom("channel_poll_votes as v")
      .innerJoin("channel_followers as f", (join) =>
        join.onRef("f.channel_id", "=", "v.channel_id").onRef("f.user_id", "=", "v.user_id"),
      )
      .select(["v.user_id", "v.option", "v.at", "f.handle"])
      .where("v.channel_id", "=", channelId)
      .where("v.seq", "=", seq)
      .orderBy("v.at")
      .orderBy("v.option")
      .limit(12_000)
      .execute();
    const byUser = new Map<string, { handle: string; options: number[]; at: number }>();
    for (const r of rows) {
      const entry = byUser.get(r.user_id) ?? { handle: r.handle, options: [], at: 0 };
      entry.options.push(Number(r.option));
      entry.at = Math.max(entry.at, Number(r.at));
      byUser.set(r.user_id, entry);
    }
    const subjects = await this.profiles.subjects([...byUser.keys()]);
    const relation = await this.profiles.relationsBetween([auth.userId], [...subjects.values()]);
    return [...byUser].flatMap(([userId, entry]) => {
      const subject = subjects.get(userId);
      if (!subject) return [];
      return [
        {
          follower: channelFollowerView(
            subject,
            relation(auth.userId, subject),
            entry.handle,
            followerPhotoPath(channelId, entry.handle),
          ),
          options: entry.options.sort((a, b) => a - b),
          at: new Date(entry.at).toISOString(),
        },
      ];
    });
  }
}

/** Where a channel's admins fetch a follower's photo: by the per-channel handle, never a user id. */
export const followerPhotoPath = (channelId: string, handle: string): string =>
  `/v1/channels/${channelId}/followers/${handle}/photo`;
