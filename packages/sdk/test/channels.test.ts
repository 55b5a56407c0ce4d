import { randomBytes } from "node:crypto";
import {
  type ChannelCountsEvent,
  type ChannelPostDeletedEvent,
  type ChannelPostEvent,
  forwardedChannelPost,
  type HeldItem,
  isHeld,
  parseChannelLink,
  type VeilClient,
} from "@veil/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../../server/src/accounts/platform-roles.js";
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
/** A post or change that the content checks let through (these tests' texts are all clean). */
async function published<T extends object>(work: Promise<T | HeldItem>): Promise<T> {
  const result = await work;
  if (isHeld(result)) throw new Error(`held for review: ${result.reasons.join(", ")}`);
  return result;
}

async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isVeilError(err)) return err.code;
    throw err;
  }
  throw new Error("it did not fail");
}

/** The server's media limit in this suite: small, so that "too large" is cheap to send. */
const mediaLimit = 64 * 1024;
/** Just enough of a PNG and a PDF for the server's sniffing, random bytes keeping files apart. */
const png = (size = 64) =>
  new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      randomBytes(size),
    ]),
  );
const pdf = () => new Uint8Array(Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(64)]));
const hourMs = 3600 * 1000;

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
      t = await startTestServer({
        backend,
        env: { ...noRateLimits, VEIL_CHANNEL_MEDIA_LIMIT_BYTES: String(mediaLimit) },
      });
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

      const first = await published(olga.client.postToChannel(ch.id, "Rain at noon"));
      await eventually(() => expect(seen.posts.map((e) => e.post.text)).toEqual(["Rain at noon"]));
      expect(seen.posts[0]).toMatchObject({ edited: false, source: "live" });
      expect(seen.posts[0]?.post).toMatchObject({ channelId: ch.id, seq: first.seq });

      await published(olga.client.editChannelPost(ch.id, first.seq, "Rain at one"));
      await eventually(() => expect(seen.posts).toHaveLength(2));
      expect(seen.posts[1]).toMatchObject({ edited: true, post: { text: "Rain at one" } });

      await olga.client.deleteChannelPost(ch.id, first.seq);
      await eventually(() => expect(seen.deleted).toEqual([{ channelId: ch.id, seq: first.seq }]));

      // Muting keeps the follow; unfollowing stops the posts. A post to another
      // channel Finn follows, sent after, arrives on the same socket after it would have.
      expect(await finn.client.muteChannel(ch.id)).toMatchObject({ following: true, muted: true });
      const marker = await olga.client.createChannel({ name: "Marker", handle: newHandle() });
      await finn.client.followChannel(marker.id);
      await finn.client.unfollowChannel(ch.id);
      await published(olga.client.postToChannel(ch.id, "Sunny later"));
      await published(olga.client.postToChannel(marker.id, "after the unfollow"));
      await eventually(() => expect(seen.posts.at(-1)?.post.text).toBe("after the unfollow"));
      expect(seen.posts.map((e) => e.post.text)).not.toContain("Sunny later");
      expect((await finn.client.myChannels()).map((c) => c.id)).toEqual([marker.id]);
    });

    it("catches up after being offline: each missed post once, in order", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({ name: "Night Owls", handle: newHandle() });
      await published(olga.client.postToChannel(ch.id, "before the follow"));
      const seen = channelEvents(finn.client);
      await finn.client.followChannel(ch.id);
      await published(olga.client.postToChannel(ch.id, "one"));
      await eventually(() => expect(seen.posts.map((e) => e.post.text)).toEqual(["one"]));

      await finn.client.stop();
      const missed = ["two", "three", "four"];
      for (const text of missed) await published(olga.client.postToChannel(ch.id, text));
      await finn.client.start();
      await eventually(() =>
        expect(seen.posts.map((e) => e.post.text)).toEqual(["one", ...missed]),
      );
      expect(seen.posts.slice(1).every((e) => e.source === "catch-up")).toBe(true);

      // Live again afterwards, and a second catch-up repeats nothing.
      await published(olga.client.postToChannel(ch.id, "five"));
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
      const post = await published(olga.client.postToChannel(ch.id, "Soup tonight"));

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
      const a = await published(
        olga.client.postToChannel(ch.id, "Agenda", { id: "p_agenda_0001" }),
      );
      const b = await published(
        olga.client.postToChannel(ch.id, "Agenda", { id: "p_agenda_0001" }),
      );
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
      expect((await published(adam.client.postToChannel(ch.id, "From the channel"))).text).toBe(
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

    it("runs polls end to end: votes, changes, withdrawals, live counts, voters for admins", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const gail = await join("Gail");
      const ch = await olga.client.createChannel({ name: "Lunch Club", handle: newHandle() });
      for (const p of [finn, gail]) await p.client.followChannel(ch.id);
      const seen = channelEvents(gail.client);

      const post = await published(
        olga.client.postToChannel(ch.id, {
          text: "Friday",
          poll: { question: "Where?", options: ["Park", "Cafe", "Pier"] },
        }),
      );
      expect(post.poll).toEqual({
        question: "Where?",
        options: [
          { text: "Park", votes: 0 },
          { text: "Cafe", votes: 0 },
          { text: "Pier", votes: 0 },
        ],
        multiple: false,
        voters: 0,
        closesAt: null,
        closed: false,
        myVote: [],
      });
      // Followers get the poll with the post, live.
      await eventually(() =>
        expect(seen.posts.map((e) => e.post.poll?.question)).toEqual(["Where?"]),
      );

      const votes = (p: { poll: { options: { votes: number }[] } | null }) =>
        p.poll?.options.map((o) => o.votes);
      const first = await finn.client.voteInChannelPoll(ch.id, post.seq, 0);
      expect(first.poll).toMatchObject({ myVote: [0], voters: 1 });
      expect(votes(first)).toEqual([1, 0, 0]);
      const changed = await finn.client.voteInChannelPoll(ch.id, post.seq, [2]);
      expect(changed.poll).toMatchObject({ myVote: [2], voters: 1 });
      expect(votes(changed)).toEqual([0, 0, 1]);
      const gails = await gail.client.voteInChannelPoll(ch.id, post.seq, 2);
      expect(gails.poll).toMatchObject({ myVote: [2], voters: 2 });
      expect(votes(gails)).toEqual([0, 0, 2]);
      await eventually(() =>
        expect(seen.counts.at(-1)).toEqual({
          channelId: ch.id,
          seq: post.seq,
          counts: {},
          poll: { votes: [0, 0, 2], voters: 2 },
        }),
      );

      // Admins see who voted for what, by name and per-channel handle: never an id or number.
      const who = await olga.client.channelVotes(ch.id, post.seq);
      expect(who.map((v) => [v.follower.name, v.options]).sort()).toEqual([
        ["Finn", [2]],
        ["Gail", [2]],
      ]);
      for (const v of who) expect(v.follower.handle).toMatch(/^f_/);
      const text = JSON.stringify(who);
      for (const p of [finn, gail]) {
        expect(text).not.toContain(p.userId);
        expect(text).not.toContain(p.phone);
      }
      expect(await failure(finn.client.channelVotes(ch.id, post.seq))).toBe("not_channel_admin");

      // Withdrawing takes the vote and the voter out of the counts.
      const withdrawn = await finn.client.withdrawChannelVote(ch.id, post.seq);
      expect(withdrawn.poll).toMatchObject({ myVote: [], voters: 1 });
      expect(votes(withdrawn)).toEqual([0, 0, 1]);
      await eventually(() =>
        expect(seen.counts.at(-1)?.poll).toEqual({ votes: [0, 0, 1], voters: 1 }),
      );
      // Reading the posts shows each their own vote.
      expect((await gail.client.channelPosts(ch.id)).posts[0]?.poll?.myVote).toEqual([2]);
      expect((await finn.client.channelPosts(ch.id)).posts[0]?.poll?.myVote).toEqual([]);

      // Several options in a multiple-choice poll, open until a time ahead.
      const closesAt = new Date(Date.now() + hourMs);
      const multi = await published(
        olga.client.postToChannel(ch.id, {
          poll: {
            question: "Which days?",
            options: ["Mon", "Wed", "Fri"],
            multiple: true,
            closesAt,
          },
        }),
      );
      expect(multi.poll).toMatchObject({ multiple: true, closesAt: closesAt.toISOString() });
      const both = await finn.client.voteInChannelPoll(ch.id, multi.seq, [0, 2]);
      expect(both.poll).toMatchObject({ myVote: [0, 2], voters: 1 });
      expect(votes(both)).toEqual([1, 0, 1]);

      // Refusals, each with its code.
      expect(await failure(finn.client.voteInChannelPoll(ch.id, post.seq, [0, 1]))).toBe(
        "vote_invalid",
      );
      expect(await failure(finn.client.voteInChannelPoll(ch.id, post.seq, 5))).toBe("vote_invalid");
      expect(await failure(finn.client.voteInChannelPoll(ch.id, multi.seq, [1, 1]))).toBe(
        "vote_invalid",
      );
      expect(await failure(olga.client.voteInChannelPoll(ch.id, post.seq, 0))).toBe(
        "not_following",
      );
      const plain = await published(olga.client.postToChannel(ch.id, "No poll here"));
      expect(await failure(finn.client.voteInChannelPoll(ch.id, plain.seq, 0))).toBe(
        "poll_not_found",
      );
      const badPoll = (poll: { question: string; options: string[]; closesAt?: Date }) =>
        failure(olga.client.postToChannel(ch.id, { poll }));
      expect(await badPoll({ question: "Twice?", options: ["Yes", "Yes"] })).toBe("poll_invalid");
      expect(
        await badPoll({
          question: "Too late?",
          options: ["Yes", "No"],
          closesAt: new Date(Date.now() - hourMs),
        }),
      ).toBe("poll_invalid");
      expect(await failure(olga.client.postToChannel(ch.id, {}))).toBe("post_empty");
    });

    it("closes a poll (admins): votes stop, the counts stay", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({ name: "Referendum", handle: newHandle() });
      await finn.client.followChannel(ch.id);
      const seen = channelEvents(finn.client);
      const post = await published(
        olga.client.postToChannel(ch.id, {
          poll: { question: "Yes or no?", options: ["Yes", "No"] },
        }),
      );
      await eventually(() => expect(seen.posts).toHaveLength(1));
      await finn.client.voteInChannelPoll(ch.id, post.seq, 0);
      expect(await failure(finn.client.closeChannelPoll(ch.id, post.seq))).toBe(
        "not_channel_admin",
      );
      const closed = await olga.client.closeChannelPoll(ch.id, post.seq);
      expect(closed.poll).toMatchObject({ closed: true, voters: 1 });
      expect(closed.poll?.options.map((o) => o.votes)).toEqual([1, 0]);
      // Followers get the post again, closed, to replace the one they show; then the final counts.
      await eventually(() => expect(seen.posts).toHaveLength(2));
      expect(seen.posts[1]).toMatchObject({
        edited: true,
        source: "live",
        post: { seq: post.seq, editedAt: null, poll: { closed: true, voters: 1 } },
      });
      await eventually(() =>
        expect(seen.counts.at(-1)).toEqual({
          channelId: ch.id,
          seq: post.seq,
          counts: {},
          poll: { votes: [1, 0], voters: 1 },
        }),
      );
      // Closing again changes nothing.
      expect((await olga.client.closeChannelPoll(ch.id, post.seq)).poll?.closed).toBe(true);
      expect(await failure(finn.client.voteInChannelPoll(ch.id, post.seq, 1))).toBe("poll_closed");
      expect(await failure(finn.client.withdrawChannelVote(ch.id, post.seq))).toBe("poll_closed");
      const plain = await published(olga.client.postToChannel(ch.id, "No poll here"));
      expect(await failure(olga.client.closeChannelPoll(ch.id, plain.seq))).toBe("poll_not_found");
    });

    it("posts media and link previews: uploaded, referenced, downloaded; type and size checked", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({ name: "Photo Walks", handle: newHandle() });
      await finn.client.followChannel(ch.id);
      const seen = channelEvents(finn.client);

      const photo = png();
      const post = await published(
        olga.client.postToChannel(ch.id, { text: "The view", media: [photo] }),
      );
      expect(post.text).toBe("The view");
      expect(post.media).toEqual([
        { id: expect.any(String), contentType: "image/png", size: photo.length },
      ]);
      const mediaId = post.media[0]?.id as string;
      await eventually(() =>
        expect(seen.posts.at(-1)?.post.media.map((m) => m.id)).toEqual([mediaId]),
      );
      expect(await finn.client.channelMedia(ch.id, mediaId)).toEqual(photo);

      // The same bytes are the same file; an id already uploaded is posted as it is.
      expect((await olga.client.uploadChannelMedia(ch.id, photo)).id).toBe(mediaId);
      const document = pdf();
      const both = await published(
        olga.client.postToChannel(ch.id, { media: [mediaId, document] }),
      );
      expect(both.text).toBe("");
      expect(both.media.map((m) => m.contentType)).toEqual(["image/png", "application/pdf"]);

      // A link preview made by the client, its image uploaded with it.
      const thumbnail = png();
      const linked = await published(
        olga.client.postToChannel(ch.id, {
          text: "Read this",
          preview: {
            url: "https://example.org/walks",
            title: "Walks",
            description: "Where to go",
            image: thumbnail,
          },
        }),
      );
      expect(linked.preview).toMatchObject({ url: "https://example.org/walks", title: "Walks" });
      expect(await finn.client.channelMedia(ch.id, linked.preview?.image as string)).toEqual(
        thumbnail,
      );

      // The server sniffs the type, checks the size, and the ids must be this channel's.
      const text = new TextEncoder().encode("just some text, not an image");
      expect(await failure(olga.client.postToChannel(ch.id, { media: [text] }))).toBe(
        "media_type_not_allowed",
      );
      expect(await failure(olga.client.uploadChannelMedia(ch.id, png(mediaLimit)))).toBe(
        "media_too_large",
      );
      const other = await olga.client.createChannel({ name: "Elsewhere", handle: newHandle() });
      expect(await failure(olga.client.postToChannel(other.id, { media: [mediaId] }))).toBe(
        "media_not_found",
      );
      expect(await failure(finn.client.uploadChannelMedia(ch.id, png()))).toBe("not_channel_admin");
      expect(await failure(finn.client.channelMedia(ch.id, "nope"))).toBe("media_not_found");
      const preview = { url: "https://user:secret@example.org/", title: "", description: "" };
      expect(await failure(olga.client.postToChannel(ch.id, { text: "x", preview }))).toBe(
        "link_preview_invalid",
      );
    });

    it("forwards a post into a chat; the receiver opens its link without following", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const gail = await join("Gail");
      const handle = newHandle();
      const ch = await olga.client.createChannel({ name: "Harbour News", handle });
      await published(olga.client.postToChannel(ch.id, "Ferry delayed"));
      const post = await published(olga.client.postToChannel(ch.id, "Ferry back on time"));
      expect(post.link).toBe(`veil://channel/${handle}/${post.seq}`);

      // Finn reads it without following, and forwards it to Gail, end to end encrypted.
      const [read] = (await finn.client.channelPosts(ch.id, { after: post.seq - 1 })).posts;
      const forwarded = finn.client.forwardChannelPost(read ?? post);
      expect(forwarded).toBe(`Ferry back on time\n\nForwarded from @${handle}: ${post.link}`);
      await introduce(finn, gail);
      const chat = await finn.client.startDirectChat(gail.userId);
      await gail.client.waitForChat(chat.groupId);
      await finn.client.sendText(chat.groupId, forwarded);
      await eventually(() => expect(gail.seen.texts(chat.groupId)).toEqual([forwarded]));

      // Gail, who does not follow, opens the link: the channel and that post.
      const opened = await gail.client.openChannelLink(gail.seen.texts(chat.groupId)[0] as string);
      expect(opened.channel).toMatchObject({ id: ch.id, handle, following: false, role: null });
      expect(opened.post).toMatchObject({ seq: post.seq, text: "Ferry back on time" });
      expect(JSON.stringify(opened)).not.toContain(olga.userId);

      // The channel alone, by handle or by invite; a deleted post opens as null.
      expect((await gail.client.channelByHandle(`@${handle}`)).id).toBe(ch.id);
      const byHandle = await gail.client.openChannelLink(`veil://channel/${handle}`);
      expect([byHandle.channel.id, byHandle.post]).toEqual([ch.id, null]);
      const byInvite = await gail.client.openChannelLink(`Join: veil-channel:${ch.inviteCode}`);
      expect([byInvite.channel.id, byInvite.post]).toEqual([ch.id, null]);
      await olga.client.deleteChannelPost(ch.id, post.seq);
      expect((await gail.client.openChannelLink(forwarded)).post).toBeNull();
      expect(await failure(gail.client.openChannelLink("veil://channel/nobody_here/1"))).toBe(
        "channel_not_found",
      );
      expect(await failure(gail.client.openChannelLink("no link at all"))).toBe("invalid_argument");

      // A poll or a file forwards with what it is.
      const poll = await published(
        olga.client.postToChannel(ch.id, {
          poll: { question: "Sail?", options: ["Yes", "No"] },
        }),
      );
      expect(forwardedChannelPost(poll)).toBe(
        `Poll: Sail?\n\nForwarded from @${handle}: ${poll.link}`,
      );
      const file = await published(olga.client.postToChannel(ch.id, { media: [png()] }));
      expect(forwardedChannelPost(file)).toBe(
        `[1 file]\n\nForwarded from @${handle}: ${file.link}`,
      );
      expect(parseChannelLink(`see ${file.link}.`)).toEqual({
        type: "handle",
        handle,
        seq: file.seq,
      });
    });

    it("sets the channel photo, and suspends a channel (platform admins)", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const gail = await join("Gail");
      const root = await join("Root");
      const handle = newHandle();
      const ch = await olga.client.createChannel({ name: "Boat Club", handle });
      await finn.client.followChannel(ch.id);

      const image = png();
      expect(await failure(finn.client.setChannelPhoto(ch.id, image))).toBe("not_channel_admin");
      expect(await published(olga.client.setChannelPhoto(ch.id, image))).toMatchObject({
        hasPhoto: true,
      });
      expect(await gail.client.channelPhoto(ch.id)).toEqual(image);
      expect(await published(olga.client.setChannelPhoto(ch.id, null))).toMatchObject({
        hasPhoto: false,
      });
      expect(await failure(gail.client.channelPhoto(ch.id))).toBe("photo_not_found");

      expect(await failure(olga.client.suspendChannel(ch.id, "spam"))).toBe("not_platform_admin");
      await grantRole(t.server.context.database.db, root.userId, "admin");
      await root.client.suspendChannel(ch.id, "Spam reports");
      // Strangers see nothing; its follower sees why; its admins may not post.
      expect(await failure(gail.client.channel(ch.id))).toBe("channel_not_found");
      expect(await failure(gail.client.channelByHandle(handle))).toBe("channel_not_found");
      expect(await finn.client.channel(ch.id)).toMatchObject({
        status: "suspended",
        suspensionReason: "Spam reports",
      });
      expect(await failure(olga.client.postToChannel(ch.id, "still here"))).toBe(
        "channel_suspended",
      );
      await root.client.unsuspendChannel(ch.id);
      expect(await gail.client.channel(ch.id)).toMatchObject({ status: "active" });
      expect((await published(olga.client.postToChannel(ch.id, "back"))).text).toBe("back");

      // The verified badge: platform admins only, set and cleared.
      expect(await failure(olga.client.setChannelVerified(ch.id))).toBe("not_platform_admin");
      await root.client.setChannelVerified(ch.id);
      expect((await gail.client.channel(ch.id)).verified).toBe(true);
      await root.client.setChannelVerified(ch.id, false);
      expect((await gail.client.channel(ch.id)).verified).toBe(false);
    });

    it("delivers a muted channel's posts marked muted (do not notify): live, edited, after catch-up", async () => {
      const olga = await join("Olga");
      const finn = await join("Finn");
      const ch = await olga.client.createChannel({ name: "Quiet Hours", handle: newHandle() });
      const seen = channelEvents(finn.client);
      await finn.client.followChannel(ch.id);
      await published(olga.client.postToChannel(ch.id, "loud"));
      await eventually(() => expect(seen.posts.map((e) => e.post.text)).toEqual(["loud"]));
      expect(seen.posts[0]).toMatchObject({ source: "live", muted: false });

      // Muted: still delivered, live and as edits, each marked muted.
      expect(await finn.client.muteChannel(ch.id)).toMatchObject({ following: true, muted: true });
      const quiet = await published(olga.client.postToChannel(ch.id, "quiet"));
      await published(olga.client.editChannelPost(ch.id, quiet.seq, "quieter"));
      await eventually(() =>
        expect(seen.posts.map((e) => [e.post.text, e.edited, e.muted])).toEqual([
          ["loud", false, false],
          ["quiet", false, true],
          ["quieter", true, true],
        ]),
      );

      // Posts missed while offline come by catch-up, still marked muted.
      await finn.client.stop();
      await published(olga.client.postToChannel(ch.id, "while away"));
      await finn.client.start();
      await eventually(() => expect(seen.posts).toHaveLength(4));
      expect(seen.posts[3]).toMatchObject({
        post: { text: "while away" },
        source: "catch-up",
        muted: true,
      });

      // Unmuted from another device (the server's follow, not this device's call): this
      // device takes it at its next catch-up, and the next post notifies again.
      await finn.client.stop();
      await finn.client.api.followChannel(ch.id, false);
      await published(olga.client.postToChannel(ch.id, "loud again"));
      await finn.client.start();
      await eventually(() => expect(seen.posts).toHaveLength(5));
      expect(seen.posts[4]).toMatchObject({
        post: { text: "loud again" },
        source: "catch-up",
        muted: false,
      });
      await published(olga.client.postToChannel(ch.id, "live and loud"));
      await eventually(() => expect(seen.posts).toHaveLength(6));
      expect(seen.posts[5]).toMatchObject({ source: "live", muted: false });
      expect((await finn.client.channel(ch.id)).muted).toBe(false);
    });
  });
}
