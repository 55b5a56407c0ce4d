import { createHash, randomBytes } from "node:crypto";
import { errorRegistry } from "@veil/protocol";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../src/accounts/platform-roles.js";
import { isSingleEmoji } from "../src/channels/emoji.js";
import { backends } from "./helpers/backends.js";
import { http, TestUser } from "./helpers/client.js";
import { migrationDatabase } from "./helpers/migration-database.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 7000;
const nextPhone = () => `+1415557${phoneCounter++}`;
const dayMs = 24 * 3600 * 1000;
const postId = () => `p_${randomBytes(6).toString("hex")}`;
const mediaLimit = 64 * 1024;
/** Just enough of each format for the server's sniffing, with random bytes to keep them apart. */
const files = {
  png: () =>
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]),
  mp4: () =>
    Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), randomBytes(64)]),
  pdf: () => Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(64)]),
  mp3: () => Buffer.concat([Buffer.from("ID3"), randomBytes(64)]),
};

/** One emoji each: skin tones, ZWJ sequences, flags, tag sequences and keycaps included. */
const singleEmoji = [
  "👍",
  "❤️",
  "❤",
  "👍🏽",
  "👨‍👩‍👧‍👦",
  "👩🏽‍❤️‍💋‍👨🏿",
  "🧑🏿‍🦰",
  "🏳️‍🌈",
  "🇫🇷",
  "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
  "1️⃣",
  "#️⃣",
  "*️⃣",
  "©️",
  "🦄",
];
/** Not one emoji: text, two emoji, pieces of one, a bare digit or lone regional indicator. */
const notSingleEmoji = [
  "",
  " ",
  "a",
  "ok",
  ":)",
  "👍👍",
  "👍a",
  "a\u200D👍",
  "👍 ",
  "🇫",
  "🇫🇷🇩🇪",
  "1",
  "12",
  "#",
  "1\uFE0F",
  "x\u20E3",
  "🏽",
  "\u200D",
  "\uFE0F",
  "\u00A0",
];

