import { isDeepStrictEqual } from "node:util";
import type { PrivacyAudience, PrivacySettings } from "@veil/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { TestUser } from "./helpers/client.js";
import {
  Auditor,
  auditReads,
  Collector,
  channelRoute,
  describeViolations,
  freshMissingIds,
  grantedFields,
  keyPackageRoute,
  type MissingIds,
  type Oracle,
  pairKey,
  pollCounts,
  profileRoute,
  type RawReply,
  readRoutes,
  tinyPng,
  type Violation,
  World,
  type WorldChannel,
  type WorldPoll,
} from "./helpers/privacy-audit.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

/*
 * Invariants 1 and 2 of PRIVACY-MODEL.md in random channels (R7-R10):
 * fast-check draws users (settings, contacts, lookups, blocks), channels with
 * an owner, invited admins, followers, posts, polls (single and multiple
 * choice), reactions and votes, and a few actions (invitations, follows,
 * posts and polls, reactions, votes changed and withdrawn, ownership handed
 * over, channels deleted, profiles, settings, contacts, blocks); then every
 * user reads every read route (profiles of everyone, every channel, its
 * posts, admins and invitations, who reacted and who voted; a deleted
 * channel must answer like one that never existed), and everything every
 * user received (replies to its own actions, reads, WebSocket frames:
 * channel.post, channel.post.deleted, channel.counts, profile.updated) is
 * audited by helpers/privacy-audit.ts. Invariant 2 is checked on its own:
 * in a channel reply or frame a follower shows only as R8 and R10 allow, a
 * follower's per-channel handle only to that channel's admins, beside a
 * reaction or vote, and an invitee only to the owner who invited them; the
 * same follower has a different handle in every channel; what a channel
 * pushes to followers (channel.counts, channel.post) carries counts only,
 * and the last counts a follower got are the post's final counts.
 *
 * Replay: PRIVACY_AUDIT_SEED=<seed> PRIVACY_AUDIT_PATH=<path>;
 * PRIVACY_AUDIT_CHANNEL_RUNS sets the run count; PRIVACY_AUDIT_VERBOSE=1
 * prints what the runs covered.
 */

const runs = Number(process.env.PRIVACY_AUDIT_CHANNEL_RUNS ?? 10);
const seed = process.env.PRIVACY_AUDIT_SEED ? Number(process.env.PRIVACY_AUDIT_SEED) : undefined;
const path = process.env.PRIVACY_AUDIT_PATH;

// ---------------------------------------------------------------------------
// What fast-check draws: every choice is a `pick`, resolved against the world
// when the step runs.

const pick = fc.nat(999);
const chance = (percent: number) => fc.integer({ min: 0, max: 99 }).map((n) => n < percent);
const audience = fc.constantFrom<PrivacyAudience>("everyone", "contacts", "nobody");
const privacy: fc.Arbitrary<PrivacySettings> = fc.record({
  phone: audience,
  photo: audience,
  about: audience,
  presence: audience,
  discoverableByPhone: chance(75),
});
type Policy = "any" | "default" | "none";
const policy = fc.constantFrom<Policy>("any", "any", "default", "none");
/** The first three are in the `default` set, the last two are not. */
const emojis = ["👍", "❤️", "😂", "🦄", "🔥"] as const;

type PollKind = "single" | "multiple";

interface ChannelSpec {
  owner: number;
  admins: number[];
  followers: number[];
  muted: number[];
  posts: number;
  /** Poll posts after the plain ones. */
  polls: PollKind[];
  reactions: Array<[number, number, number]>;
  /** [follower, poll, options]: `options` picks the option(s) (a bit mask in a multiple-choice poll). */
  votes: Array<[number, number, number]>;
}

type Action =
  | { kind: "createChannel"; actor: number }
  | { kind: "inviteAdmin"; channel: number; target: number }
  | { kind: "acceptAdmin"; channel: number; pick: number }
  | { kind: "removeAdmin"; channel: number; pick: number; self: boolean }
  | { kind: "follow"; channel: number; user: number; muted: boolean }
  | { kind: "unfollow"; channel: number; user: number }
  | { kind: "post"; channel: number; actor: number; anyone: boolean; poll: PollKind | null }
  | { kind: "edit"; channel: number; pick: number }
  | { kind: "deletePost"; channel: number; pick: number }
  | {
      kind: "react";
      channel: number;
      user: number;
      post: number;
      emoji: number;
      anyone: boolean;
    }
  | { kind: "unreact"; channel: number; user: number; post: number }
  | {
      kind: "vote";
      channel: number;
      user: number;
      post: number;
      options: number;
      /** Any user (maybe no follower), on any post (maybe no poll). */
      anyone: boolean;
      /** Options the poll refuses (two in a single-choice poll, or one past the last). */
      invalid: boolean;
    }
  | { kind: "unvote"; channel: number; user: number; post: number }
  | { kind: "transfer"; channel: number; pick: number; anyone: boolean }
  | { kind: "deleteChannel"; channel: number; byAdmin: boolean }
  | { kind: "policy"; channel: number; policy: Policy }
  | { kind: "profile"; user: number }
  | { kind: "privacy"; user: number; patch: Partial<PrivacySettings> }
  | { kind: "contact"; viewer: number; pick: number }
  | { kind: "block"; viewer: number; pick: number };

interface WorldSpec {
  users: Array<{ phone: boolean; photo: boolean; username: boolean; privacy: PrivacySettings }>;
  contacts: Array<[number, number]>;
  lookups: Array<[number, number]>;
  blocks: Array<[number, number]>;
  channels: ChannelSpec[];
  actions: Action[];
}

