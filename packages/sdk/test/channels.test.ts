import type {
  ChannelCountsEvent,
  ChannelPostDeletedEvent,
  ChannelPostEvent,
  VeilClient,
} from "@veil/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVeilError } from "./helpers/bytes.js";
import {
  backends,
  eventually,
  introduce,
  noRateLimits,
  type Person,
  person,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

/** What a call fails with: its VeilError code. */
async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isVeilError(err)) return err.code;
    throw err;
  }
  throw new Error("it did not fail");
}

/** Every channel event a client emitted, in order. */
function channelEvents(client: VeilClient) {
  const seen = {
    posts: [] as ChannelPostEvent[],
    deleted: [] as ChannelPostDeletedEvent[],
    counts: [] as ChannelCountsEvent[],
  };
  client.on("channel-post", (e) => seen.posts.push(e));
  client.on("channel-post-deleted", (e) => seen.deleted.push(e));
  client.on("channel-counts", (e) => seen.counts.push(e));
  return seen;
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK channels [${backend}]`, () => {
    let t: TestServer;
    const people: Person[] = [];
    let handles = 0;
    const join = async (name: string) => {
      const p = await person(t, name);
      people.push(p);
      return p;
    };
    const newHandle = () => `sdk_${backend}_${handles++}`;

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const p of people) await p.client.stop();
      await t?.close();
    });

    it("creates, finds and follows a channel; posts, edits and deletes arrive live", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({
        name: "Riverside Weather",
        handle: newHandle(),
        description: "Forecasts",
        category: "weather",
        country: "GB",
      });
      expect(ch).toMatchObject({ role: "owner", following: false, lastSeq: 0 });

      // The directory finds it by name, and by its filters; the invite link opens it.
      const found = await finn.client.channelDirectory({ q: "Riverside", country: "GB" });
      expect(found.map((c) => c.id)).toContain(ch.id);
      expect(await finn.client.channelDirectory({ q: "Riverside", country: "FR" })).toEqual([]);
      expect((await finn.client.openChannelInvite(`veil-channel:${ch.inviteCode}`)).id).toBe(ch.id);

      const seen = channelEvents(finn.client);
      const followed = await finn.client.followChannel(ch.id);
      expect(followed).toMatchObject({
        following: true,
        muted: false,
        role: null,
        followerCount: 1,
      });
      expect((await finn.client.myChannels()).map((c) => c.id)).toEqual([ch.id]);

      const first = await olga.client.postToChannel(ch.id, "Rain at noon");
      await eventually(() => expect(seen.posts.map((e) => e.post.text)).toEqual(["Rain at noon"]));
      expect(seen.posts[0]).toMatchObject({ edited: false, source: "live" });
      expect(seen.posts[0]?.post).toMatchObject({ channelId: ch.id, seq: first.seq });

      await olga.client.editChannelPost(ch.id, first.seq, "Rain at one");
      await eventually(() => expect(seen.posts).toHaveLength(2));
      expect(seen.posts[1]).toMatchObject({ edited: true, post: { text: "Rain at one" } });

      await olga.client.deleteChannelPost(ch.id, first.seq);
      await eventually(() => expect(seen.deleted).toEqual([{ channelId: ch.id, seq: first.seq }]));

      // Muting keeps the follow; unfollowing stops the posts.
      expect(await finn.client.muteChannel(ch.id)).toMatchObject({ following: true, muted: true });
      await finn.client.unfollowChannel(ch.id);
      await olga.client.postToChannel(ch.id, "Sunny later");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seen.posts).toHaveLength(2);
      expect(await finn.client.myChannels()).toEqual([]);
    });

    it("catches up after being offline: each missed post once, in order", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({ name: "Night Owls", handle: newHandle() });
      await olga.client.postToChannel(ch.id, "before the follow");
      const seen = channelEvents(finn.client);
      await finn.client.followChannel(ch.id);
      await olga.client.postToChannel(ch.id, "one");
      await eventually(() => expect(seen.posts.map((e) => e.post.text)).toEqual(["one"]));

      await finn.client.stop();
      const missed = ["two", "three", "four"];
      for (const text of missed) await olga.client.postToChannel(ch.id, text);
      await finn.client.start();
      await eventually(() =>
        expect(seen.posts.map((e) => e.post.text)).toEqual(["one", ...missed]),
      );
      expect(seen.posts.slice(1).every((e) => e.source === "catch-up")).toBe(true);

      // Live again afterwards, and a second catch-up repeats nothing.
      await olga.client.postToChannel(ch.id, "five");
      await eventually(() => expect(seen.posts).toHaveLength(5));
      await finn.client.sync();
      expect(seen.posts.map((e) => e.post.seq)).toEqual([2, 3, 4, 5, 6]);

      // The history from the start is there to read, as a page.
      const page = await finn.client.channelPosts(ch.id, { after: 0 });
      expect(page.posts.map((p) => p.text)).toEqual([
        "before the follow",
        "one",
        ...missed,
        "five",
      ]);
      expect(page.lastSeq).toBe(6);
    });

    it("counts reactions for everyone; admins see who by handle and name, never an id or number", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const gail = await join("Gail");
      const ch = await olga.client.createChannel({ name: "Recipes", handle: newHandle() });
      for (const p of [finn, gail]) await p.client.followChannel(ch.id);
      const seen = channelEvents(gail.client);
      const post = await olga.client.postToChannel(ch.id, "Soup tonight");

      const mine = await finn.client.reactToChannelPost(ch.id, post.seq, "👍");
      expect(mine.myReaction).toBe("👍");
      await gail.client.reactToChannelPost(ch.id, post.seq, "❤️");
      await eventually(() =>
        expect(seen.counts.at(-1)).toEqual({
          channelId: ch.id,
          seq: post.seq,
          counts: { "👍": 1, "❤️": 1 },
        }),
      );

      const who = await olga.client.channelReactions(ch.id, post.seq);
      expect(who.map((r) => [r.follower.name, r.emoji]).sort()).toEqual([
        ["Finn", "👍"],
        ["Gail", "❤️"],
      ]);
      const text = JSON.stringify(who);
      for (const p of [finn, gail]) {
        expect(text).not.toContain(p.userId);
        expect(text).not.toContain(p.phone);
      }
      for (const r of who) expect(Object.keys(r.follower).sort()).not.toContain("id");

      const back = await finn.client.removeChannelReaction(ch.id, post.seq);
      expect(back.myReaction).toBeNull();
      await eventually(() => expect(seen.counts.at(-1)?.counts).toEqual({ "❤️": 1 }));
      expect(await failure(finn.client.channelReactions(ch.id, post.seq))).toBe(
        "not_channel_admin",
      );
    });

    it("manages admins, resends safely, and fails with VeilError codes", async () => {
      const olga = await join("Olga");
      const adam = await join("Adam");
      const finn = await join("Finn");
      const handle = newHandle();
      const ch = await olga.client.createChannel({ name: "Town Hall", handle });

      // A resend with the same id is the same post.
      const a = await olga.client.postToChannel(ch.id, "Agenda", { id: "p_agenda_0001" });
      const b = await olga.client.postToChannel(ch.id, "Agenda", { id: "p_agenda_0001" });
      expect(b.seq).toBe(a.seq);
      expect((await olga.client.channelPosts(ch.id)).posts).toHaveLength(1);

      // The owner must be able to see whom she invites (R10).
      expect(await failure(olga.client.inviteChannelAdmin(ch.id, adam.userId))).toBe(
        "user_not_found",
      );
      await introduce(olga, adam);
      await olga.client.inviteChannelAdmin(ch.id, adam.userId);
      expect((await olga.client.channelAdmins(ch.id)).invited.map((i) => i.userId)).toEqual([
        adam.userId,
      ]);
      expect(await adam.client.acceptChannelAdmin(ch.id)).toMatchObject({ role: "admin" });
      expect((await adam.client.postToChannel(ch.id, "From the channel")).text).toBe(
        "From the channel",
      );
      expect(await olga.client.transferChannel(ch.id, adam.userId)).toMatchObject({
        role: "admin",
      });
      await adam.client.removeChannelAdmin(ch.id, olga.userId);
      expect((await adam.client.channelAdmins(ch.id)).admins.map((x) => x.id)).toEqual([
        adam.userId,
      ]);

      expect(await failure(olga.client.createChannel({ name: "Copy", handle }))).toBe(
        "handle_taken",
      );
      expect(await failure(olga.client.createChannel({ name: "Bad", handle: "9bad" }))).toBe(
        "handle_invalid",
      );
      expect(await failure(finn.client.postToChannel(ch.id, "not mine"))).toBe("not_channel_admin");
      expect(await failure(finn.client.reactToChannelPost(ch.id, a.seq, "👍"))).toBe(
        "not_following",
      );
      await finn.client.followChannel(ch.id);
      expect(await failure(finn.client.reactToChannelPost(ch.id, 999, "👍"))).toBe(
        "post_not_found",
      );
      expect(await failure(finn.client.updateChannel(ch.id, { name: "Mine" }))).toBe(
        "not_channel_admin",
      );
      expect(await failure(olga.client.deleteChannel(ch.id))).toBe("not_channel_owner");
      await adam.client.deleteChannel(ch.id);
      expect(await failure(finn.client.channel(ch.id))).toBe("channel_not_found");
      expect(await failure(finn.client.channel("c_nope"))).toBe("channel_not_found");
    });
  });
}