describe("isSingleEmoji", () => {
  it("takes one emoji grapheme and nothing else", () => {
    for (const emoji of singleEmoji) expect(isSingleEmoji(emoji), emoji).toBe(true);
    for (const text of notSingleEmoji)
      expect(isSingleEmoji(text), JSON.stringify(text)).toBe(false);
  });
});

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`channels [${backend}]`, () => {
    let t: TestServer;
    let handles = 0;

    beforeAll(async () => {
      t = await startTestServer({
        backend,
        env: { ...noRateLimits, VEIL_CHANNEL_MEDIA_LIMIT_BYTES: String(mediaLimit) },
      });
    });
    afterAll(async () => t?.close());

    async function person(name: string) {
      const phone = nextPhone();
      const user = await TestUser.register(t.url, { name, phone, verifier: t.verifier });
      return Object.assign(user, { phone, name });
    }
    type Person = Awaited<ReturnType<typeof person>>;

    async function channel(owner: Person, extra: Record<string, unknown> = {}) {
      const handle = `news_${backend}_${handles++}`;
      const r = await owner.request("POST", "/v1/channels", {
        name: "Daily News",
        handle,
        ...extra,
      });
      expect(r.status).toBe(201);
      return r.body as { id: string; handle: string; inviteCode: string };
    }

    const post = (admin: Person, channelId: string, text = "hello followers", id = postId()) =>
      admin.request("POST", `/v1/channels/${channelId}/posts`, { id, text });

    it("creates a channel shown as the channel: followers never see admins or each other", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const gail = await person("Gail");
      const c = await channel(olga, { description: "Headlines", category: "news", country: "GB" });
      expect(
        (await finn.request("POST", "/v1/channels", { name: "X", handle: c.handle })).body.error
          .code,
      ).toBe("handle_taken");
      expect(
        (await finn.request("POST", "/v1/channels", { name: "X", handle: "9bad" })).body.error.code,
      ).toBe("handle_invalid");
      for (const p of [finn, gail]) {
        const followed = await p.request("PUT", `/v1/channels/${c.id}/follow`, {});
        expect(followed.body).toMatchObject({ following: true, muted: false, role: null });
      }
      const view = await finn.request("GET", `/v1/channels/${c.id}`);
      expect(view.body).toMatchObject({
        name: "Daily News",
        description: "Headlines",
        category: "news",
        country: "GB",
        verified: false,
        followerCount: 2,
        role: null,
        hasPhoto: false,
        photoVersion: null,
        status: "active",
        suspensionReason: null,
      });
      expect((await post(olga, c.id)).status).toBe(201);
      const page = await finn.request("GET", `/v1/channels/${c.id}/posts`);
      expect(page.body.posts).toHaveLength(1);
      // R9 and R7: nothing names the owner or another follower.
      for (const body of [view.body, page.body]) {
        const text = JSON.stringify(body);
        expect(text).not.toContain(olga.id);
        expect(text).not.toContain(gail.id);
      }
      // Muting keeps the follow; unfollowing counts down; following twice counts once.
      expect(
        (await gail.request("PUT", `/v1/channels/${c.id}/follow`, { muted: true })).body,
      ).toMatchObject({ following: true, muted: true, followerCount: 2 });
      expect((await gail.request("DELETE", `/v1/channels/${c.id}/follow`)).status).toBe(204);
      expect((await finn.request("GET", `/v1/channels/${c.id}`)).body.followerCount).toBe(1);
      // The invite link opens it.
      expect((await gail.request("GET", `/v1/channel-invites/${c.inviteCode}`)).body.id).toBe(c.id);
      // Only admins post, and a refused post stores nothing and takes no sequence number.
      const refused = await post(finn, c.id);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("not_channel_admin");
      const after = await finn.request("GET", `/v1/channels/${c.id}/posts`);
      expect(after.body.lastSeq).toBe(1);
      expect(after.body.posts).toHaveLength(1);
      const rows = await t.server.context.database.db
        .selectFrom("channel_posts")
        .select("seq")
        .where("channel_id", "=", c.id)
        .execute();
      expect(rows.map((r) => Number(r.seq))).toEqual([1]);
      expect((await post(olga, c.id)).body.seq).toBe(2);
    });

    it("delivers a post to connected followers as one frame, and lets anyone preview", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const socket = await finn.connect(t.wsUrl);
      try {
        const id = postId();
        expect((await post(olga, c.id, "breaking", id)).status).toBe(201);
        const frame = await socket.next((f) => f.type === "channel.post");
        expect(frame.type === "channel.post" && frame.post).toMatchObject({
          channelId: c.id,
          seq: 1,
          id,
          text: "breaking",
        });
        // A resend is stored once.
        const again = await post(olga, c.id, "breaking", id);
        expect(again.status).toBe(200);
        expect(again.body.seq).toBe(1);
        const edited = await olga.request("PATCH", `/v1/channels/${c.id}/posts/1`, {
          text: "breaking, updated",
        });
        expect(edited.body.editedAt).not.toBeNull();
        const update = await socket.next((f) => f.type === "channel.post");
        expect(update.type === "channel.post" && update.post.text).toBe("breaking, updated");
        expect((await olga.request("DELETE", `/v1/channels/${c.id}/posts/1`)).status).toBe(204);
        const gone = await socket.next((f) => f.type === "channel.post.deleted");
        expect(gone).toEqual({ type: "channel.post.deleted", channelId: c.id, seq: 1 });
      } finally {
        socket.close();
      }
      await post(olga, c.id, "for everyone");
      const preview = await stranger.request("GET", `/v1/channels/${c.id}/posts`);
      expect(preview.body.posts.map((p: { text: string }) => p.text)).toEqual(["for everyone"]);
      expect(preview.body.lastSeq).toBe(2);
    });

    it("counts one reaction per follower, pushes counts coalesced, and shows admins who (R8)", async () => {
      const olga = await person("Olga");
      const followers = [await person("Finn"), await person("Gail"), await person("Hugo")];
      const outsider = await person("Ivan");
      const c = await channel(olga);
      for (const f of followers) await f.request("PUT", `/v1/channels/${c.id}/follow`, {});
      await post(olga, c.id);
      const socket = await followers[0]?.connect(t.wsUrl);
      try {
        expect(
          (await outsider.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "👍" }))
            .body.error.code,
        ).toBe("not_following");
        for (const f of followers) {
          const r = await f.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, {
            emoji: "👍",
          });
          expect(r.status).toBe(200);
        }
        // Hugo changes his mind; Gail takes hers back.
        const [finn, gail, hugo] = followers as [Person, Person, Person];
        await hugo.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "🔥" });
        const undone = await gail.request("DELETE", `/v1/channels/${c.id}/posts/1/reaction`);
        expect(undone.body.myReaction).toBeNull();
        const seen = await finn.request("GET", `/v1/channels/${c.id}/posts`);
        expect(seen.body.posts[0]).toMatchObject({
          reactions: { "👍": 1, "🔥": 1 },
          myReaction: "👍",
        });
        // Five changes, pushed as one update with the final counts.
        const pushed = await socket?.next((f) => f.type === "channel.counts");
        expect(pushed).toEqual({
          type: "channel.counts",
          channelId: c.id,
          seq: 1,
          counts: { "👍": 1, "🔥": 1 },
        });
        // Admins see who: a per-channel handle, the name, a photo only if allowed; never a number or id.
        await hugo.request("PATCH", "/v1/me/privacy", { photo: "nobody" });
        const who = await olga.request("GET", `/v1/channels/${c.id}/posts/1/reactions`);
        expect(
          who.body.reactions.map((r: { follower: { name: string } }) => r.follower.name),
        ).toEqual(["Finn", "Hugo"]);
        for (const r of who.body.reactions) expect(r.follower.handle).toMatch(/^f_/);
        const text = JSON.stringify(who.body);
        for (const f of followers) {
          expect(text).not.toContain(f.id);
          expect(text).not.toContain(f.phone);
        }
        expect(
          (await finn.request("GET", `/v1/channels/${c.id}/posts/1/reactions`)).body.error.code,
        ).toBe("not_channel_admin");
        // A follower's photo comes by the handle in this channel, never by its own id (which
        // would be the same in every channel): to admins, and only as the setting allows.
        const finnsBytes = files.png();
        for (const [f, raw] of [
          [finn, finnsBytes],
          [hugo, files.png()],
        ] as const) {
          await http(t.url, "PUT", "/v1/me/photo", {
            token: f.token,
            raw,
            contentType: "image/png",
          });
        }
        const again = await olga.request("GET", `/v1/channels/${c.id}/posts/1/reactions`);
        const byName = new Map<string, { handle: string; photo?: string }>(
          again.body.reactions.map((r: { follower: { name: string; handle: string } }) => [
            r.follower.name,
            r.follower,
          ]),
        );
        const finnsView = byName.get("Finn");
        const hugosView = byName.get("Hugo");
        expect(finnsView?.photo).toBe(`/v1/channels/${c.id}/followers/${finnsView?.handle}/photo`);
        expect(hugosView?.photo).toBeUndefined(); // Hugo's photo setting is "nobody"
        const finnsPhoto = await fetch(`${t.url}${finnsView?.photo}`, {
          headers: { authorization: `Bearer ${olga.token}` },
        });
        expect(finnsPhoto.status).toBe(200);
        expect(Buffer.from(await finnsPhoto.arrayBuffer())).toEqual(finnsBytes);
        const hugos = `/v1/channels/${c.id}/followers/${hugosView?.handle}/photo`;
        expect((await olga.request("GET", hugos)).body.error.code).toBe("photo_not_found");
        expect(
          (await olga.request("GET", `/v1/channels/${c.id}/followers/f_nobody/photo`)).body.error
            .code,
        ).toBe("photo_not_found");
        expect((await finn.request("GET", finnsView?.photo ?? "")).body.error.code).toBe(
          "not_channel_admin",
        );
        // The reaction setting. A refused reaction leaves the follower's reaction and the counts
        // (stored and shown) as they were.
        const reactionState = async () => {
          const mine = (await finn.request("GET", `/v1/channels/${c.id}/posts`)).body.posts[0];
          const stored = await countsAgainstRows(c.id, 1);
          expect(stored.reactionCounts).toEqual(stored.reactionRows);
          return { reactions: mine.reactions, myReaction: mine.myReaction, stored };
        };
        await olga.request("PATCH", `/v1/channels/${c.id}`, { reactionPolicy: "default" });
        const beforeRefusal = await reactionState();
        expect(beforeRefusal).toMatchObject({
          reactions: { "👍": 1, "🔥": 1 },
          myReaction: "👍",
        });
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "🦄" })).body
            .error.code,
        ).toBe("reaction_not_allowed");
        expect(await reactionState()).toEqual(beforeRefusal);
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "❤️" }))
            .status,
        ).toBe(200);
        await olga.request("PATCH", `/v1/channels/${c.id}`, { reactionPolicy: "none" });
        const beforeNone = await reactionState();
        expect(beforeNone).toMatchObject({
          reactions: { "❤️": 1, "🔥": 1 },
          myReaction: "❤️",
        });
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "👍" })).body
            .error.code,
        ).toBe("reaction_not_allowed");
        expect(await reactionState()).toEqual(beforeNone);
      } finally {
        socket?.close();
      }
    });

    /** The stored counters of a post against its rows: reactions by emoji, votes by option, voters. */
    async function countsAgainstRows(channelId: string, seq: number) {
      const db = t.server.context.database.db;
      const tally = <T>(rows: T[], key: (r: T) => string) => {
        const out: Record<string, number> = {};
        for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
        return out;
      };
      const positive = (rows: Array<{ key: string; count: number }>) =>
        Object.fromEntries(
          rows.filter((r) => Number(r.count) !== 0).map((r) => [r.key, Number(r.count)]),
        );
      const [reactions, counts, votes, pollCounts, poll] = await Promise.all([
        db
          .selectFrom("channel_reactions")
          .select(["user_id", "emoji"])
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .execute(),
        db
          .selectFrom("channel_counts")
          .select(["emoji", "count"])
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .execute(),
        db
          .selectFrom("channel_poll_votes")
          .select(["user_id", "option"])
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .execute(),
        db
          .selectFrom("channel_poll_counts")
          .select(["option", "count"])
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .execute(),
        db
          .selectFrom("channel_polls")
          .select("voters")
          .where("channel_id", "=", channelId)
          .where("seq", "=", seq)
          .executeTakeFirst(),
      ]);
      return {
        reactionRows: tally(reactions, (r) => r.emoji),
        reactionCounts: positive(counts.map((c) => ({ key: c.emoji, count: c.count }))),
        voteRows: tally(votes, (v) => String(v.option)),
        voteCounts: positive(pollCounts.map((c) => ({ key: String(c.option), count: c.count }))),
        votesPerVoter: Object.values(tally(votes, (v) => v.user_id)),
        voterRows: new Set(votes.map((v) => v.user_id)).size,
        voters: poll ? Number(poll.voters) : 0,
      };
    }

    it("takes exactly one emoji when any reaction is allowed", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      await post(olga, c.id);
      const react = (emoji: string) =>
        finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji });
      for (const emoji of singleEmoji) {
        const r = await react(emoji);
        expect(r.status, emoji).toBe(200);
        expect(r.body.reactions).toEqual({ [emoji]: 1 });
      }
      const last = singleEmoji[singleEmoji.length - 1] as string;
      for (const text of notSingleEmoji.filter((x) => x.trim() !== "" && !/\s/u.test(x))) {
        const r = await react(text);
        expect(r.status, JSON.stringify(text)).toBe(400);
        expect(r.body.error.code, JSON.stringify(text)).toBe("reaction_not_allowed");
      }
      // None of the refusals replaced the last accepted reaction or moved a counter.
      const seen = (await finn.request("GET", `/v1/channels/${c.id}/posts`)).body.posts[0];
      expect(seen).toMatchObject({ reactions: { [last]: 1 }, myReaction: last });
      const stored = await countsAgainstRows(c.id, 1);
      expect(stored.reactionRows).toEqual({ [last]: 1 });
      expect(stored.reactionCounts).toEqual({ [last]: 1 });
    });

    it("keeps counts exact under overlapping follows, reactions and votes from the same followers", async () => {
      const olga = await person("Olga");
      const followers: Person[] = [];
      for (let i = 0; i < 4; i++) followers.push(await person(`Fan ${i}`));
      const c = await channel(olga);
      const perFollower = 12;
      const all = <T>(n: number, make: (f: Person, k: number, i: number) => Promise<T>) =>
        Promise.all(
          followers.flatMap((f, i) => Array.from({ length: n }, (_, k) => make(f, k, i))),
        );
      // Follows overlap: each follower follows (and flips mute) several times at once.
      const follows = await all(6, (f, k) =>
        f.request("PUT", `/v1/channels/${c.id}/follow`, { muted: k % 2 === 1 }),
      );
      expect(follows.map((r) => r.status)).toEqual(follows.map(() => 200));
      const rows = await t.server.context.database.db
        .selectFrom("channel_followers")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("channel_id", "=", c.id)
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(followers.length);
      expect((await olga.request("GET", `/v1/channels/${c.id}`)).body.followerCount).toBe(
        followers.length,
      );
      const created = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
        id: postId(),
        text: "Vote and react",
        poll: { question: "Which?", options: ["a", "b", "c"] },
      });
      const seq = created.body.seq as number;
      const emoji = ["👍", "❤️", null, "🔥"];
      // Every follower sends its reactions, changes, removals and votes all at once.
      const replies = await all(perFollower, (f, k, i) => {
        const path = `/v1/channels/${c.id}/posts/${seq}`;
        const e = emoji[(i + k) % emoji.length];
        if (k % 2 === 0) {
          return e === null
            ? f.request("DELETE", `${path}/reaction`)
            : f.request("PUT", `${path}/reaction`, { emoji: e });
        }
        const option = (i + k) % 4;
        return option === 3
          ? f.request("DELETE", `${path}/vote`)
          : f.request("PUT", `${path}/vote`, { options: [option] });
      });
      for (const r of replies) expect(r.status, JSON.stringify(r.body)).toBe(200);
      const after = await countsAgainstRows(c.id, seq);
      expect(after.reactionCounts).toEqual(after.reactionRows);
      expect(after.voteCounts).toEqual(after.voteRows);
      expect(after.voters).toBe(after.voterRows);
      // A single-choice poll: at most one option per follower.
      for (const n of after.votesPerVoter) expect(n).toBe(1);
      // What the API shows is what the rows say.
      const page = await olga.request("GET", `/v1/channels/${c.id}/posts?after=${seq - 1}`);
      expect(page.body.posts[0].reactions).toEqual(after.reactionRows);
      expect(page.body.posts[0].poll.voters).toBe(after.voterRows);
    });

    it("closes edits after 30 days and drops posts past the retention period", async () => {
      const olga = await person("Olga");
      const c = await channel(olga);
      await post(olga, c.id, "old");
      await post(olga, c.id, "new");
      const db = t.server.context.database.db;
      await db
        .updateTable("channel_posts")
        .set({ created_at: Date.now() - 31 * dayMs })
        .where("channel_id", "=", c.id)
        .where("seq", "=", 1)
        .execute();
      const edit = await olga.request("PATCH", `/v1/channels/${c.id}/posts/1`, { text: "x" });
      expect(edit.status).toBe(409);
      expect(edit.body.error.code).toBe("edit_window_closed");
      const removal = await olga.request("DELETE", `/v1/channels/${c.id}/posts/1`);
      expect(removal.status).toBe(409);
      expect(removal.body.error.code).toBe("edit_window_closed");
      // Neither refusal touched the post: same text, never edited, still stored.
      const stored = await db
        .selectFrom("channel_posts")
        .select(["seq", "text", "edited_at"])
        .where("channel_id", "=", c.id)
        .orderBy("seq")
        .execute();
      expect(stored.map((r) => [Number(r.seq), r.text, r.edited_at])).toEqual([
        [1, "old", null],
        [2, "new", null],
      ]);
      const page = await olga.request("GET", `/v1/channels/${c.id}/posts`);
      expect(page.body.posts.map((p: { text: string }) => p.text)).toEqual(["new"]);
      expect(page.body.lastSeq).toBe(2);
      await t.server.prune();
      const left = await db
        .selectFrom("channel_posts")
        .select("seq")
        .where("channel_id", "=", c.id)
        .execute();
      expect(left.map((r) => Number(r.seq))).toEqual([2]);
    });

    // Only PostgreSQL runs transactions side by side (SQLite runs one at a time).
    if (backend === "postgres") {
      it("refuses a vote still in flight when the poll closes, so the close's counts are final", async () => {
        const olga = await person("Olga");
        const [finn, gail] = [await person("Finn"), await person("Gail")];
        const c = await channel(olga);
        for (const f of [finn, gail]) await f.request("PUT", `/v1/channels/${c.id}/follow`, {});
        const created = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
          id: postId(),
          poll: { question: "Which?", options: ["a", "b"] },
        });
        const seq = created.body.seq as number;
        const path = `/v1/channels/${c.id}/posts/${seq}`;
        await finn.request("PUT", `${path}/vote`, { options: [0] });
        // Hold the counter of option 0, so that Gail's vote stops there, past its "is it open?".
        const db = t.server.context.database.db;
        let release = () => {};
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        let holder = 0;
        const holding = new Promise<void>((held, failed) => {
          db.transaction()
            .execute(async (trx) => {
              holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx))
                .rows[0]?.pid as number;
              await trx
                .selectFrom("channel_poll_counts")
                .select("count")
                .where("channel_id", "=", c.id)
                .where("seq", "=", seq)
                .forUpdate()
                .execute();
              held();
              await released;
            })
            .catch(failed);
        });
        try {
          await holding;
          const vote = gail.request("PUT", `${path}/vote`, { options: [0] });
          for (;;) {
            const waiting = await sql<{ n: string }>`
              select count(*) as n from pg_stat_activity
              where ${holder} = any(pg_blocking_pids(pid))`.execute(db);
            if (Number(waiting.rows[0]?.n) > 0) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const closing = await olga.request("POST", `${path}/poll/close`);
          expect(closing.body.poll).toMatchObject({
            closed: true,
            voters: 1,
            options: [
              { text: "a", votes: 1 },
              { text: "b", votes: 0 },
            ],
          });
          release();
          const late = await vote;
          expect(late.status).toBe(409);
          expect(late.body.error.code).toBe("poll_closed");
        } finally {
          release();
        }
        const after = await countsAgainstRows(c.id, seq);
        expect(after).toMatchObject({ voteRows: { 0: 1 }, voteCounts: { 0: 1 }, voters: 1 });
      });
    }

    it("caps the preview for non-followers at 30 days when the retention period is longer", async () => {
      const long = await startTestServer({
        backend,
        env: { ...noRateLimits, VEIL_CHANNEL_RETENTION_DAYS: "90" },
      });
      try {
        const join = async (name: string) => {
          const phone = nextPhone();
          return TestUser.register(long.url, { name, phone, verifier: long.verifier });
        };
        const olga = await join("Olga");
        const finn = await join("Finn");
        const stranger = await join("Stranger");
        const created = await olga.request("POST", "/v1/channels", {
          name: "Archive",
          handle: `archive_${backend}`,
        });
        const id = created.body.id as string;
        await finn.request("PUT", `/v1/channels/${id}/follow`, {});
        for (const text of ["60 days ago", "31 days ago", "29 days ago", "today"]) {
          await olga.request("POST", `/v1/channels/${id}/posts`, { id: postId(), text });
        }
        const db = long.server.context.database.db;
        for (const [seq, days] of [
          [1, 60],
          [2, 31],
          [3, 29],
        ] as const) {
          await db
            .updateTable("channel_posts")
            .set({ created_at: Date.now() - days * dayMs })
            .where("channel_id", "=", id)
            .where("seq", "=", seq)
            .execute();
        }
        const texts = async (p: TestUser, after = 0) =>
          (await p.request("GET", `/v1/channels/${id}/posts?after=${after}`)).body.posts.map(
            (x: { text: string }) => x.text,
          );
        const all = ["60 days ago", "31 days ago", "29 days ago", "today"];
        expect(await texts(finn)).toEqual(all);
        expect(await texts(olga)).toEqual(all);
        expect(await texts(stranger)).toEqual(["29 days ago", "today"]);
        // Asking by sequence number reaches no further back.
        expect(await texts(stranger, 1)).toEqual(["29 days ago", "today"]);
        // Following opens the whole retention period.
        await stranger.request("PUT", `/v1/channels/${id}/follow`, {});
        expect(await texts(stranger)).toEqual(all);
      } finally {
        await long.close();
      }
    });

    it("runs admin invitations, their expiry and limit, and ownership (R10 between admins)", async () => {
      const olga = await person("Olga");
      const alan = await person("Alan");
      const bea = await person("Bea");
      const c = await channel(olga);
      // The owner must be able to see whom she invites.
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: alan.id })).body.error
          .code,
      ).toBe("user_not_found");
      await olga.request("POST", "/v1/contacts", { phone: alan.phone });
      await olga.request("POST", "/v1/contacts", { phone: bea.phone });
      const invitedAt = Date.now();
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: alan.id })).status,
      ).toBe(204);
      // An invitation lasts seven days.
      const pending = await olga.request("GET", `/v1/channels/${c.id}/admins`);
      expect(pending.body.invited.map((i: { userId: string }) => i.userId)).toEqual([alan.id]);
      const expiresAt = Date.parse(pending.body.invited[0].expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(invitedAt + 7 * dayMs);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7 * dayMs);
      // The invitee finds the invitation: in a list of their own and on the channel.
      const invitations = await alan.request("GET", "/v1/me/channel-invitations");
      expect(invitations.body.channels.map((x: { id: string }) => x.id)).toEqual([c.id]);
      expect(invitations.body.channels[0].adminInvitation).toBe(true);
      expect((await bea.request("GET", "/v1/me/channel-invitations")).body.channels).toEqual([]);
      expect((await alan.request("PUT", `/v1/channels/${c.id}/admins/me`)).body.role).toBe("admin");
      expect((await alan.request("GET", "/v1/me/channel-invitations")).body.channels).toEqual([]);
      expect((await alan.request("GET", `/v1/channels/${c.id}`)).body.adminInvitation).toBe(false);
      // Co-admins see each other: id, name, number (R10).
      const list = await alan.request("GET", `/v1/channels/${c.id}/admins`);
      expect(list.body.admins).toContainEqual({
        id: olga.id,
        name: "Olga",
        phone: olga.phone,
        role: "owner",
      });
      // An admin cannot invite; an expired invitation cannot be accepted.
      expect(
        (await alan.request("POST", `/v1/channels/${c.id}/admins`, { userId: bea.id })).body.error
          .code,
      ).toBe("not_channel_owner");
      await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: bea.id });
      await t.server.context.database.db
        .updateTable("channel_admin_invites")
        .set({ expires_at: Date.now() - 1 })
        .where("channel_id", "=", c.id)
        .execute();
      expect((await bea.request("PUT", `/v1/channels/${c.id}/admins/me`)).body.error.code).toBe(
        "channel_invite_invalid",
      );
      expect((await bea.request("GET", "/v1/me/channel-invitations")).body.channels).toEqual([]);
      // The refusal made Bea nothing: no role, not among the admins.
      expect((await bea.request("GET", `/v1/channels/${c.id}`)).body.role).toBeNull();
      const adminIds = async () =>
        (await olga.request("GET", `/v1/channels/${c.id}/admins`)).body.admins
          .map((a: { id: string }) => a.id)
          .sort();
      expect(await adminIds()).toEqual([olga.id, alan.id].sort());
      const beaIsAdmin = await t.server.context.database.db
        .selectFrom("channel_admins")
        .select("user_id")
        .where("channel_id", "=", c.id)
        .where("user_id", "=", bea.id)
        .execute();
      expect(beaIsAdmin).toEqual([]);
      // Sixteen admins at most, invitations included.
      const more = [];
      for (let i = 0; i < 14; i++) more.push(await person(`Extra ${i}`));
      for (const p of more) {
        await olga.request("POST", "/v1/contacts", { phone: p.phone });
        expect(
          (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: p.id })).status,
        ).toBe(204);
      }
      const full = (await olga.request("GET", `/v1/channels/${c.id}/admins`)).body;
      expect(full.admins.length + full.invitedCount).toBe(16);
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: bea.id })).body.error
          .code,
      ).toBe("channel_admin_limit");
      // The refused invitation is not stored: same admins, same invitations, none for Bea.
      expect((await olga.request("GET", `/v1/channels/${c.id}/admins`)).body).toEqual(full);
      expect((await bea.request("GET", "/v1/me/channel-invitations")).body.channels).toEqual([]);
      // An admin who is not the owner removes no other admin and hands over nothing.
      const extra = more[0] as Person;
      expect((await extra.request("PUT", `/v1/channels/${c.id}/admins/me`)).body.role).toBe(
        "admin",
      );
      expect(
        (await alan.request("DELETE", `/v1/channels/${c.id}/admins/${extra.id}`)).body.error.code,
      ).toBe("not_channel_owner");
      expect(
        (await alan.request("DELETE", `/v1/channels/${c.id}/admins/${olga.id}`)).body.error.code,
      ).toBe("not_channel_owner");
      expect(
        (await alan.request("POST", `/v1/channels/${c.id}/owner`, { userId: extra.id })).body.error
          .code,
      ).toBe("not_channel_owner");
      expect(
        (await alan.request("POST", `/v1/channels/${c.id}/owner`, { userId: alan.id })).body.error
          .code,
      ).toBe("not_channel_owner");
      const roles = await olga.request("GET", `/v1/channels/${c.id}/admins`);
      expect(
        roles.body.admins
          .filter((a: { id: string }) => [olga.id, alan.id, extra.id].includes(a.id))
          .map((a: { id: string; role: string }) => [a.id, a.role])
          .sort(),
      ).toEqual(
        [
          [olga.id, "owner"],
          [alan.id, "admin"],
          [extra.id, "admin"],
        ].sort(),
      );
      // Ownership moves to an admin only; the old owner stays an admin.
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/owner`, { userId: bea.id })).body.error
          .code,
      ).toBe("user_not_found");
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/owner`, { userId: alan.id })).body.role,
      ).toBe("admin");
      expect((await alan.request("DELETE", `/v1/channels/${c.id}`)).status).toBe(204);
      expect((await olga.request("GET", `/v1/channels/${c.id}`)).body.error.code).toBe(
        "channel_not_found",
      );
    });

    it("lists active channels in the directory by name, handle, category and country", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const tag = randomBytes(3).toString("hex");
      const a = await channel(olga, { name: `Alpha ${tag}`, category: "sports", country: "FR" });
      const b = await channel(olga, { name: `Beta ${tag}`, category: "sports", country: "DE" });
      const d = await channel(olga, { name: `Gone ${tag}` });
      await finn.request("PUT", `/v1/channels/${b.id}/follow`, {});
      await olga.request("DELETE", `/v1/channels/${d.id}`);
      const search = async (query: string) =>
        (await finn.request("GET", `/v1/channels?${query}`)).body.channels.map(
          (c: { id: string }) => c.id,
        );
      expect(await search(`q=${tag}`)).toEqual([b.id, a.id]); // popular first
      expect(await search(`q=${tag}&sort=new`)).toEqual([b.id, a.id]);
      expect(await search(`q=${tag}&country=FR`)).toEqual([a.id]);
      expect(await search(`q=${a.handle}`)).toEqual([a.id]);
      expect(await search(`q=${tag}&category=news`)).toEqual([]);
      expect(await search(`q=${tag}&category=sports`)).toEqual([b.id, a.id]);
      expect(await search(`q=${tag}&category=sports&country=DE`)).toEqual([b.id]);
      expect(
        (await finn.request("GET", "/v1/me/channels")).body.channels.map(
          (c: { id: string }) => c.id,
        ),
      ).toEqual([b.id]);
      // Most active: the latest post first, channels that never posted last.
      await post(olga, a.id);
      expect(await search(`q=${tag}&sort=active`)).toEqual([a.id, b.id]);
      await post(olga, b.id);
      await t.server.context.database.db
        .updateTable("channels")
        .set({ last_post_at: Date.now() - dayMs })
        .where("id", "=", a.id)
        .execute();
      expect(await search(`q=${tag}&sort=active`)).toEqual([b.id, a.id]);
      expect(await search(`q=${tag}`)).toEqual([b.id, a.id]); // popular is unchanged by posts
    });

    it("has no follower list and no way to remove a follower, for admins or anyone", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      await post(olga, c.id);
      const reaction = await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, {
        emoji: "👍",
      });
      expect(reaction.status).toBe(200);
      const who = await olga.request("GET", `/v1/channels/${c.id}/posts/1/reactions`);
      const handle = who.body.reactions[0].follower.handle as string;
      const base = `/v1/channels/${c.id}/followers`;
      for (const [method, path] of [
        ["GET", base],
        ["GET", `${base}?limit=100`],
        ["GET", `${base}/${handle}`],
        ["DELETE", base],
        ["DELETE", `${base}/${handle}`],
        ["DELETE", `${base}/${finn.id}`],
        ["POST", `${base}/${handle}/remove`],
        ["PUT", `${base}/${handle}/ban`],
        ["DELETE", `/v1/channels/${c.id}/follow/${finn.id}`],
      ] as const) {
        for (const p of [olga, finn]) {
          const r = await p.request(method, path, method === "GET" ? undefined : {});
          expect(r.status, `${method} ${path}`).toBe(404);
          expect(r.body.error.code, `${method} ${path}`).toBe("route_not_found");
        }
      }
      // Finn is still a follower, counted once.
      expect((await finn.request("GET", `/v1/channels/${c.id}`)).body).toMatchObject({
        following: true,
        followerCount: 1,
      });
    });

    it("lets only platform admins verify a channel", async () => {
      const olga = await person("Olga");
      const root = await person("Root");
      const c = await channel(olga);
      expect((await olga.request("PUT", `/v1/channels/${c.id}/verified`)).body.error.code).toBe(
        "not_platform_admin",
      );
      await grantRole(t.server.context.database.db, root.id, "admin");
      expect((await root.request("PUT", `/v1/channels/${c.id}/verified`)).status).toBe(204);
      expect((await olga.request("GET", `/v1/channels/${c.id}`)).body.verified).toBe(true);
    });

    it("lets a platform admin suspend a channel: unlisted, no new posts, invite closed, its people told why", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const root = await person("Root");
      await grantRole(t.server.context.database.db, root.id, "admin");
      const tag = randomBytes(3).toString("hex");
      const c = await channel(olga, { name: `Rumours ${tag}` });
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      await post(olga, c.id, "before");
      const path = `/v1/channels/${c.id}/suspension`;
      expect((await olga.request("PUT", path, { reason: "Spam" })).body.error.code).toBe(
        "not_platform_admin",
      );
      expect(
        (await root.request("PUT", "/v1/channels/h_nope/suspension", { reason: "Spam" })).body.error
          .code,
      ).toBe("channel_not_found");
      expect((await root.request("PUT", path, { reason: "  Spam and scams  " })).status).toBe(204);
      const listed = async (query: string) =>
        (await stranger.request("GET", `/v1/channels?${query}`)).body.channels.map(
          (x: { id: string }) => x.id,
        );
      // Not in the directory, not in search, and its invite link opens nothing.
      expect(await listed(`q=${tag}`)).toEqual([]);
      expect(await listed(`q=${c.handle}`)).toEqual([]);
      for (const sort of ["new", "active", "popular"]) {
        expect(await listed(`sort=${sort}&limit=100`)).not.toContain(c.id);
      }
      for (const p of [stranger, finn]) {
        expect((await p.request("GET", `/v1/channel-invites/${c.inviteCode}`)).body).toEqual(
          (await p.request("GET", "/v1/channel-invites/AAAAAAAAAAAAAAAAAAAAAAAA")).body,
        );
      }
      // Outsiders get what an unknown channel answers, for everything.
      const unknown = (await stranger.request("GET", "/v1/channels/h_nope")).body;
      expect((await stranger.request("GET", `/v1/channels/${c.id}`)).body).toEqual(unknown);
      expect((await stranger.request("GET", `/v1/channels/${c.id}/posts`)).body).toEqual(unknown);
      expect((await stranger.request("PUT", `/v1/channels/${c.id}/follow`, {})).body).toEqual(
        unknown,
      );
      // Its followers and admins still see it, with the reason, and in their lists.
      for (const [p, role] of [
        [finn, null],
        [olga, "owner"],
      ] as const) {
        const view = await p.request("GET", `/v1/channels/${c.id}`);
        expect(view.body).toMatchObject({
          status: "suspended",
          suspensionReason: "Spam and scams",
          role,
        });
        const mine = await p.request("GET", "/v1/me/channels");
        expect(mine.body.channels).toContainEqual(view.body);
      }
      expect(
        (await finn.request("GET", `/v1/channels/${c.id}/posts`)).body.posts.map(
          (p: { text: string }) => p.text,
        ),
      ).toEqual(["before"]);
      // A follower may still mute it.
      expect(
        (await finn.request("PUT", `/v1/channels/${c.id}/follow`, { muted: true })).body,
      ).toMatchObject({ muted: true, status: "suspended" });
      // No new posts or media.
      const refused = await post(olga, c.id, "after");
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("channel_suspended");
      expect((await upload(olga, c.id, files.png())).body.error.code).toBe("channel_suspended");
      // Suspending again replaces the reason; only a platform admin reinstates.
      await root.request("PUT", path, { reason: "Scams" });
      expect((await finn.request("GET", `/v1/channels/${c.id}`)).body.suspensionReason).toBe(
        "Scams",
      );
      expect((await olga.request("DELETE", path)).body.error.code).toBe("not_platform_admin");
      expect((await root.request("DELETE", path)).status).toBe(204);
      expect((await stranger.request("GET", `/v1/channels/${c.id}`)).body).toMatchObject({
        status: "active",
        suspensionReason: null,
      });
      expect(await listed(`q=${tag}`)).toEqual([c.id]);
      expect((await stranger.request("GET", `/v1/channel-invites/${c.inviteCode}`)).body.id).toBe(
        c.id,
      );
      expect((await post(olga, c.id, "after")).status).toBe(201);
      // Reinstating an active channel changes nothing; a deleted one cannot be suspended.
      expect((await root.request("DELETE", path)).status).toBe(204);
      await olga.request("DELETE", `/v1/channels/${c.id}`);
      expect((await root.request("PUT", path, { reason: "Spam" })).body.error.code).toBe(
        "channel_not_found",
      );
    });

    it("answers bad input with registered codes and never a 5xx", async () => {
      const olga = await person("Olga");
      const c = await channel(olga);
      const bad: Array<[string, string, unknown]> = [
        ["POST", "/v1/channels", {}],
        ["POST", "/v1/channels", { name: "x", handle: "ok_handle", country: "gb" }],
        ["PATCH", `/v1/channels/${c.id}`, {}],
        ["POST", `/v1/channels/${c.id}/posts`, { id: postId(), text: "" }],
        ["POST", `/v1/channels/${c.id}/posts`, { id: postId(), text: "x".repeat(5000) }],
        ["PUT", `/v1/channels/${c.id}/posts/99/reaction`, { emoji: "👍" }],
        ["PATCH", `/v1/channels/${c.id}/posts/99`, { text: "x" }],
        ["GET", `/v1/channels/${c.id}/posts?after=x`, undefined],
        ["GET", "/v1/channels/h_nope", undefined],
        ["GET", "/v1/channels?sort=random", undefined],
        ["POST", `/v1/channels/${c.id}/posts/99/poll/close`, undefined],
        ["PUT", `/v1/channels/${c.id}/suspension`, { reason: "" }],
        ["PUT", `/v1/channels/${c.id}/suspension`, { reason: "   " }],
        ["PUT", `/v1/channels/${c.id}/suspension`, { reason: "x".repeat(501) }],
        ["PUT", `/v1/channels/${c.id}/suspension`, { reason: "spam", extra: 1 }],
        ["PUT", `/v1/channels/${c.id}/photo`, { photo: "x" }],
        ["GET", `/v1/channels/${c.id}/photo`, undefined],
        ["GET", "/v1/channels/by-handle/no_such_handle", undefined],
        ["GET", "/v1/channels/by-handle/9%20bad", undefined],
        ["GET", `/v1/channels/by-handle/${"x".repeat(65)}`, undefined],
      ];
      for (const [method, path, body] of bad) {
        const r = await olga.request(method, path, body);
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        expect(Object.keys(errorRegistry)).toContain(r.body.error.code);
      }
    });

    const upload = (admin: Person, channelId: string, bytes: Buffer, contentType = "image/png") =>
      http(t.url, "POST", `/v1/channels/${channelId}/media`, {
        token: admin.token,
        raw: bytes,
        contentType,
      });

    it("runs polls: one vote per follower, changed or withdrawn while open, exact counts pushed coalesced", async () => {
      const olga = await person("Olga");
      const followers = [await person("Finn"), await person("Gail"), await person("Hugo")];
      const [finn, gail, hugo] = followers as [Person, Person, Person];
      const outsider = await person("Ivan");
      const c = await channel(olga);
      for (const f of followers) await f.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const ask = (poll: Record<string, unknown>) =>
        olga.request("POST", `/v1/channels/${c.id}/posts`, { id: postId(), poll });
      expect((await ask({ question: "Tea?", options: ["yes", "yes"] })).body.error.code).toBe(
        "poll_invalid",
      );
      expect(
        (
          await ask({
            question: "Tea?",
            options: ["yes", "no"],
            closesAt: new Date(Date.now() - 1000).toISOString(),
          })
        ).body.error.code,
      ).toBe("poll_invalid");
      expect((await ask({ question: "Tea?", options: ["yes"] })).status).toBe(400);
      const created = await ask({ question: "Tea or coffee?", options: ["tea", "coffee", "both"] });
      expect(created.status).toBe(201);
      const seq = created.body.seq as number;
      expect(created.body.poll).toEqual({
        question: "Tea or coffee?",
        options: [
          { text: "tea", votes: 0 },
          { text: "coffee", votes: 0 },
          { text: "both", votes: 0 },
        ],
        multiple: false,
        voters: 0,
        closesAt: null,
        closed: false,
        myVote: [],
      });
      const vote = (p: Person, options: number[] | null, at = seq) =>
        options === null
          ? p.request("DELETE", `/v1/channels/${c.id}/posts/${at}/vote`)
          : p.request("PUT", `/v1/channels/${c.id}/posts/${at}/vote`, { options });
      const socket = await finn.connect(t.wsUrl);
      try {
        expect((await vote(outsider, [0])).body.error.code).toBe("not_following");
        expect((await vote(finn, [0, 1])).body.error.code).toBe("vote_invalid");
        expect((await vote(finn, [3])).body.error.code).toBe("vote_invalid");
        const text = await post(olga, c.id, "no poll here");
        expect((await vote(finn, [0], text.body.seq)).body.error.code).toBe("poll_not_found");
        for (const f of followers) expect((await vote(f, [0])).status).toBe(200);
        // Hugo changes his vote; Gail withdraws hers.
        expect((await vote(hugo, [1])).body.poll.myVote).toEqual([1]);
        const withdrawn = await vote(gail, null);
        expect(withdrawn.body.poll).toMatchObject({ voters: 2, myVote: [] });
        const seen = await finn.request("GET", `/v1/channels/${c.id}/posts`);
        expect(seen.body.posts[0].poll).toMatchObject({
          options: [
            { text: "tea", votes: 1 },
            { text: "coffee", votes: 1 },
            { text: "both", votes: 0 },
          ],
          voters: 2,
          myVote: [0],
        });
        // Five votes, pushed as one update with the final counts.
        const pushed = await socket.next((f) => f.type === "channel.counts");
        expect(pushed).toEqual({
          type: "channel.counts",
          channelId: c.id,
          seq,
          counts: {},
          poll: { votes: [1, 1, 0], voters: 2 },
        });
      } finally {
        socket.close();
      }
      // The counters match the rows (one per follower per option).
      const db = t.server.context.database.db;
      const rows = await db
        .selectFrom("channel_poll_votes")
        .select(["option"])
        .where("channel_id", "=", c.id)
        .where("seq", "=", seq)
        .execute();
      expect(rows.map((r) => Number(r.option)).sort()).toEqual([0, 1]);
      // Admins see who voted for what (R8); followers do not (R7).
      await hugo.request("PATCH", "/v1/me/privacy", { photo: "nobody" });
      const who = await olga.request("GET", `/v1/channels/${c.id}/posts/${seq}/votes`);
      expect(
        who.body.votes.map((v: { follower: { name: string }; options: number[] }) => [
          v.follower.name,
          v.options,
        ]),
      ).toEqual([
        ["Finn", [0]],
        ["Hugo", [1]],
      ]);
      for (const v of who.body.votes) expect(v.follower.handle).toMatch(/^f_/);
      const body = JSON.stringify(who.body);
      for (const f of followers) {
        expect(body).not.toContain(f.id);
        expect(body).not.toContain(f.phone);
      }
      expect(
        (await finn.request("GET", `/v1/channels/${c.id}/posts/${seq}/votes`)).body.error.code,
      ).toBe("not_channel_admin");
      const seenByFollower = JSON.stringify(
        (await gail.request("GET", `/v1/channels/${c.id}/posts`)).body,
      );
      expect(seenByFollower).not.toContain(finn.id);
      expect(seenByFollower).not.toContain("Finn");
      // Only admins close a poll; a post without a poll has none to close.
      const close = (p: Person, at = seq) =>
        p.request("POST", `/v1/channels/${c.id}/posts/${at}/poll/close`);
      expect((await close(finn)).body.error.code).toBe("not_channel_admin");
      expect((await close(olga, seq + 1)).body.error.code).toBe("poll_not_found");
      // Closing pushes the closed poll and its final counts to connected followers.
      const live = await gail.connect(t.wsUrl);
      let closedAt: string | null = null;
      try {
        const closing = await close(olga);
        expect(closing.status).toBe(200);
        expect(closing.body.poll).toMatchObject({
          closed: true,
          voters: 2,
          options: [
            { text: "tea", votes: 1 },
            { text: "coffee", votes: 1 },
            { text: "both", votes: 0 },
          ],
        });
        closedAt = closing.body.poll.closesAt;
        expect(closedAt).not.toBeNull();
        const update = await live.next((f) => f.type === "channel.post");
        expect(update.type === "channel.post" && update.post.seq).toBe(seq);
        expect(update.type === "channel.post" && update.post.poll?.closed).toBe(true);
        const counts = await live.next((f) => f.type === "channel.counts");
        expect(counts).toEqual({
          type: "channel.counts",
          channelId: c.id,
          seq,
          counts: {},
          poll: { votes: [1, 1, 0], voters: 2 },
        });
      } finally {
        live.close();
      }
      // Closing again changes nothing.
      const again = await close(olga);
      expect(again.body.poll).toMatchObject({ closed: true, voters: 2, closesAt: closedAt });
      // A closed poll takes no votes, changes or withdrawals.
      expect((await vote(gail, [2])).body.error.code).toBe("poll_closed");
      expect((await vote(finn, [1])).body.error.code).toBe("poll_closed");
      expect((await vote(finn, null)).body.error.code).toBe("poll_closed");
      const closed = await finn.request("GET", `/v1/channels/${c.id}/posts`);
      expect(closed.body.posts[0].poll).toMatchObject({ closed: true, myVote: [0] });
    });

    it("takes several options in a multiple-choice poll", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const gail = await person("Gail");
      const c = await channel(olga);
      for (const f of [finn, gail]) await f.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const created = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
        id: postId(),
        text: "Pick your days",
        poll: {
          question: "Which days?",
          options: ["mon", "tue", "wed"],
          multiple: true,
          closesAt: new Date(Date.now() + dayMs).toISOString(),
        },
      });
      expect(created.body.poll).toMatchObject({ multiple: true, closed: false });
      const path = `/v1/channels/${c.id}/posts/${created.body.seq}/vote`;
      expect((await finn.request("PUT", path, { options: [0, 0] })).body.error.code).toBe(
        "vote_invalid",
      );
      expect((await finn.request("PUT", path, { options: [2, 0] })).body.poll.myVote).toEqual([
        0, 2,
      ]);
      await gail.request("PUT", path, { options: [0, 1] });
      const changed = await finn.request("PUT", path, { options: [1] });
      expect(changed.body.poll).toMatchObject({
        options: [
          { text: "mon", votes: 1 },
          { text: "tue", votes: 2 },
          { text: "wed", votes: 0 },
        ],
        voters: 2,
        myVote: [1],
      });
    });

    it("stores public media by sniffed type and size, and serves it to anyone the channel is shown to", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const png = files.png();
      // The declared type is not trusted: the bytes are.
      const image = await upload(olga, c.id, png, "application/octet-stream");
      expect(image.status).toBe(201);
      expect(image.body).toMatchObject({ contentType: "image/png", size: png.length });
      const others = [];
      for (const [kind, type] of [
        ["mp4", "video/mp4"],
        ["pdf", "application/pdf"],
        ["mp3", "audio/mpeg"],
      ] as const) {
        const r = await upload(olga, c.id, files[kind](), type);
        expect(r.body.contentType).toBe(type);
        others.push(r.body.id as string);
      }
      const mediaRows = async () =>
        (
          await t.server.context.database.db
            .selectFrom("channel_media")
            .select("id")
            .where("channel_id", "=", c.id)
            .execute()
        )
          .map((r) => r.id)
          .sort();
      const stored = await mediaRows();
      expect(stored).toHaveLength(4);
      const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("base64url");
      const text = Buffer.from(`just text ${randomBytes(8).toString("hex")}`);
      expect((await upload(olga, c.id, text, "image/png")).body.error.code).toBe(
        "media_type_not_allowed",
      );
      const big = Buffer.concat([files.png(), Buffer.alloc(mediaLimit)]);
      const oversized = await upload(olga, c.id, big);
      expect(oversized.status).toBe(413);
      expect(oversized.body.error.code).toBe("media_too_large");
      const strangers = files.png();
      expect((await upload(finn, c.id, strangers)).body.error.code).toBe("not_channel_admin");
      // The refused uploads left no media row and no bytes in the blob store.
      expect(await mediaRows()).toEqual(stored);
      for (const refused of [text, big, strangers]) {
        expect(await t.server.context.blobs.get(sha(refused))).toBeNull();
      }
      // A post references up to ten of the channel's media, with a caption.
      const created = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
        id: postId(),
        text: "Photos from today",
        media: [image.body.id, ...others],
      });
      expect(created.status).toBe(201);
      expect(created.body.media.map((m: { contentType: string }) => m.contentType)).toEqual([
        "image/png",
        "video/mp4",
        "application/pdf",
        "audio/mpeg",
      ]);
      const onlyMedia = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
        id: postId(),
        media: [image.body.id],
      });
      expect(onlyMedia.body).toMatchObject({ text: "", media: [image.body] });
      expect(
        (
          await olga.request("POST", `/v1/channels/${c.id}/posts`, {
            id: postId(),
            media: ["not_uploaded_here"],
          })
        ).body.error.code,
      ).toBe("media_not_found");
      expect(
        (
          await olga.request("POST", `/v1/channels/${c.id}/posts`, {
            id: postId(),
            media: Array.from({ length: 11 }, () => image.body.id),
          })
        ).status,
      ).toBe(400);
      // Another channel's media cannot be borrowed.
      const other = await channel(olga);
      expect(
        (
          await olga.request("POST", `/v1/channels/${other.id}/posts`, {
            id: postId(),
            media: [image.body.id],
          })
        ).body.error.code,
      ).toBe("media_not_found");
      // Anyone who can see the channel downloads it, with its type.
      for (const p of [finn, stranger]) {
        const got = await fetch(`${t.url}/v1/channels/${c.id}/media/${image.body.id}`, {
          headers: { authorization: `Bearer ${p.token}` },
        });
        expect(got.status).toBe(200);
        expect(got.headers.get("content-type")).toBe("image/png");
        expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true);
      }
      expect(
        (await stranger.request("GET", `/v1/channels/${other.id}/media/${image.body.id}`)).body
          .error.code,
      ).toBe("media_not_found");
      await olga.request("DELETE", `/v1/channels/${c.id}`);
      expect(
        (await stranger.request("GET", `/v1/channels/${c.id}/media/${image.body.id}`)).body.error
          .code,
      ).toBe("channel_not_found");
    });

    it("sets, serves and removes the channel photo, versioned for caching", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const path = `/v1/channels/${c.id}/photo`;
      const put = (p: Person, bytes: Buffer, contentType = "image/png") =>
        http(t.url, "PUT", path, { token: p.token, raw: bytes, contentType });
      const get = (p: Person, headers: Record<string, string> = {}) =>
        fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${p.token}`, ...headers } });
      const none = await stranger.request("GET", path);
      expect(none.status).toBe(404);
      expect(none.body.error.code).toBe("photo_not_found");
      expect((await put(finn, files.png())).body.error.code).toBe("not_channel_admin");
      expect((await put(olga, Buffer.from("not an image at all"))).body.error.code).toBe(
        "photo_invalid",
      );
      const wrongType = await put(olga, files.png(), "text/plain");
      expect(wrongType.status).toBe(415);
      expect(wrongType.body.error.code).toBe("unsupported_media_type");
      const huge = await put(olga, Buffer.concat([files.png(), Buffer.alloc(1024 * 1024)]));
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe("body_too_large");
      const png = files.png();
      const set = await put(olga, png);
      expect(set.status).toBe(200);
      const version = createHash("sha256").update(png).digest("base64url");
      expect(set.body).toMatchObject({ id: c.id, hasPhoto: true, photoVersion: version });
      // Anyone the channel is shown to gets the bytes, with an ETag that is the version.
      for (const p of [finn, stranger]) {
        expect((await p.request("GET", `/v1/channels/${c.id}`)).body.photoVersion).toBe(version);
        const got = await get(p);
        expect(got.status).toBe(200);
        expect(got.headers.get("content-type")).toBe("image/png");
        expect(got.headers.get("etag")).toBe(`"${version}"`);
        expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true);
      }
      const cached = await get(stranger, { "if-none-match": `"${version}"` });
      expect(cached.status).toBe(304);
      // A new photo is a new version.
      const webp = Buffer.concat([
        Buffer.from("RIFF"),
        Buffer.alloc(4),
        Buffer.from("WEBP"),
        randomBytes(32),
      ]);
      const replaced = await put(olga, webp, "image/webp");
      expect(replaced.body.photoVersion).not.toBe(version);
      expect((await get(stranger, { "if-none-match": `"${version}"` })).status).toBe(200);
      expect((await get(finn)).headers.get("content-type")).toBe("image/webp");
      // Removing it: admins only.
      expect((await finn.request("DELETE", path)).body.error.code).toBe("not_channel_admin");
      const removed = await olga.request("DELETE", path);
      expect(removed.body).toMatchObject({ hasPhoto: false, photoVersion: null });
      expect((await finn.request("GET", path)).body.error.code).toBe("photo_not_found");
      // A deleted channel's photo answers as the channel does.
      await put(olga, png);
      await olga.request("DELETE", `/v1/channels/${c.id}`);
      expect((await stranger.request("GET", path)).body.error.code).toBe("channel_not_found");
    });

    it("stores link previews with the post and links every post back to its channel", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const image = await upload(olga, c.id, files.png());
      const preview = {
        url: "https://example.org/story?id=1",
        title: "A story",
        description: "What happened",
        image: image.body.id,
      };
      const socket = await finn.connect(t.wsUrl);
      try {
        const created = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
          id: postId(),
          text: "Read this https://example.org/story?id=1",
          preview,
        });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ preview, link: `veil://channel/${c.handle}/1` });
        const frame = await socket.next((f) => f.type === "channel.post");
        expect(frame.type === "channel.post" && frame.post).toMatchObject({
          preview,
          link: `veil://channel/${c.handle}/1`,
        });
      } finally {
        socket.close();
      }
      const page = await finn.request("GET", `/v1/channels/${c.id}/posts`);
      expect(page.body.posts[0]).toMatchObject({ preview, link: `veil://channel/${c.handle}/1` });
      const send = (p: Record<string, unknown>) =>
        olga.request("POST", `/v1/channels/${c.id}/posts`, { id: postId(), text: "x", preview: p });
      const base = { title: "t", description: "d" };
      expect((await send({ ...base, url: "https://[bad" })).body.error.code).toBe(
        "link_preview_invalid",
      );
      expect((await send({ ...base, url: "https://user:pw@example.org/" })).body.error.code).toBe(
        "link_preview_invalid",
      );
      expect(
        (await send({ ...base, url: "https://example.org/", image: "nope" })).body.error.code,
      ).toBe("media_not_found");
      for (const bad of [
        { ...base, url: "javascript:alert(1)" },
        { ...base, url: "ftp://example.org/file" },
        { ...base, url: "https://example.org/", title: "x".repeat(301) },
        { ...base, url: "https://example.org/", extra: 1 },
      ]) {
        const r = await send(bad);
        expect(r.status).toBe(400);
        expect(Object.keys(errorRegistry)).toContain(r.body.error.code);
      }
      // A post needs text, media or a poll.
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/posts`, { id: postId() })).body.error
          .code,
      ).toBe("post_empty");
    });

    it("resolves a forwarded post's link by handle and previews the post to a non-follower", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const root = await person("Root");
      await grantRole(t.server.context.database.db, root.id, "admin");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      await post(olga, c.id, "first");
      await post(olga, c.id, "worth forwarding");
      await post(olga, c.id, "third");
      // Finn forwards the second post: the copy carries its link.
      const seen = await finn.request("GET", `/v1/channels/${c.id}/posts`);
      const forwarded = seen.body.posts[1] as { link: string; text: string };
      const link = /^veil:\/\/channel\/([^/]+)\/(\d+)$/.exec(forwarded.link);
      expect(link).not.toBeNull();
      const [, handle, seq] = link as unknown as [string, string, string];
      // The stranger who receives it resolves the handle (any case) and previews the post.
      const resolved = await stranger.request(
        "GET",
        `/v1/channels/by-handle/${handle.toUpperCase()}`,
      );
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({
        id: c.id,
        handle: c.handle,
        following: false,
        role: null,
      });
      expect(JSON.stringify(resolved.body)).not.toContain(olga.id);
      const preview = await stranger.request(
        "GET",
        `/v1/channels/${resolved.body.id}/posts?after=${Number(seq) - 1}&limit=1`,
      );
      expect(preview.body.posts.map((p: { text: string }) => p.text)).toEqual(["worth forwarding"]);
      expect(preview.body.posts[0].link).toBe(forwarded.link);
      // A suspended channel's handle resolves for its admins only; a deleted or unknown one for nobody.
      const unknown = (await stranger.request("GET", "/v1/channels/by-handle/no_such_channel"))
        .body;
      expect(unknown.error.code).toBe("channel_not_found");
      await root.request("PUT", `/v1/channels/${c.id}/suspension`, { reason: "Spam" });
      for (const p of [stranger, finn]) {
        expect((await p.request("GET", `/v1/channels/by-handle/${handle}`)).body).toEqual(unknown);
      }
      expect((await olga.request("GET", `/v1/channels/by-handle/${handle}`)).body).toMatchObject({
        id: c.id,
        status: "suspended",
        role: "owner",
      });
      await root.request("DELETE", `/v1/channels/${c.id}/suspension`);
      await olga.request("DELETE", `/v1/channels/${c.id}`);
      for (const p of [stranger, olga]) {
        expect((await p.request("GET", `/v1/channels/by-handle/${handle}`)).body).toEqual(unknown);
      }
    });

    it("migrates 0009 to 0011: existing posts keep their text; channels stay active, with no photo", async () => {
      const { database, migrator, close } = await migrationDatabase(backend);
      try {
        expect((await migrator.migrateTo("0009-channels")).error).toBeUndefined();
        // The 0009 shape of the tables, before the new columns.
        const raw = database.db as unknown as Kysely<{
          channels: Record<string, unknown>;
          channel_posts: Record<string, unknown>;
        }>;
        await raw
          .insertInto("channels")
          .values({
            id: "h_old",
            handle: "old_news",
            name: "Old",
            description: "",
            invite_code: "code_old_channel_0",
            created_at: 1,
          })
          .execute();
        await raw
          .insertInto("channel_posts")
          .values({
            channel_id: "h_old",
            seq: 1,
            client_id: "c_old_post",
            text: "before",
            created_at: 1,
          })
          .execute();
        const to0010 = await migrator.migrateTo("0010-channel-posts-media-polls");
        expect(to0010.results?.map((r) => [r.migrationName, r.status])).toEqual([
          ["0010-channel-posts-media-polls", "Success"],
        ]);
        const row = await database.db
          .selectFrom("channel_posts")
          .selectAll()
          .where("channel_id", "=", "h_old")
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ text: "before", media: null, preview: null });
        const polls = await database.db.selectFrom("channel_polls").selectAll().execute();
        expect(polls).toEqual([]);
        const to0011 = await migrator.migrateTo("0011-channel-photo-suspension");
        expect(to0011.results?.map((r) => [r.migrationName, r.status])).toEqual([
          ["0011-channel-photo-suspension", "Success"],
        ]);
        const channel = await database.db
          .selectFrom("channels")
          .selectAll()
          .where("id", "=", "h_old")
          .executeTakeFirstOrThrow();
        expect(channel).toMatchObject({
          status: "active",
          photo: null,
          photo_type: null,
          suspension_reason: null,
          suspended_at: null,
        });
      } finally {
        await close();
      }
    });
  });
}