const channelSpec: fc.Arbitrary<ChannelSpec> = fc.record({
  owner: pick,
  admins: fc.uniqueArray(pick, { maxLength: 2 }),
  followers: fc.uniqueArray(pick, { minLength: 1, maxLength: 5 }),
  muted: fc.uniqueArray(pick, { maxLength: 1 }),
  posts: fc.integer({ min: 0, max: 2 }),
  polls: fc.array(fc.constantFrom<PollKind>("single", "multiple"), { maxLength: 2 }),
  reactions: fc.array(fc.tuple(pick, pick, fc.nat(4)), { maxLength: 5 }),
  votes: fc.array(fc.tuple(pick, pick, fc.nat(15)), { maxLength: 4 }),
});
const pollKind = fc.constantFrom<PollKind | null>(null, null, null, "single", "multiple");
const ch = { channel: pick };
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("createChannel"), actor: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("inviteAdmin"), ...ch, target: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("acceptAdmin"), ...ch, pick }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("removeAdmin"), ...ch, pick, self: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("follow"), ...ch, user: pick, muted: chance(20) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unfollow"), ...ch, user: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("post"),
      ...ch,
      actor: pick,
      anyone: chance(15),
      poll: pollKind,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("edit"), ...ch, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deletePost"), ...ch, pick }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("react"),
      ...ch,
      user: pick,
      post: pick,
      emoji: fc.nat(4),
      anyone: chance(15),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("unreact"), ...ch, user: pick, post: pick }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("vote"),
      ...ch,
      user: pick,
      post: pick,
      options: fc.nat(15),
      anyone: chance(15),
      invalid: chance(10),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("unvote"), ...ch, user: pick, post: pick }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("transfer"), ...ch, pick, anyone: chance(20) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("deleteChannel"), ...ch, byAdmin: chance(30) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("policy"), ...ch, policy }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("profile"), user: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("privacy"),
      user: pick,
      patch: fc.record(
        { phone: audience, photo: audience, discoverableByPhone: fc.boolean() },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("contact"), viewer: pick, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("block"), viewer: pick, pick }) },
) as fc.Arbitrary<Action>;

const worldSpec: fc.Arbitrary<WorldSpec> = fc.record({
  users: fc.array(
    fc.record({ phone: chance(85), photo: chance(70), username: chance(60), privacy }),
    { minLength: 3, maxLength: 6 },
  ),
  contacts: fc.array(fc.tuple(pick, pick), { maxLength: 4 }),
  lookups: fc.array(fc.tuple(pick, pick), { maxLength: 2 }),
  blocks: fc.array(fc.tuple(pick, pick), { maxLength: 2 }),
  channels: fc.array(channelSpec, { minLength: 1, maxLength: 3 }),
  actions: fc.array(action, { minLength: 4, maxLength: 10 }),
});

// ---------------------------------------------------------------------------
// The driver

const choose = <T>(list: readonly T[], n: number): T | undefined =>
  list.length === 0 ? undefined : list[n % list.length];

/** What the runs exercised, so a pass is known not to be vacuous. */
const coverage = {
  runs: 0,
  actions: new Map<string, number>(),
  pairs: new Map<string, number>(),
  frames: new Map<string, number>(),
  reactionsShown: 0,
  votesShown: 0,
  /** channel.counts frames carrying a poll's counts. */
  pollCountsFrames: 0,
  /** Last counts frames compared with a post's final counts. */
  finalCountsChecked: 0,
  /** Admin lists read by an admin who is not the owner while invitations were pending. */
  invitationsCountedOnly: 0,
  handlesInTwoChannels: 0,
  deliveries: 0,
};
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
function resetCoverage(): void {
  coverage.runs = 0;
  coverage.actions.clear();
  coverage.pairs.clear();
  coverage.frames.clear();
  coverage.reactionsShown = 0;
  coverage.votesShown = 0;
  coverage.pollCountsFrames = 0;
  coverage.finalCountsChecked = 0;
  coverage.invitationsCountedOnly = 0;
  coverage.handlesInTwoChannels = 0;
  coverage.deliveries = 0;
}

/** Every read route but key package claims: these users have no MLS device (no key packages). */
const channelReadRoutes = readRoutes.filter((r) => r !== keyPackageRoute);

let nextNumber = 1000;
const freshNumber = () => `+1415558${String(nextNumber++).padStart(4, "0")}`;
let runCount = 0;

class Driver {
  readonly world: World;
  readonly collector: Collector;
  readonly sockets: Array<{ close(): void }> = [];
  readonly log: string[] = [];
  readonly tag: string;
  private versions: number[] = [];
  private posts = 0;
  private lastReactionAt = 0;
  /** Orders follows and count changes (several may share a world step during set-up). */
  private ticks = 0;
  /** `channel user` → when (in ticks) the user's current follow began. */
  private readonly followedAt = new Map<string, number>();
  /** `channel seq` → when (in ticks) the post's counts (reactions, votes) last changed. */
  private readonly changedAt = new Map<string, number>();

  constructor(
    readonly t: TestServer,
    oracle: Oracle = grantedFields,
  ) {
    this.world = new World(oracle);
    this.collector = new Collector(this.world, t.url);
    this.tag = `q${(runCount++).toString(36)}${t.backend[0]}`;
    this.world.channelTag = this.tag;
  }

  private req(u: number, method: string, path: string, body?: unknown): Promise<RawReply> {
    return this.collector.request(u, method, path, body);
  }

  private expectStatus(r: RawReply, status: number, context: string, code?: string): void {
    expect(
      { status: r.status, code: r.body?.error?.code },
      `${context}: ${r.bytes.toString().slice(0, 300)}`,
    ).toEqual({ status, code: code ?? r.body?.error?.code });
  }

  /** The live channels: the ones actions pick from. */
  channels(): WorldChannel[] {
    return this.allChannels().filter((c) => !c.deleted);
  }

  allChannels(): WorldChannel[] {
    return [...this.world.channels.values()];
  }

  /** The counts of `seq` changed now: pushed within a second, to whoever follows by then. */
  private countsChanged(c: WorldChannel, seq: number): void {
    this.changedAt.set(`${c.id} ${seq}`, this.ticks++);
    this.lastReactionAt = Date.now();
  }

  /** The follower's handle in the server's store, kept in the world (all it ever had). */
  private async learnHandle(c: WorldChannel, u: number): Promise<void> {
    const row = await this.t.server.context.database.db
      .selectFrom("channel_followers")
      .select("handle")
      .where("channel_id", "=", c.id)
      .where("user_id", "=", this.world.user(u).id)
      .executeTakeFirst();
    expect(row, `U${u} follows ${c.id}`).toBeDefined();
    const list = c.handles.get(u) ?? [];
    if (row && list.at(-1) !== row.handle) list.push(row.handle);
    c.handles.set(u, list);
  }

  // --- the world at the start ------------------------------------------------------

  async setUp(spec: WorldSpec): Promise<void> {
    const { world, collector, tag } = this;
    const n = spec.users.length;
    const u = (p: number) => p % n;
    for (const [i, us] of spec.users.entries()) {
      const phone = us.phone ? freshNumber() : null;
      const name = `N[${tag}:${i}:0]`;
      const client = await TestUser.register(this.t.url, {
        name,
        ...(us.username ? { username: `user_${tag}_${i}` } : {}),
        ...(phone ? { phone, verifier: this.t.verifier } : {}),
      });
      world.addUser({
        id: client.id,
        client,
        deviceIds: [client.deviceId],
        name,
        phone,
        username: us.username ? `user_${tag}_${i}` : null,
        photo: null,
        photoBytes: null,
        about: `A[${tag}:${i}:0]`,
        privacy: {
          phone: "everyone",
          photo: "everyone",
          about: "everyone",
          presence: "contacts",
          discoverableByPhone: true,
        },
      });
      this.versions.push(0);
      const socket = await client.connect(this.t.wsUrl);
      this.sockets.push(socket);
      collector.listen(i, socket);
      this.expectStatus(
        await this.req(i, "PATCH", "/v1/me", { about: `A[${tag}:${i}:0]` }),
        200,
        "about",
      );
      if (us.photo) {
        const r = await collector.request(i, "PUT", "/v1/me/photo", undefined, {
          bytes: tinyPng,
          contentType: "image/png",
        });
        expect(r.status).toBe(200);
        world.user(i).photo = r.body.photo;
        world.user(i).photoBytes = tinyPng;
      }
    }
    world.commit();

    for (const [a, b] of spec.contacts.map(([x, y]) => [u(x), u(y)] as const)) {
      const phone = world.user(b).phone;
      if (a === b || phone === null || world.contacts.has(pairKey(a, b))) continue;
      const r = await this.req(a, "POST", "/v1/contacts", { phone });
      this.expectStatus(r, 201, `U${a} adds U${b} by number`);
      world.contacts.add(pairKey(a, b));
      world.discoveries.set(pairKey(a, b), phone);
      world.commit();
    }
    for (const [a, b] of spec.lookups.map(([x, y]) => [u(x), u(y)] as const)) {
      const phone = world.user(b).phone;
      if (a === b || phone === null) continue;
      const r = await this.req(a, "POST", "/v1/lookup/phone", { phone });
      if (!world.user(b).privacy.discoverableByPhone) {
        expect(r.status, `U${a} looks U${b} up`).toBeGreaterThanOrEqual(400);
        continue;
      }
      this.expectStatus(r, 200, `U${a} looks U${b} up`);
      world.discoveries.set(pairKey(a, b), phone);
      world.commit();
    }

    // Settings after the address books: adding a contact by number needs no setting.
    for (const [i, us] of spec.users.entries()) {
      this.expectStatus(await this.req(i, "PATCH", "/v1/me/privacy", us.privacy), 200, "privacy");
      world.user(i).privacy = { ...us.privacy };
      world.commit();
    }
    for (const cs of spec.channels) {
      const owner = u(cs.owner);
      const c = await this.createChannel(owner);
      for (const a of cs.admins.map(u)) {
        if (a === owner || c.admins.has(a)) continue;
        await this.invite(c, owner, a, "set-up");
        if (c.invited.has(a)) await this.accept(c, a, "set-up");
      }
      for (const f of cs.followers.map(u)) await this.follow(c, f, cs.muted.map(u).includes(f), "");
      for (let k = 0; k < cs.posts; k++) await this.post(c, owner, "set-up");
      for (const kind of cs.polls) await this.post(c, owner, "set-up", kind);
      for (const [x, p, e] of cs.reactions) {
        const seq = choose([...c.posts.keys()], p);
        const f = choose([...c.followers.keys()], x);
        if (seq !== undefined && f !== undefined) await this.react(c, f, seq, e, "set-up");
      }
      const polls = [...c.posts].filter(([, post]) => post.poll !== null).map(([seq]) => seq);
      for (const [x, p, o] of cs.votes) {
        const seq = choose(polls, p);
        const f = choose([...c.followers.keys()], x);
        if (seq !== undefined && f !== undefined) await this.vote(c, f, seq, o, false, "set-up");
      }
    }
    world.commit();
    await collector.settle();
  }

  // --- steps ---------------------------------------------------------------------

  async createChannel(owner: number): Promise<WorldChannel> {
    const k = this.world.channels.size;
    const body = { name: `Ch ${this.tag} ${k}`, handle: `ch_${this.tag}_${k}` };
    const r = await this.req(owner, "POST", "/v1/channels", body);
    this.expectStatus(r, 201, `U${owner} creates a channel`);
    const c: WorldChannel = {
      id: r.body.id,
      handle: body.handle,
      name: body.name,
      inviteCode: r.body.inviteCode,
      admins: new Map([[owner, "owner"]]),
      invited: new Set(),
      followers: new Map(),
      handles: new Map(),
      reactionPolicy: "any",
      lastSeq: 0,
      posts: new Map(),
      deleted: false,
    };
    this.world.channels.set(c.id, c);
    this.world.commit();
    return c;
  }

  async invite(c: WorldChannel, owner: number, target: number, ctx: string): Promise<void> {
    const w = this.world;
    if (
      w.expected(owner, target) === null &&
      w.user(target).phone !== null &&
      w.user(target).privacy.discoverableByPhone
    ) {
      // The owner must see whom it invites: it finds them by number first.
      const phone = w.user(target).phone as string;
      const found = await this.req(owner, "POST", "/v1/lookup/phone", { phone });
      this.expectStatus(found, 200, `${ctx}: U${owner} looks U${target} up`);
      w.discoveries.set(pairKey(owner, target), phone);
      w.commit();
    }
    const r = await this.req(owner, "POST", `/v1/channels/${c.id}/admins`, {
      userId: w.user(target).id,
    });
    if (w.expected(owner, target) === null) return this.expectStatus(r, 404, ctx, "user_not_found");
    this.expectStatus(r, 204, ctx);
    if (!c.admins.has(target)) c.invited.add(target);
  }

  async accept(c: WorldChannel, user: number, ctx: string): Promise<void> {
    const r = await this.req(user, "PUT", `/v1/channels/${c.id}/admins/me`);
    if (!c.invited.has(user)) return this.expectStatus(r, 404, ctx, "channel_invite_invalid");
    this.expectStatus(r, 200, ctx);
    expect(r.body.role, ctx).toBe("admin");
    c.invited.delete(user);
    c.admins.set(user, "admin");
  }

  async follow(c: WorldChannel, user: number, muted: boolean, ctx: string): Promise<void> {
    const r = await this.req(user, "PUT", `/v1/channels/${c.id}/follow`, { muted });
    this.expectStatus(r, 200, ctx);
    if (!c.followers.has(user)) this.followedAt.set(`${c.id} ${user}`, this.ticks++);
    c.followers.set(user, { muted });
    await this.learnHandle(c, user);
  }

  /** A post, or (`kind` set) a poll without text: 2 to 4 options, one or several per follower. */
  async post(c: WorldChannel, actor: number, ctx: string, kind: PollKind | null = null) {
    const n = this.posts++;
    const id = `post_${this.tag}_${n}`;
    const poll: WorldPoll | null = kind
      ? {
          question: `Q[${this.tag}:${n}]`,
          options: Array.from({ length: 2 + (n % 3) }, (_, i) => `O[${this.tag}:${n}:${i}]`),
          multiple: kind === "multiple",
          votes: new Map(),
        }
      : null;
    const text = poll ? "" : `T[${this.tag}:${n}]`;
    const body = poll
      ? { id, poll: { question: poll.question, options: poll.options, multiple: poll.multiple } }
      : { id, text };
    const r = await this.req(actor, "POST", `/v1/channels/${c.id}/posts`, body);
    if (!c.admins.has(actor)) return this.expectStatus(r, 403, ctx, "not_channel_admin");
    this.expectStatus(r, 201, ctx);
    c.lastSeq++;
    expect(r.body.seq, ctx).toBe(c.lastSeq);
    c.posts.set(c.lastSeq, { id, text, edited: false, reactions: new Map(), poll });
  }

  /**
   * A vote: option `pick % n` in a single-choice poll, the options of the
   * bit mask `pick` in a multiple-choice one; `invalid` sends options the
   * poll refuses. Only followers vote, in polls.
   */
  async vote(
    c: WorldChannel,
    user: number,
    seq: number,
    pick: number,
    invalid: boolean,
    ctx: string,
  ) {
    const poll = c.posts.get(seq)?.poll ?? null;
    const n = poll?.options.length ?? 2;
    const mask = [...Array(n).keys()].filter((i) => (pick >> i) & 1);
    const chosen = invalid
      ? poll?.multiple
        ? [0, n]
        : [0, 1]
      : poll?.multiple && mask.length > 0
        ? mask
        : [pick % n];
    const r = await this.req(user, "PUT", `/v1/channels/${c.id}/posts/${seq}/vote`, {
      options: chosen,
    });
    if (!c.followers.has(user)) return this.expectStatus(r, 403, ctx, "not_following");
    if (!poll) return this.expectStatus(r, 404, ctx, "poll_not_found");
    if (invalid) return this.expectStatus(r, 400, ctx, "vote_invalid");
    this.expectStatus(r, 200, ctx);
    expect(r.body.poll?.myVote, ctx).toEqual(chosen);
    if (!isDeepStrictEqual(poll.votes.get(user), chosen)) this.countsChanged(c, seq);
    poll.votes.set(user, chosen);
  }

  async unvote(c: WorldChannel, user: number, seq: number, ctx: string): Promise<void> {
    const poll = c.posts.get(seq)?.poll ?? null;
    const r = await this.req(user, "DELETE", `/v1/channels/${c.id}/posts/${seq}/vote`);
    if (!c.followers.has(user)) return this.expectStatus(r, 403, ctx, "not_following");
    if (!poll) return this.expectStatus(r, 404, ctx, "poll_not_found");
    this.expectStatus(r, 200, ctx);
    expect(r.body.poll?.myVote, ctx).toEqual([]);
    if (poll.votes.delete(user)) this.countsChanged(c, seq);
  }

  async react(c: WorldChannel, user: number, seq: number, e: number, ctx: string) {
    const emoji = emojis[e % emojis.length] as string;
    const r = await this.req(user, "PUT", `/v1/channels/${c.id}/posts/${seq}/reaction`, {
      emoji,
    });
    if (c.reactionPolicy === "none" || (c.reactionPolicy === "default" && e % emojis.length >= 3))
      return this.expectStatus(r, 400, ctx, "reaction_not_allowed");
    if (!c.followers.has(user)) return this.expectStatus(r, 403, ctx, "not_following");
    this.expectStatus(r, 200, ctx);
    expect(r.body.myReaction, ctx).toBe(emoji);
    const reactions = c.posts.get(seq)?.reactions;
    if (reactions?.get(user) !== emoji) this.countsChanged(c, seq);
    reactions?.set(user, emoji);
  }

  async apply(a: Action): Promise<void> {
    const w = this.world;
    count(coverage.actions, a.kind);
    const ctx = `step ${this.log.length} ${JSON.stringify(a)}`;
    this.log.push(JSON.stringify(a));
    const all = w.users.map((x) => x.index);
    const c = "channel" in a ? choose(this.channels(), a.channel) : undefined;
    const owner = c ? [...c.admins].find(([, role]) => role === "owner")?.[0] : undefined;
    switch (a.kind) {
      case "createChannel": {
        if (w.channels.size >= 4) return;
        await this.createChannel(choose(all, a.actor) as number);
        return;
      }
      case "inviteAdmin": {
        if (!c || owner === undefined) return;
        const target = choose(
          all.filter((x) => x !== owner),
          a.target,
        ) as number;
        await this.invite(c, owner, target, ctx);
        return;
      }
      case "acceptAdmin": {
        if (!c) return;
        const invited = [...c.invited];
        const user = invited.length > 0 ? choose(invited, a.pick) : choose(all, a.pick);
        await this.accept(c, user as number, ctx);
        return;
      }
      case "removeAdmin": {
        if (!c || owner === undefined) return;
        const others = [...c.admins.keys(), ...c.invited].filter((x) => x !== owner);
        const target = choose(others, a.pick);
        if (target === undefined) return;
        if (a.self && c.admins.has(target)) {
          const r = await this.req(target, "DELETE", `/v1/channels/${c.id}/admins/me`);
          this.expectStatus(r, 204, ctx);
        } else {
          const r = await this.req(
            owner,
            "DELETE",
            `/v1/channels/${c.id}/admins/${w.user(target).id}`,
          );
          this.expectStatus(r, 204, ctx);
        }
        c.admins.delete(target);
        c.invited.delete(target);
        return;
      }
      case "follow": {
        if (!c) return;
        await this.follow(c, choose(all, a.user) as number, a.muted, ctx);
        return;
      }
      case "unfollow": {
        if (!c) return;
        const user = choose([...c.followers.keys()], a.user);
        if (user === undefined) return;
        const r = await this.req(user, "DELETE", `/v1/channels/${c.id}/follow`);
        this.expectStatus(r, 204, ctx);
        c.followers.delete(user);
        this.followedAt.delete(`${c.id} ${user}`);
        return;
      }
      case "post": {
        if (!c) return;
        const actor = a.anyone ? choose(all, a.actor) : choose([...c.admins.keys()], a.actor);
        await this.post(c, actor as number, ctx, a.poll);
        return;
      }
      case "edit":
      case "deletePost": {
        if (!c) return;
        const admin = choose([...c.admins.keys()], a.pick) as number;
        const seq = choose([...c.posts.keys()], a.pick);
        if (seq === undefined) return;
        const where = `/v1/channels/${c.id}/posts/${seq}`;
        if (a.kind === "edit") {
          const text = `T[${this.tag}:${seq}:edit${this.posts++}]`;
          const r = await this.req(admin, "PATCH", where, { text });
          this.expectStatus(r, 200, ctx);
          const post = c.posts.get(seq);
          if (post) Object.assign(post, { text, edited: true });
        } else {
          this.expectStatus(await this.req(admin, "DELETE", where), 204, ctx);
          c.posts.delete(seq);
          this.changedAt.delete(`${c.id} ${seq}`);
        }
        return;
      }
      case "react":
      case "unreact": {
        if (!c) return;
        const seq = choose([...c.posts.keys()], a.post);
        const followers = [...c.followers.keys()];
        const user =
          a.kind === "react" && a.anyone ? choose(all, a.user) : choose(followers, a.user);
        if (seq === undefined || user === undefined) return;
        if (a.kind === "react") return this.react(c, user, seq, a.emoji, ctx);
        const r = await this.req(user, "DELETE", `/v1/channels/${c.id}/posts/${seq}/reaction`);
        this.expectStatus(r, 200, ctx);
        if (c.posts.get(seq)?.reactions.delete(user)) this.countsChanged(c, seq);
        return;
      }
      case "vote":
      case "unvote": {
        if (!c) return;
        const polls = [...c.posts].filter(([, p]) => p.poll !== null).map(([seq]) => seq);
        const anyone = a.kind === "vote" && a.anyone;
        const seq = choose(anyone || polls.length === 0 ? [...c.posts.keys()] : polls, a.post);
        const user = choose(anyone ? all : [...c.followers.keys()], a.user);
        if (seq === undefined || user === undefined) return;
        if (a.kind === "unvote") return this.unvote(c, user, seq, ctx);
        return this.vote(c, user, seq, a.options, a.invalid, ctx);
      }
      case "transfer": {
        if (!c || owner === undefined) return;
        const admins = [...c.admins.keys()].filter((x) => x !== owner);
        const others = all.filter((x) => x !== owner);
        const target = choose(a.anyone || admins.length === 0 ? others : admins, a.pick) as number;
        const r = await this.req(owner, "POST", `/v1/channels/${c.id}/owner`, {
          userId: w.user(target).id,
        });
        // Only an admin takes over; anyone else answers like an id nobody has.
        if (!c.admins.has(target)) return this.expectStatus(r, 404, ctx, "user_not_found");
        this.expectStatus(r, 200, ctx);
        expect(r.body.role, ctx).toBe("admin");
        c.admins.set(target, "owner");
        c.admins.set(owner, "admin");
        return;
      }
      case "deleteChannel": {
        if (!c || owner === undefined) return;
        const admin = choose(
          [...c.admins.keys()].filter((x) => x !== owner),
          a.channel,
        );
        if (a.byAdmin && admin !== undefined) {
          const r = await this.req(admin, "DELETE", `/v1/channels/${c.id}`);
          return this.expectStatus(r, 403, ctx, "not_channel_owner");
        }
        this.expectStatus(await this.req(owner, "DELETE", `/v1/channels/${c.id}`), 204, ctx);
        c.deleted = true;
        return;
      }
      case "policy": {
        if (!c) return;
        const admin = choose([...c.admins.keys()], a.channel) as number;
        const r = await this.req(admin, "PATCH", `/v1/channels/${c.id}`, {
          reactionPolicy: a.policy,
        });
        this.expectStatus(r, 200, ctx);
        c.reactionPolicy = a.policy;
        return;
      }
      case "profile": {
        const user = choose(all, a.user) as number;
        const v = (this.versions[user] ?? 0) + 1;
        this.versions[user] = v;
        const name = `N[${this.tag}:${user}:${v}]`;
        this.expectStatus(await this.req(user, "PATCH", "/v1/me", { name }), 200, ctx);
        w.user(user).name = name;
        return;
      }
      case "privacy": {
        const user = choose(all, a.user) as number;
        const r = await this.req(user, "PATCH", "/v1/me/privacy", a.patch);
        // An empty change is bad input, refused with a 4xx.
        if (Object.keys(a.patch).length === 0)
          return this.expectStatus(r, 400, ctx, "validation_failed");
        this.expectStatus(r, 200, ctx);
        w.user(user).privacy = { ...w.user(user).privacy, ...a.patch };
        return;
      }
      case "contact":
      case "block": {
        const viewer = choose(all, a.viewer) as number;
        const others = all.filter((x) => x !== viewer);
        const set = a.kind === "contact" ? w.contacts : w.blocks;
        const seen = others.filter(
          (s) => w.expected(viewer, s) !== null && !set.has(pairKey(viewer, s)),
        );
        const target = choose(seen.length > 0 ? seen : others, a.pick) as number;
        const r =
          a.kind === "contact"
            ? await this.req(viewer, "POST", "/v1/contacts", { userId: w.user(target).id })
            : await this.req(viewer, "PUT", `/v1/blocks/${w.user(target).id}`);
        if (w.expected(viewer, target) === null)
          return this.expectStatus(r, 404, ctx, "user_not_found");
        this.expectStatus(r, a.kind === "contact" ? 201 : 204, ctx);
        set.add(pairKey(viewer, target));
        return;
      }
    }
  }

  // --- the audit -----------------------------------------------------------------

  /** Invariant 2's per-channel handle: a follower's handles differ from channel to channel. */
  handleViolations(): Violation[] {
    const out: Violation[] = [];
    const seen = new Map<string, string>();
    for (const c of this.channels()) {
      for (const [u, list] of c.handles) {
        const user = this.world.user(u);
        for (const h of list) {
          const other = seen.get(h);
          const bad =
            other !== undefined
              ? `also the handle of ${other}`
              : h.includes(user.id) || (user.phone !== null && h.includes(user.phone.slice(1)))
                ? "derived from the user's id or number"
                : null;
          seen.set(h, `${user.label} in ${c.id}`);
          if (bad)
            out.push({
              kind: "leak",
              invariant: 2,
              viewer: "(any admin)",
              subject: user.label,
              where: `channel_followers ${c.id}`,
              field: "handle",
              detail: `${h}: ${bad}`,
            });
        }
      }
    }
    return out;
  }

  /**
   * The last `channel.counts` frame each follower got for each post equals
   * the post's counts now (emoji, and a poll's votes and voters), for the
   * followers who followed before its last change: that push reached them.
   */
  finalCountsViolations(): Violation[] {
    const out: Violation[] = [];
    const last = new Map<string, { counts: unknown; poll?: unknown }>();
    for (const d of this.collector.delivered) {
      if (d.where !== "frame channel.counts") continue;
      const f = d.body as { channelId: string; seq: number; counts: unknown; poll?: unknown };
      last.set(`${d.viewer} ${f.channelId} ${f.seq}`, f);
      if (f.poll !== undefined) coverage.pollCountsFrames++;
    }
    for (const c of this.channels()) {
      for (const [seq, post] of c.posts) {
        const changed = this.changedAt.get(`${c.id} ${seq}`);
        if (changed === undefined) continue;
        const counts: Record<string, number> = {};
        for (const e of post.reactions.values()) counts[e] = (counts[e] ?? 0) + 1;
        const want = { counts, ...(post.poll ? { poll: pollCounts(post.poll) } : {}) };
        for (const v of c.followers.keys()) {
          const since = this.followedAt.get(`${c.id} ${v}`);
          if (since === undefined || since >= changed) continue;
          const frame = last.get(`${v} ${c.id} ${seq}`);
          const got = frame && {
            counts: frame.counts,
            ...(frame.poll ? { poll: frame.poll } : {}),
          };
          coverage.finalCountsChecked++;
          if (isDeepStrictEqual(got, want)) continue;
          out.push({
            kind: "mismatch",
            invariant: 1,
            viewer: this.world.user(v).label,
            subject: null,
            where: `frame channel.counts ${c.id} ${seq}`,
            field: null,
            detail: `last counts ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
          });
        }
      }
    }
    return out;
  }

  /** Every read route as every user while nothing changes, then everything received. */
  async audit(missing: MissingIds, routes = channelReadRoutes): Promise<Violation[]> {
    const { world, collector } = this;
    await collector.settle(30, 1000);
    world.commit();
    collector.quiet = true;
    let reads: Violation[];
    try {
      reads = (
        await Promise.all(
          world.users.map((x) => auditReads(world, collector, x.index, missing, routes)),
        )
      ).flat();
    } finally {
      collector.quiet = false;
    }
    // Reaction counts are pushed coalesced within a second: wait for the last push.
    const wait = this.lastReactionAt + 1150 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await collector.settle(20, 300);
    return [
      ...reads,
      ...this.handleViolations(),
      ...this.finalCountsViolations(),
      ...new Auditor(world).inspectAll(collector),
    ];
  }

  tally(): void {
    const w = this.world;
    coverage.runs++;
    coverage.deliveries += this.collector.delivered.length;
    for (const d of this.collector.delivered) {
      if (d.where.startsWith("frame ")) count(coverage.frames, d.where.slice(6));
      if (/\/reactions$/.test(d.where)) {
        const list = (d.body as { reactions?: unknown[] } | null)?.reactions;
        if (Array.isArray(list)) coverage.reactionsShown += list.length;
      }
      if (/\/votes$/.test(d.where)) {
        const list = (d.body as { votes?: unknown[] } | null)?.votes;
        if (Array.isArray(list)) coverage.votesShown += list.length;
      }
      const m = /^GET \/v1\/channels\/([^/]+)\/admins$/.exec(d.where);
      const listed = d.body as { invited?: unknown[]; invitedCount?: number } | null;
      if (m && w.channels.get(m[1] as string)?.admins.get(d.viewer) === "admin")
        if ((listed?.invitedCount ?? 0) > 0 && listed?.invited?.length === 0)
          coverage.invitationsCountedOnly++;
    }
    const seen = new Set<string>();
    for (const v of w.users)
      for (const s of w.users) {
        if (v === s) continue;
        for (const [k, on] of Object.entries(w.facts(v.index, s.index))) if (on) seen.add(k);
      }
    for (const k of seen) count(coverage.pairs, k);
    for (const u of w.users) {
      const channels = this.channels().filter((c) => c.followers.has(u.index));
      if (channels.length >= 2) coverage.handlesInTwoChannels++;
    }
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

async function run(
  t: TestServer,
  spec: WorldSpec,
  options: { oracle?: Oracle; forge?: (d: Driver) => void } = {},
) {
  const driver = new Driver(t, options.oracle);
  try {
    await driver.setUp(spec);
    for (const a of spec.actions) {
      await driver.apply(a);
      driver.world.commit();
      await driver.collector.settle();
    }
    options.forge?.(driver);
    const violations = await driver.audit(freshMissingIds());
    return { driver, violations, report: describeViolations(driver.world, violations) };
  } catch (error) {
    if (error instanceof Error)
      error.message += `\nsteps after set-up:\n  ${driver.log.join("\n  ") || "(none)"}`;
    throw error;
  } finally {
    driver.close();
  }
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`privacy audit of channels [${backend}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ backend, env: { ...noRateLimits } });
    });
    afterAll(async () => t?.close());

    it("followers learn nothing of each other or of admins; admins see reactors and voters only as R8 allows (invariants 1 and 2)", async () => {
      resetCoverage();
      await fc.assert(
        fc.asyncProperty(worldSpec, async (spec) => {
          const { driver, violations, report } = await run(t, spec);
          driver.tally();
          if (violations.length > 0)
            throw new Error(`${report}\nsteps:\n  ${driver.log.join("\n  ")}`);
        }),
        {
          numRuns: runs,
          ...(seed === undefined ? {} : { seed }),
          ...(path === undefined ? {} : { path }),
          endOnFailure: true,
        },
      );
      for (const fact of [
        "coChannelAdmins",
        "viewerAdminsSubjectsChannel",
        "subjectAdminsViewersChannel",
        "coFollowers",
      ]) {
        expect(coverage.pairs.get(fact) ?? 0, fact).toBeGreaterThan(0);
      }
      expect(coverage.reactionsShown, "reactions shown to admins").toBeGreaterThan(0);
      expect(coverage.votesShown, "votes shown to admins").toBeGreaterThan(0);
      expect(coverage.pollCountsFrames, "poll counts pushed").toBeGreaterThan(0);
      expect(coverage.finalCountsChecked, "final counts compared").toBeGreaterThan(0);
      expect(coverage.frames.get("channel.post") ?? 0, "channel.post frames").toBeGreaterThan(0);
      expect(coverage.frames.get("channel.counts") ?? 0, "channel.counts frames").toBeGreaterThan(
        0,
      );
      if (process.env.PRIVACY_AUDIT_VERBOSE === "1")
        process.stderr.write(
          `[channels ${backend}] ${coverage.runs} runs, ${coverage.deliveries} deliveries audited, ` +
            `${coverage.reactionsShown} reactions and ${coverage.votesShown} votes shown to admins, ` +
            `${coverage.pollCountsFrames} poll counts pushed, ` +
            `${coverage.finalCountsChecked} final counts compared, ` +
            `${coverage.invitationsCountedOnly} invitation lists counted only, ` +
            `${coverage.handlesInTwoChannels} users following two channels; ` +
            `pairs ${JSON.stringify(Object.fromEntries(coverage.pairs))}; ` +
            `frames ${JSON.stringify(Object.fromEntries(coverage.frames))}; ` +
            `actions ${JSON.stringify(Object.fromEntries(coverage.actions))}\n`,
        );
    }, 120_000);
  });
}

// ---------------------------------------------------------------------------
// Fixed scenarios: the per-channel handle, and the audit failing when it must.

const open: PrivacySettings = {
  phone: "everyone",
  photo: "everyone",
  about: "everyone",
  presence: "everyone",
  discoverableByPhone: true,
};
const people = (n: number) =>
  Array.from({ length: n }, () => ({ phone: true, photo: true, username: true, privacy: open }));
const bare = { lookups: [], blocks: [], actions: [] };

/**
 * U0 owns channels A and B and invited U1 to administer A. U2 and U3 follow
 * both, react to their first post and vote in their poll (post 2: one option
 * in A, several in B); U2 is U0's contact (R2 grants U0 U2's number and
 * username elsewhere, never in a channel reply). Then U0 invites U3 to
 * administer A, and U3 leaves it pending.
 */
const inviteU3: Action = { kind: "inviteAdmin", channel: 0, target: 2 };
const fixed: WorldSpec = {
  ...bare,
  users: people(4),
  contacts: [[0, 2]],
  channels: [
    {
      owner: 0,
      admins: [1],
      followers: [2, 3],
      muted: [],
      posts: 1,
      polls: ["single"],
      reactions: [
        [0, 0, 0],
        [1, 0, 1],
      ],
      votes: [
        [0, 0, 1],
        [1, 0, 0],
      ],
    },
    {
      owner: 0,
      admins: [],
      followers: [2, 3],
      muted: [],
      posts: 1,
      polls: ["multiple"],
      reactions: [
        [0, 0, 2],
        [1, 0, 0],
      ],
      votes: [
        [0, 0, 3],
        [1, 0, 2],
      ],
    },
  ],
  actions: [inviteU3],
};

type Shown = { follower: { handle: string; name: string; photo?: string } };
/** The followers `viewer` was shown in the replies of `where`. */
function shownTo(driver: Driver, viewer: number, where: string, list: "reactions" | "votes") {
  return driver.collector.delivered
    .filter((d) => d.viewer === viewer && d.where === where)
    .flatMap((d) => (d.body as Record<string, Shown[]>)[list] ?? [])
    .map((r) => r.follower);
}
/** The admin list `viewer` last read for channel `c`. */
function adminListOf(driver: Driver, viewer: number, c: WorldChannel) {
  const d = driver.collector.delivered.findLast(
    (x) => x.viewer === viewer && x.where === `GET /v1/channels/${c.id}/admins`,
  );
  return d?.body as { invited: Array<{ userId: string; name?: string }>; invitedCount: number };
}

describe.skipIf(!backends[0]?.available)("channel privacy audit: fixed scenarios", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ backend: "sqlite", env: { ...noRateLimits } });
  });
  afterAll(async () => t?.close());

  it("passes on the honest oracle; a follower's handle differs from channel to channel; only the owner sees whom it invited", async () => {
    const { driver, violations, report } = await run(t, fixed);
    expect(violations, report).toEqual([]);
    const [a, b] = driver.channels() as [WorldChannel, WorldChannel];
    // What the owner read: the same follower under another handle in each channel,
    // beside a reaction and beside a vote.
    for (const follower of [2, 3]) {
      const name = driver.world.user(follower).name;
      for (const [path, list] of [
        ["posts/1/reactions", "reactions"],
        ["posts/2/votes", "votes"],
      ] as const) {
        const handleIn = (c: WorldChannel) =>
          shownTo(driver, 0, `GET /v1/channels/${c.id}/${path}`, list).find((f) => f.name === name)
            ?.handle;
        expect(handleIn(a), `${path} of A`).toBe(a.handles.get(follower)?.at(-1));
        expect(handleIn(b), `${path} of B`).toBe(b.handles.get(follower)?.at(-1));
        expect(handleIn(a)).not.toBe(handleIn(b));
      }
    }
    // U3's pending invitation: named to the owner who sent it, counted to the other admin.
    const u3 = driver.world.user(3);
    expect(adminListOf(driver, 0, a)).toMatchObject({
      invited: [{ userId: u3.id, name: u3.name }],
      invitedCount: 1,
    });
    expect(adminListOf(driver, 1, a)).toMatchObject({ invited: [], invitedCount: 1 });
  });

  it("hands ownership over and deletes a channel: the new owner lists only invitees it may see, the deleted channel answers like none", async () => {
    const { driver, violations, report } = await run(t, {
      ...fixed,
      actions: [
        inviteU3,
        { kind: "transfer", channel: 0, pick: 0, anyone: false },
        { kind: "deleteChannel", channel: 1, byAdmin: false },
      ],
    });
    expect(violations, report).toEqual([]);
    const [a, b] = driver.allChannels() as [WorldChannel, WorldChannel];
    expect([a.admins.get(1), a.admins.get(0), b.deleted]).toEqual(["owner", "admin", true]);
    // U1 now owns A but has no rule to see U3: the invitation is counted, not listed.
    expect(driver.world.expected(1, 3)).toBeNull();
    expect(adminListOf(driver, 1, a)).toMatchObject({ invited: [], invitedCount: 1 });
    expect(adminListOf(driver, 0, a)).toMatchObject({ invited: [], invitedCount: 1 });
    const gone = driver.collector.delivered.findLast(
      (d) => d.viewer === 0 && d.where === `GET /v1/channels/${b.id}/admins`,
    );
    expect(gone?.body).toMatchObject({ error: { code: "channel_not_found" } });
  });

  it("reports an oracle that lets R7 grant id and name: a follower expects the other, the server hides them", async () => {
    const r7Leaks: Oracle = (privacy, facts) => {
      const granted = grantedFields(privacy, facts);
      if (facts.coFollowers) granted.add("id").add("name");
      return granted;
    };
    const { violations } = await run(t, { ...fixed, contacts: [] }, { oracle: r7Leaks });
    expect(violations).toContainEqual(
      expect.objectContaining({
        kind: "mismatch",
        viewer: "U3",
        subject: "U2",
        where: expect.stringMatching(/^GET \/v1\/users\//),
      }),
    );
  });

  it("reports an oracle without R10: the co-admin list names the owner", async () => {
    const noR10: Oracle = (privacy, facts) =>
      grantedFields(privacy, { ...facts, coChannelAdmins: false });
    const { violations } = await run(t, fixed, { oracle: noR10 });
    expect(violations).toContainEqual(
      expect.objectContaining({
        kind: "leak",
        viewer: "U1",
        subject: "U0",
        field: "id",
        where: expect.stringMatching(/^GET \/v1\/channels\/h_[^/]+\/admins$/),
      }),
    );
  });

  it("reports a follower's id, number or handle in a channel delivery (invariant 2), even to an admin who may see them elsewhere", async () => {
    const { violations } = await run(t, fixed, {
      forge: (d) => {
        const [a, b] = d.channels() as [WorldChannel, WorldChannel];
        const u2 = d.world.user(2);
        const at = { from: d.world.step, to: d.world.step };
        // To the owner, who has U2 as a contact: a reaction list naming U2 by id and number.
        d.collector.delivered.push({
          viewer: 0,
          where: `GET /v1/channels/${a.id}/posts/1/reactions`,
          ...at,
          body: {
            reactions: [
              { follower: { handle: "x", name: u2.name, userId: u2.id, phone: u2.phone } },
            ],
          },
        });
        // To the other follower, a post frame carrying U2's handle in channel B.
        d.collector.delivered.push({
          viewer: 3,
          where: "frame channel.post",
          ...at,
          body: { type: "channel.post", post: { channelId: b.id, text: b.handles.get(2)?.at(-1) } },
        });
      },
    });
    const inv2 = { kind: "leak", invariant: 2, subject: "U2" };
    expect(violations).toContainEqual(
      expect.objectContaining({ ...inv2, viewer: "U0", field: "id" }),
    );
    expect(violations).toContainEqual(
      expect.objectContaining({ ...inv2, viewer: "U0", field: "phone" }),
    );
    expect(violations).toContainEqual(
      expect.objectContaining({ ...inv2, viewer: "U3", field: "handle" }),
    );
  });

  it("reports a voter's user id shown to an admin, a voter shown to a follower, voters in pushed counts, and an invitee shown to an admin who did not invite", async () => {
    const { violations, report } = await run(t, fixed, {
      forge: (d) => {
        const [a] = d.channels() as [WorldChannel];
        const u2 = d.world.user(2);
        const u3 = d.world.user(3);
        const handle = a.handles.get(2)?.at(-1) as string;
        const at = { from: d.world.step, to: d.world.step };
        const votes = `GET /v1/channels/${a.id}/posts/2/votes`;
        const entry = { follower: { handle, name: u2.name }, options: [1] };
        // To the owner, who may see U2's id as a contact: the id beside U2's vote.
        d.collector.delivered.push({
          viewer: 0,
          where: votes,
          ...at,
          body: { votes: [{ ...entry, follower: { ...entry.follower, userId: u2.id } }] },
        });
        // To U3, a follower and no admin: who voted.
        d.collector.delivered.push({ viewer: 3, where: votes, ...at, body: { votes: [entry] } });
        // To U3 again: pushed poll counts that carry more than counts.
        d.collector.delivered.push({
          viewer: 3,
          where: "frame channel.counts",
          ...at,
          body: {
            type: "channel.counts",
            channelId: a.id,
            seq: 2,
            counts: {},
            poll: { votes: [1, 1], voters: 2, last: "f_0000" },
          },
        });
        // To U1, an admin who did not invite U3: the pending invitation by name.
        d.collector.delivered.push({
          viewer: 1,
          where: `GET /v1/channels/${a.id}/admins`,
          ...at,
          body: { admins: [], invited: [{ userId: u3.id, name: u3.name }], invitedCount: 1 },
        });
      },
    });
    const inv2 = { kind: "leak", invariant: 2 };
    for (const expected of [
      { viewer: "U0", subject: "U2", field: "id" },
      { viewer: "U3", subject: "U2", field: "name" },
      { viewer: "U3", subject: "U2", field: "handle" },
      { viewer: "U3", subject: null, field: "counts" },
      { viewer: "U1", subject: "U3", field: "id" },
      { viewer: "U1", subject: "U3", field: "name" },
    ])
      expect(violations, report).toContainEqual(expect.objectContaining({ ...inv2, ...expected }));
    // Nothing but the forgeries: the honest replies around them pass.
    expect(
      violations.filter((v) => v.viewer === "U2"),
      report,
    ).toEqual([]);
  });

  it("audits only the channel and profile routes quickly (smoke)", async () => {
    const driver = new Driver(t);
    try {
      await driver.setUp({ ...fixed, channels: fixed.channels.slice(0, 1) });
      const violations = await driver.audit(freshMissingIds(), [profileRoute, channelRoute]);
      expect(violations, describeViolations(driver.world, violations)).toEqual([]);
    } finally {
      driver.close();
    }
  });
});
