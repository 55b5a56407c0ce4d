import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ModerationCase } from "@veil/protocol";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../src/accounts/platform-roles.js";
import { backends } from "./helpers/backends.js";
import { http, TestUser } from "./helpers/client.js";
import { migrationDatabase } from "./helpers/migration-database.js";
import { MlsDevice } from "./helpers/mls-device.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 3000;
const nextPhone = () => `+1415558${phoneCounter++}`;
const postId = () => `p_${randomBytes(6).toString("hex")}`;

/** Texts whose scores @veil/insights' own tests pin down (default thresholds 0.5 and 0.85). */
const texts = {
  clean: "The market opens at nine tomorrow.",
  /** fraud 0.92: gift cards, refused. */
  giftCards: "Pay the fine with Steam gift cards and send me the codes",
  /** fraud 0.85, exactly the reject threshold: refused. */
  doubleBitcoin: "Guaranteed returns! Double your bitcoin in 24 hours, send it to my wallet now",
  /** fraud 0.5: held. */
  mentor: "Forex mentor here, DM me to start earning",
  /** fraud 0.75: held, riskier. */
  code: "Send me your one-time code to verify",
  /** profanity alone: never refused nor held. */
  swearing: "fuck this traffic",
};

const png = () =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]);
/** An image the operator's list names as known-bad. */
const knownBad = png();
const sha256Hex = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`moderation [${backend}]`, () => {
    let t: TestServer;
    let blocklistDir: string;
    let handles = 0;

    beforeAll(async () => {
      blocklistDir = mkdtempSync(path.join(tmpdir(), "veil-blocklist-"));
      const blocklist = path.join(blocklistDir, "known-bad.txt");
      writeFileSync(blocklist, `# known-bad images\n${sha256Hex(knownBad)}\n`);
      t = await startTestServer({
        backend,
        env: {
          ...noRateLimits,
          VEIL_MODERATION_IMAGE_BLOCKLIST: blocklist,
          VEIL_STRANGER_CHATS_PER_DAY: "3",
          VEIL_FLAGGED_STRANGER_CHATS_PER_DAY: "1",
          VEIL_REPORTS_TO_FLAG: "3",
          VEIL_REPORTS_PER_HOUR: "8",
        },
      });
    });
    afterAll(async () => {
      await t?.close();
      rmSync(blocklistDir, { recursive: true, force: true });
    });

    const db = () => t.server.context.database.db;

    async function person(name: string) {
      const phone = nextPhone();
      const user = await TestUser.register(t.url, { name, phone, verifier: t.verifier });
      return Object.assign(user, { phone, name });
    }
    type Person = Awaited<ReturnType<typeof person>>;

    async function moderator(name = "Moe") {
      const p = await person(name);
      await grantRole(db(), p.id, "moderator");
      return p;
    }

    async function channel(owner: Person, extra: Record<string, unknown> = {}) {
      const handle = `mod_${backend}_${handles++}_${randomBytes(2).toString("hex")}`;
      const r = await owner.request("POST", "/v1/channels", {
        name: "Daily News",
        handle,
        ...extra,
      });
      expect(r.status).toBe(201);
      return r.body as { id: string; handle: string; inviteCode: string };
    }

    const post = (admin: Person, channelId: string, text: string, id = postId()) =>
      admin.request("POST", `/v1/channels/${channelId}/posts`, { id, text });

    const postsSeen = async (p: Person, channelId: string, after = 0) => {
      const r = await p.request("GET", `/v1/channels/${channelId}/posts?after=${after}`);
      expect(r.status).toBe(200);
      return r.body as { posts: Array<{ seq: number; text: string; id: string }>; lastSeq: number };
    };

    /** The open (or, with `closed`, decided) case matching `match`, from the queue. */
    async function caseWhere(
      mod: Person,
      match: (c: ModerationCase) => boolean,
      status: "open" | "closed" = "open",
    ): Promise<ModerationCase> {
      const r = await mod.request("GET", `/v1/moderation/queue?status=${status}&limit=100`);
      expect(r.status).toBe(200);
      const found = (r.body.cases as ModerationCase[]).find(match);
      if (!found) throw new Error(`no such case in ${JSON.stringify(r.body.cases)}`);
      return found;
    }
    const caseOfHold = (mod: Person, holdId: string) =>
      caseWhere(mod, (c) => c.held?.id === holdId);

    const decide = (mod: Person, caseId: string, body: Record<string, unknown>) =>
      mod.request("POST", `/v1/moderation/cases/${caseId}/decision`, body);

    /** Holds a borderline post and decides it a violation: one strike. Returns the case id. */
    async function strike(owner: Person, mod: Person, channelId: string): Promise<string> {
      const held = await post(owner, channelId, texts.mentor);
      expect(held.status).toBe(202);
      const c = await caseOfHold(mod, held.body.id);
      const r = await decide(mod, c.id, { outcome: "violation", category: "fraud" });
      expect(r.status).toBe(200);
      return c.id;
    }

    const moderation = async (p: Person, channelId: string) => {
      const r = await p.request("GET", `/v1/channels/${channelId}/moderation`);
      expect(r.status).toBe(200);
      return r.body;
    };

    it("publishes a clean post: 201, and followers see it", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const r = await post(olga, c.id, texts.clean);
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ seq: 1, text: texts.clean });
      expect((await postsSeen(finn, c.id)).posts.map((p) => p.text)).toEqual([texts.clean]);
      // Profanity alone is not a breach of the guidelines.
      expect((await post(olga, c.id, texts.swearing)).status).toBe(201);
    });

    it("refuses a scam with content_rejected and its guideline, storing nothing", async () => {
      const olga = await person("Olga");
      const c = await channel(olga);
      expect((await post(olga, c.id, texts.clean)).status).toBe(201);
      for (const text of [texts.giftCards, texts.doubleBitcoin]) {
        const r = await post(olga, c.id, text);
        expect(r.status, text).toBe(422);
        expect(r.body.error).toMatchObject({ code: "content_rejected", category: "fraud" });
        expect(r.body.error.message).toMatch(/fraud or a scam/);
      }
      // In a poll too.
      const poll = await olga.request("POST", `/v1/channels/${c.id}/posts`, {
        id: postId(),
        poll: { question: "How will you pay the fine?", options: [texts.giftCards, "cash"] },
      });
      expect(poll.body.error).toMatchObject({ code: "content_rejected", category: "fraud" });
      // Nothing stored: no post row, no hold, the sequence unchanged.
      const rows = await db()
        .selectFrom("channel_posts")
        .select("text")
        .where("channel_id", "=", c.id)
        .execute();
      expect(rows.map((r) => r.text)).toEqual([texts.clean]);
      const holds = await db()
        .selectFrom("moderation_holds")
        .select("id")
        .where("channel_id", "=", c.id)
        .execute();
      expect(holds).toEqual([]);
      expect((await olga.request("GET", `/v1/channels/${c.id}`)).body.lastSeq).toBe(1);
      expect((await post(olga, c.id, "next")).body.seq).toBe(2);
      // An edit into a scam is refused, and the post keeps its text.
      const edit = await olga.request("PATCH", `/v1/channels/${c.id}/posts/1`, {
        text: texts.giftCards,
      });
      expect(edit.body.error).toMatchObject({ code: "content_rejected", category: "fraud" });
      expect((await postsSeen(olga, c.id)).posts[0]?.text).toBe(texts.clean);
      // A channel named as a scam is not created: its handle stays free.
      const handle = `scam_${backend}_${randomBytes(3).toString("hex")}`;
      const refused = await olga.request("POST", "/v1/channels", {
        name: "Fines",
        handle,
        description: texts.giftCards,
      });
      expect(refused.body.error).toMatchObject({ code: "content_rejected", category: "fraud" });
      expect((await olga.request("POST", "/v1/channels", { name: "Fines", handle })).status).toBe(
        201,
      );
      // A known-bad image is refused as illegal, as media and as the photo, and not stored.
      const upload = await http(t.url, "POST", `/v1/channels/${c.id}/media`, {
        token: olga.token,
        raw: knownBad,
        contentType: "image/png",
      });
      expect(upload.body.error).toMatchObject({ code: "content_rejected", category: "illegal" });
      const photo = await http(t.url, "PUT", `/v1/channels/${c.id}/photo`, {
        token: olga.token,
        raw: knownBad,
        contentType: "image/png",
      });
      expect(photo.body.error).toMatchObject({ code: "content_rejected", category: "illegal" });
      expect((await olga.request("GET", `/v1/channels/${c.id}`)).body.hasPhoto).toBe(false);
      const media = await db()
        .selectFrom("channel_media")
        .select("id")
        .where("channel_id", "=", c.id)
        .execute();
      expect(media).toEqual([]);
    });

    it("holds a borderline post unseen until a moderator releases it with the next seq, or removes it with a strike", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const mod = await moderator();
      const c = await channel(olga);
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      const socket = await finn.connect(t.wsUrl);
      try {
        const id = postId();
        const held = await post(olga, c.id, texts.mentor, id);
        expect(held.status).toBe(202);
        expect(held.body).toMatchObject({
          state: "held",
          channelId: c.id,
          kind: "post",
          seq: null,
          text: texts.mentor,
          category: "fraud",
        });
        expect(held.body.reasons.length).toBeGreaterThan(0);
        // A resend is the same hold.
        const again = await post(olga, c.id, texts.mentor, id);
        expect(again.status).toBe(202);
        expect(again.body.id).toBe(held.body.id);
        // Followers see nothing of it: not in the list, not by catching up, not pushed.
        expect(await postsSeen(finn, c.id)).toEqual({ posts: [], lastSeq: 0 });
        const clean = await post(olga, c.id, texts.clean);
        expect(clean.body.seq).toBe(1);
        const first = await socket.next((f) => f.type === "channel.post");
        expect(first.type === "channel.post" && first.post.text).toBe(texts.clean);
        // Its admins see it; followers may not ask.
        const mine = await moderation(olga, c.id);
        expect(mine.held.map((h: { id: string }) => h.id)).toEqual([held.body.id]);
        expect((await finn.request("GET", `/v1/channels/${c.id}/moderation`)).body.error.code).toBe(
          "not_channel_admin",
        );
        // Released: published with the next seq, pushed, and caught up by followers.
        const theCase = await caseOfHold(mod, held.body.id);
        expect(theCase).toMatchObject({ subject: "held", channelId: c.id, status: "open" });
        expect(theCase.risk).toBeCloseTo(0.5);
        const released = await decide(mod, theCase.id, { outcome: "none" });
        expect(released.status).toBe(200);
        expect(released.body.case).toMatchObject({ status: "closed", outcome: "none" });
        const pushed = await socket.next((f) => f.type === "channel.post");
        expect(pushed.type === "channel.post" && pushed.post).toMatchObject({
          seq: 2,
          id,
          text: texts.mentor,
        });
        const caughtUp = await postsSeen(finn, c.id, 1);
        expect(caughtUp.posts.map((p) => [p.seq, p.text])).toEqual([[2, texts.mentor]]);
        expect(caughtUp.lastSeq).toBe(2);
        // A resend of the released post is the published post.
        expect((await post(olga, c.id, texts.mentor, id)).status).toBe(200);
        // Deciding twice is refused.
        expect((await decide(mod, theCase.id, { outcome: "none" })).body.error.code).toBe(
          "case_closed",
        );
        // Another held post, removed: it never appears, and the channel has a strike.
        const removed = await post(olga, c.id, texts.code);
        expect(removed.status).toBe(202);
        const removal = await caseOfHold(mod, removed.body.id);
        expect(
          (await decide(mod, removal.id, { outcome: "violation", category: "fraud" })).status,
        ).toBe(200);
        expect((await postsSeen(finn, c.id)).posts.map((p) => p.text)).toEqual([
          texts.clean,
          texts.mentor,
        ]);
        const after = await moderation(olga, c.id);
        expect(after.held).toEqual([]);
        expect(after.strikes).toEqual({ active: 1, threshold: 3, windowDays: 90 });
        expect(after.decisions).toEqual([
          expect.objectContaining({
            id: removal.id,
            subject: "held",
            outcome: "violation",
            category: "fraud",
            strike: true,
            appeal: null,
            canAppeal: true,
          }),
          expect.objectContaining({
            id: theCase.id,
            outcome: "none",
            strike: false,
            canAppeal: false,
          }),
        ]);
        const rows = await db()
          .selectFrom("channel_posts")
          .select("text")
          .where("channel_id", "=", c.id)
          .execute();
        expect(rows.map((r) => r.text)).not.toContain(texts.code);
      } finally {
        socket.close();
      }
    });

    it("keeps the old text, name and photo in place while an edit, a profile change or a photo is held", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const mod = await moderator();
      // A channel created with a borderline description starts under its handle.
      const handle = `held_${backend}_${randomBytes(3).toString("hex")}`;
      const created = await olga.request("POST", "/v1/channels", {
        name: "Markets",
        handle,
        description: texts.mentor,
      });
      expect(created.status).toBe(202);
      expect(created.body).toMatchObject({ kind: "profile", name: "Markets" });
      const channelId = created.body.channelId as string;
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body).toMatchObject({
        name: handle,
        description: "",
      });
      await decide(mod, (await caseOfHold(mod, created.body.id)).id, { outcome: "none" });
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body).toMatchObject({
        name: "Markets",
        description: texts.mentor,
      });
      // A held rename leaves the old name; the rest of the change applies at once.
      const renamed = await olga.request("PATCH", `/v1/channels/${channelId}`, {
        name: texts.code,
        category: "news",
      });
      expect(renamed.status).toBe(202);
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body).toMatchObject({
        name: "Markets",
        category: "news",
      });
      await decide(mod, (await caseOfHold(mod, renamed.body.id)).id, {
        outcome: "violation",
        category: "fraud",
      });
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body.name).toBe("Markets");
      // A held edit leaves the post as it was until released.
      await post(olga, channelId, texts.clean);
      const edit = await olga.request("PATCH", `/v1/channels/${channelId}/posts/1`, {
        text: texts.mentor,
      });
      expect(edit.status).toBe(202);
      expect(edit.body).toMatchObject({ kind: "edit", seq: 1, text: texts.mentor });
      expect((await postsSeen(finn, channelId)).posts[0]?.text).toBe(texts.clean);
      await decide(mod, (await caseOfHold(mod, edit.body.id)).id, { outcome: "none" });
      expect((await postsSeen(finn, channelId)).posts[0]).toMatchObject({ text: texts.mentor });
      // With a strike on the channel (the rename above), a new photo waits for a person.
      const bytes = png();
      const photo = await http(t.url, "PUT", `/v1/channels/${channelId}/photo`, {
        token: olga.token,
        raw: bytes,
        contentType: "image/png",
      });
      expect(photo.status).toBe(202);
      expect(photo.body).toMatchObject({ kind: "photo" });
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body.hasPhoto).toBe(false);
      const photoCase = await caseOfHold(mod, photo.body.id);
      // The moderator sees the photo itself.
      const file = await fetch(
        `${t.url}/v1/moderation/cases/${photoCase.id}/media/${photo.body.media[0]}`,
        { headers: { authorization: `Bearer ${mod.token}` } },
      );
      expect(file.status).toBe(200);
      expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
      await decide(mod, photoCase.id, { outcome: "none" });
      expect((await finn.request("GET", `/v1/channels/${channelId}`)).body).toMatchObject({
        hasPhoto: true,
        photoVersion: photo.body.media[0],
      });
    });

    it("suspends a channel at three strikes: no posts, no invite, unlisted, followers told why; deleting a post keeps its strike", async () => {
      const olga = await person("Olga");
      const finn = await person("Finn");
      const stranger = await person("Stranger");
      const mod = await moderator();
      const tag = randomBytes(3).toString("hex");
      const c = await channel(olga, { name: `Tips ${tag}` });
      await finn.request("PUT", `/v1/channels/${c.id}/follow`, {});
      expect((await post(olga, c.id, texts.clean)).status).toBe(201);
      await strike(olga, mod, c.id);
      await strike(olga, mod, c.id);
      // The third: a held edit of the published post, removed.
      const edit = await olga.request("PATCH", `/v1/channels/${c.id}/posts/1`, {
        text: texts.code,
      });
      expect(edit.status).toBe(202);
      await decide(mod, (await caseOfHold(mod, edit.body.id)).id, {
        outcome: "violation",
        category: "spam",
      });
      // Suspended through the existing suspension.
      const seen = await finn.request("GET", `/v1/channels/${c.id}`);
      expect(seen.body).toMatchObject({ status: "suspended" });
      expect(seen.body.suspensionReason).toBe(
        "Repeated breaches of the content guidelines (fraud or a scam; spam).",
      );
      const refused = await post(olga, c.id, texts.clean);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("channel_suspended");
      for (const p of [stranger, finn]) {
        expect((await p.request("GET", `/v1/channel-invites/${c.inviteCode}`)).body).toEqual(
          (await p.request("GET", "/v1/channel-invites/AAAAAAAAAAAAAAAAAAAAAAAA")).body,
        );
      }
      const listed = async (query: string) =>
        (await stranger.request("GET", `/v1/channels?${query}`)).body.channels.map(
          (x: { id: string }) => x.id,
        );
      expect(await listed(`q=${tag}`)).toEqual([]);
      expect(await listed(`q=${c.handle}`)).toEqual([]);
      expect(await listed("sort=new&limit=100")).not.toContain(c.id);
      expect((await stranger.request("GET", `/v1/channels/${c.id}`)).body.error.code).toBe(
        "channel_not_found",
      );
      const mine = await moderation(olga, c.id);
      expect(mine.strikes.active).toBe(3);
      expect(mine.suspension.reason).toBe(seen.body.suspensionReason);
      // Deleting the post whose edit was a violation does not undo the strike.
      expect((await olga.request("DELETE", `/v1/channels/${c.id}/posts/1`)).status).toBe(204);
      expect((await moderation(olga, c.id)).strikes.active).toBe(3);
      expect((await finn.request("GET", `/v1/channels/${c.id}`)).body.status).toBe("suspended");
    });

    it("takes one appeal per decision from the owner; upholding changes nothing, reinstating lifts the strike and the suspension", async () => {
      const olga = await person("Olga");
      const adam = await person("Adam");
      const stranger = await person("Stranger");
      const mod = await moderator();
      const tag = randomBytes(3).toString("hex");
      const c = await channel(olga, { name: `Deals ${tag}` });
      // Adam becomes an admin (not the owner).
      await olga.request("POST", "/v1/contacts", { phone: adam.phone });
      await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: adam.id });
      expect((await adam.request("PUT", `/v1/channels/${c.id}/admins/me`)).status).toBe(200);
      const first = await strike(olga, mod, c.id);
      const second = await strike(olga, mod, c.id);
      await strike(olga, mod, c.id);
      expect((await stranger.request("GET", `/v1/channels/${c.id}`)).status).toBe(404);
      const appeal = (decisionId: string, p: Person = olga) =>
        p.request("POST", "/v1/moderation/appeals", { decisionId, text: "This was a joke" });
      // Only the owner; anyone who cannot see the decision gets a missing one.
      expect((await appeal(first, adam)).body.error.code).toBe("not_channel_owner");
      expect((await appeal(first, stranger)).body).toEqual(
        (await appeal("mc_nope", stranger)).body,
      );
      expect((await appeal(first, stranger)).body.error.code).toBe("case_not_found");
      const upheld = await appeal(second);
      expect(upheld.status).toBe(201);
      const reinstated = await appeal(first);
      expect(reinstated.status).toBe(201);
      expect((await appeal(first)).body.error.code).toBe("appeal_exists");
      // The queue of appeals; upholding changes nothing.
      const list = await mod.request("GET", "/v1/moderation/appeals");
      expect(list.body.appeals.map((a: { id: string }) => a.id)).toEqual(
        expect.arrayContaining([upheld.body.appealId, reinstated.body.appealId]),
      );
      const decideAppeal = (id: string, outcome: string) =>
        mod.request("POST", `/v1/moderation/appeals/${id}/decision`, { outcome });
      const kept = await decideAppeal(upheld.body.appealId, "upheld");
      expect(kept.status).toBe(200);
      expect(kept.body.appeal).toMatchObject({ status: "upheld" });
      expect((await decideAppeal(upheld.body.appealId, "reinstated")).body.error.code).toBe(
        "appeal_closed",
      );
      let mine = await moderation(olga, c.id);
      expect(mine.strikes.active).toBe(3);
      expect(mine.suspension).not.toBeNull();
      // Reinstating: the strike goes, and the suspension with it (2 < 3).
      expect((await decideAppeal(reinstated.body.appealId, "reinstated")).status).toBe(200);
      mine = await moderation(olga, c.id);
      expect(mine.strikes.active).toBe(2);
      expect(mine.suspension).toBeNull();
      const byId = new Map(mine.decisions.map((d: { id: string }) => [d.id, d]));
      expect(byId.get(first)).toMatchObject({
        strike: false,
        canAppeal: false,
        appeal: { status: "reinstated" },
      });
      expect(byId.get(second)).toMatchObject({
        strike: true,
        canAppeal: false,
        appeal: { status: "upheld" },
      });
      expect((await stranger.request("GET", `/v1/channels/${c.id}`)).body).toMatchObject({
        status: "active",
        suspensionReason: null,
      });
      const listed = await stranger.request("GET", `/v1/channels?q=${tag}`);
      expect(listed.body.channels.map((x: { id: string }) => x.id)).toEqual([c.id]);
      expect((await stranger.request("GET", `/v1/channel-invites/${c.inviteCode}`)).body.id).toBe(
        c.id,
      );
      expect((await post(olga, c.id, texts.clean)).status).toBe(201);
      // A decision that found nothing wrong cannot be appealed.
      const held = await post(olga, c.id, texts.mentor);
      const fine = await caseOfHold(mod, held.body.id);
      await decide(mod, fine.id, { outcome: "none" });
      expect((await appeal(fine.id)).body.error.code).toBe("appeal_not_allowed");
    });

    it("queues a report from a non-follower without the reporter; a channel the reporter cannot see answers as a missing one", async () => {
      const olga = await person("Olga");
      const rita = await person("Rita");
      const sam = await person("Sam");
      const root = await person("Root");
      const mod = await moderator();
      await grantRole(db(), root.id, "admin");
      const c = await channel(olga);
      await post(olga, c.id, texts.clean);
      const report = (p: Person, body: Record<string, unknown>) =>
        p.request("POST", "/v1/reports", body);
      // Rita does not follow: she reports the channel and a post.
      const first = await report(rita, {
        subject: "post",
        channelId: c.id,
        seq: 1,
        reason: "spam",
        note: "looks like a pump",
      });
      expect(first.status).toBe(202);
      const again = await report(rita, {
        subject: "post",
        channelId: c.id,
        seq: 1,
        reason: "spam",
      });
      expect(again.status).toBe(202);
      expect(again.body.reportId).toBe(first.body.reportId);
      let theCase = await caseWhere(mod, (x) => x.subject === "post" && x.channelId === c.id);
      // The checks found nothing in the post: the first reporter's guideline names the case.
      expect(theCase).toMatchObject({
        seq: 1,
        text: texts.clean,
        reportCount: 1,
        category: "spam",
      });
      expect(theCase.risk).toBeCloseTo(0.15);
      expect(
        (await report(sam, { subject: "post", channelId: c.id, seq: 1, reason: "fraud" })).status,
      ).toBe(202);
      theCase = await caseWhere(mod, (x) => x.id === theCase.id);
      expect(theCase).toMatchObject({ reportCount: 2, category: "spam" });
      expect(theCase.risk).toBeCloseTo(0.3);
      const detail = await mod.request("GET", `/v1/moderation/cases/${theCase.id}`);
      expect(detail.body.reports).toEqual([
        expect.objectContaining({ reason: "spam", note: "looks like a pump", messages: [] }),
        expect.objectContaining({ reason: "fraud", note: null }),
      ]);
      const text = JSON.stringify(detail.body);
      for (const p of [rita, sam]) expect(text).not.toContain(p.id);
      expect(
        (await report(rita, { subject: "channel", channelId: c.id, reason: "other" })).status,
      ).toBe(202);
      // Decided a violation, the post is taken down as an admin's delete does.
      await decide(mod, theCase.id, { outcome: "violation", category: "spam" });
      expect((await postsSeen(olga, c.id)).posts).toEqual([]);
      // A post that is not there, and channels Rita cannot see, answer as missing ones.
      expect(
        (await report(rita, { subject: "post", channelId: c.id, seq: 99, reason: "spam" })).body
          .error.code,
      ).toBe("post_not_found");
      const hidden = await channel(olga);
      await root.request("PUT", `/v1/channels/${hidden.id}/suspension`, { reason: "Spam" });
      const missing = await report(rita, {
        subject: "channel",
        channelId: "h_nope",
        reason: "spam",
      });
      expect(missing.status).toBe(404);
      for (const body of [
        { subject: "channel", channelId: hidden.id, reason: "spam" },
        { subject: "post", channelId: hidden.id, seq: 1, reason: "spam" },
      ]) {
        const r = await report(rita, body);
        expect(r.status).toBe(404);
        expect(r.body).toEqual(missing.body);
      }
    });

    it("limits reports per reporter, a repeat counting too", async () => {
      const olga = await person("Olga");
      const rita = await person("Rita");
      const c = await channel(olga);
      const report = () =>
        rita.request("POST", "/v1/reports", {
          subject: "channel",
          channelId: c.id,
          reason: "spam",
        });
      for (let i = 0; i < 8; i++) expect((await report()).status).toBe(202);
      const over = await report();
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe("rate_limited");
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    });

    /** Members of one MLS group, each with a device; `creator` made it and added the rest. */
    async function groupOf(creator: Person, others: Person[], kind: "group" | "direct" = "group") {
      const devices = new Map<string, MlsDevice>();
      for (const p of [creator, ...others]) {
        const device = new MlsDevice(t.url, p.id, p.deviceId, p.token);
        expect((await device.uploadKeyPackages(3)).status).toBe(200);
        devices.set(p.id, device);
      }
      for (const o of others) {
        await creator.request("POST", "/v1/contacts", { phone: o.phone });
      }
      const mine = devices.get(creator.id) as MlsDevice;
      const groupId = await mine.createGroup(
        kind === "direct"
          ? { kind, peerUserId: (others[0] as Person).id }
          : { kind: "group" as const },
      );
      expect(
        (
          await mine.add(
            groupId,
            others.map((o) => o.id),
          )
        ).status,
      ).toBe(201);
      return { groupId, devices };
    }

    it("keeps from a reported chat only the messages the reporter attached", async () => {
      const ann = await person("Ann");
      const ben = await person("Ben");
      const eve = await person("Eve");
      const mod = await moderator();
      const { groupId, devices } = await groupOf(ann, [ben], "direct");
      const bens = devices.get(ben.id) as MlsDevice;
      await bens.syncMailbox();
      const secrets = ["hello Ann", "a private thing", "my bank is near"];
      for (const text of secrets) expect((await bens.send(groupId, text)).status).toBe(201);
      const attached = [
        {
          messageId: "m_1",
          senderUserId: ben.id,
          sentAt: 1_790_000_000_000,
          text: "send me the code",
        },
        { messageId: "m_2", senderUserId: ben.id, sentAt: 1_790_000_001_000, text: "or else" },
      ];
      const r = await ann.request("POST", "/v1/reports", {
        subject: "user",
        userId: ben.id,
        groupId,
        reason: "fraud",
        messages: attached,
      });
      expect(r.status).toBe(202);
      const theCase = await caseWhere(mod, (c) => c.subject === "user" && c.userId === ben.id);
      const detail = await mod.request("GET", `/v1/moderation/cases/${theCase.id}`);
      expect(detail.body.reports).toHaveLength(1);
      expect(detail.body.reports[0].messages).toEqual(attached);
      const shown = JSON.stringify(detail.body);
      expect(shown).not.toContain(ann.id);
      for (const text of secrets) expect(shown).not.toContain(text);
      // What the server stored for the report holds those two texts and nothing else of the chat.
      const stored = await db()
        .selectFrom("moderation_reports")
        .selectAll()
        .where("case_id", "=", theCase.id)
        .execute();
      expect(stored).toHaveLength(1);
      expect(JSON.parse(stored[0]?.messages ?? "[]")).toEqual(attached);
      const everything = JSON.stringify(stored);
      for (const text of secrets) expect(everything).not.toContain(text);
      // Someone outside the chat cannot report Ben from it: as if Ben did not exist.
      const outside = await eve.request("POST", "/v1/reports", {
        subject: "user",
        userId: ben.id,
        groupId,
        reason: "fraud",
      });
      const nobody = await eve.request("POST", "/v1/reports", {
        subject: "user",
        userId: "u_nobody",
        groupId,
        reason: "fraud",
      });
      expect(outside.status).toBe(404);
      expect(outside.body).toEqual(nobody.body);
      expect(outside.body.error.code).toBe("user_not_found");
    });

    it("refuses every moderator route to anyone but moderators and admins (not_moderator)", async () => {
      const olga = await person("Olga");
      const plain = await person("Plain");
      const mod = await moderator();
      const root = await person("Root");
      await grantRole(db(), root.id, "admin");
      await channel(olga); // Olga administers a channel: still no moderator.
      const routes = t.server.routes.filter(
        (r) =>
          r.url.startsWith("/v1/moderation") &&
          r.method !== "HEAD" &&
          !(r.method === "POST" && r.url === "/v1/moderation/appeals"),
      );
      // queue, case, case media, claim, notes, decision, appeals, appeal decision, audit
      expect(routes.length).toBeGreaterThanOrEqual(9);
      const concrete = (url: string) => url.replace(/:([A-Za-z]+)/g, "x_$1");
      for (const { method, url } of routes) {
        for (const p of [plain, olga]) {
          const r = await p.request(method, concrete(url), method === "GET" ? undefined : {});
          expect(r.status, `${method} ${url}`).toBe(403);
          expect(r.body.error.code, `${method} ${url}`).toBe("not_moderator");
        }
        for (const p of [mod, root]) {
          const r = await p.request(method, concrete(url), method === "GET" ? undefined : {});
          expect(r.body?.error?.code, `${method} ${url}`).not.toBe("not_moderator");
        }
      }
      expect((await mod.request("GET", "/v1/moderation/queue")).status).toBe(200);
      expect((await root.request("GET", "/v1/moderation/audit")).status).toBe(200);
    });

    it("orders the queue by risk, then oldest first", async () => {
      const olga = await person("Olga");
      const mod = await moderator();
      const c = await channel(olga);
      const older = await post(olga, c.id, texts.mentor); // 0.5
      const riskier = await post(olga, c.id, texts.code); // 0.75
      const newer = await post(olga, c.id, texts.mentor); // 0.5
      const r = await mod.request("GET", "/v1/moderation/queue?limit=100");
      const ours = (r.body.cases as ModerationCase[])
        .filter((x) => x.channelId === c.id)
        .map((x) => x.held?.id);
      expect(ours).toEqual([riskier.body.id, older.body.id, newer.body.id]);
      const risks = (r.body.cases as ModerationCase[]).map((x) => x.risk);
      expect(risks).toEqual([...risks].sort((a, b) => b - a));
    });

    it("lets one moderator at a time work a case", async () => {
      const olga = await person("Olga");
      const mod = await moderator("Moe");
      const other = await moderator("Max");
      const c = await channel(olga);
      const held = await post(olga, c.id, texts.mentor);
      const theCase = await caseOfHold(mod, held.body.id);
      const claim = await mod.request("POST", `/v1/moderation/cases/${theCase.id}/claim`);
      expect(claim.status).toBe(200);
      expect(claim.body.case).toMatchObject({ claimedBy: mod.id });
      expect(
        (await other.request("POST", `/v1/moderation/cases/${theCase.id}/claim`)).body.error.code,
      ).toBe("case_claimed");
      expect((await decide(other, theCase.id, { outcome: "none" })).body.error.code).toBe(
        "case_claimed",
      );
      // A claim older than 15 minutes lapses.
      await db()
        .updateTable("moderation_cases")
        .set({ claimed_at: Date.now() - 16 * 60_000 })
        .where("id", "=", theCase.id)
        .execute();
      expect((await other.request("POST", `/v1/moderation/cases/${theCase.id}/claim`)).status).toBe(
        200,
      );
      expect((await decide(other, theCase.id, { outcome: "none" })).status).toBe(200);
      expect(
        (await mod.request("POST", `/v1/moderation/cases/${theCase.id}/claim`)).body.error.code,
      ).toBe("case_closed");
      expect((await mod.request("GET", "/v1/moderation/cases/mc_nope")).body.error.code).toBe(
        "case_not_found",
      );
    });

    it("writes one audit entry per claim, note, decision, strike, suspension and appeal decision", async () => {
      const olga = await person("Olga");
      const mod = await moderator();
      const c = await channel(olga);
      const cases: string[] = [];
      for (let i = 0; i < 3; i++) {
        const held = await post(olga, c.id, texts.mentor);
        const theCase = await caseOfHold(mod, held.body.id);
        cases.push(theCase.id);
        expect((await mod.request("POST", `/v1/moderation/cases/${theCase.id}/claim`)).status).toBe(
          200,
        );
        expect(
          (
            await mod.request("POST", `/v1/moderation/cases/${theCase.id}/notes`, {
              text: "a pitch",
            })
          ).status,
        ).toBe(200);
        await decide(mod, theCase.id, { outcome: "violation", category: "fraud" });
      }
      // A refused action writes nothing.
      await decide(mod, cases[0] as string, { outcome: "none" });
      const appeal = await olga.request("POST", "/v1/moderation/appeals", {
        decisionId: cases[0],
        text: "please",
      });
      await mod.request("POST", `/v1/moderation/appeals/${appeal.body.appealId}/decision`, {
        outcome: "reinstated",
      });
      const entries: Array<{ action: string; caseId: string; actorUserId: string | null }> = [];
      let before: string | null = null;
      do {
        const page: { body: { entries: typeof entries; next: string | null } } = await mod.request(
          "GET",
          `/v1/moderation/audit?limit=20${before ? `&before=${before}` : ""}`,
        );
        entries.push(...page.body.entries);
        before = page.body.next;
      } while (before);
      const ours = entries.filter((e) => cases.includes(e.caseId));
      const count = (action: string) => ours.filter((e) => e.action === action).length;
      expect(count("case.claimed")).toBe(3);
      expect(count("case.noted")).toBe(3);
      expect(count("case.decided")).toBe(3);
      expect(count("hold.removed")).toBe(3);
      expect(count("strike.added")).toBe(3);
      expect(count("channel.suspended")).toBe(1);
      expect(count("appeal.opened")).toBe(1);
      expect(count("appeal.decided")).toBe(1);
      expect(count("strike.lifted")).toBe(1);
      expect(count("channel.reinstated")).toBe(1);
      // Newest first: the reinstatement came last.
      expect(ours[0]?.action).toBe("channel.reinstated");
      expect(ours.find((e) => e.action === "channel.suspended")?.actorUserId).toBeNull();
      expect(ours.find((e) => e.action === "appeal.opened")?.actorUserId).toBe(olga.id);
      // Ids only: no content in the log.
      expect(JSON.stringify(ours)).not.toContain("pitch");
      expect(JSON.stringify(ours)).not.toContain(texts.mentor);
    });

    it("limits chats with strangers, flagging the account once; flags an account three people report", async () => {
      const spammer = await person("Spammer");
      const friend = await person("Friend");
      const mod = await moderator();
      const targets = [
        await person("T1"),
        await person("T2"),
        await person("T3"),
        await person("T4"),
      ];
      for (const p of [...targets, friend]) {
        expect((await spammer.request("POST", "/v1/contacts", { phone: p.phone })).status).toBe(
          201,
        );
      }
      const chat = (p: Person) =>
        spammer.request("POST", "/v1/groups", { kind: "direct", peerUserId: p.id });
      for (const p of targets.slice(0, 3)) expect((await chat(p)).status).toBe(201);
      const over = await chat(targets[3] as Person);
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe("rate_limited");
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
      // Asking again for a chat that exists starts nothing new; a contact is no stranger.
      expect((await chat(targets[0] as Person)).status).toBe(200);
      await friend.request("POST", "/v1/contacts", { phone: spammer.phone });
      expect((await chat(friend)).status).toBe(201);
      expect((await chat(targets[3] as Person)).status).toBe(429);
      // One case for the account, however often it hits the limit.
      const queue = await mod.request("GET", "/v1/moderation/queue?limit=100");
      const flagged = (queue.body.cases as ModerationCase[]).filter(
        (c) => c.subject === "user" && c.userId === spammer.id,
      );
      expect(flagged).toHaveLength(1);
      expect(flagged[0]?.reasons).toContain("many chats with strangers");
      // Cleared by a moderator, the account may start chats again.
      await decide(mod, flagged[0]?.id as string, { outcome: "none" });

      // Three people in a group with Troll report him: the account is flagged, its limit cut.
      const troll = await person("Troll");
      const reporters = [await person("R1"), await person("R2"), await person("R3")];
      const { groupId } = await groupOf(reporters[0] as Person, [troll, ...reporters.slice(1)]);
      for (const [i, r] of reporters.entries()) {
        const sent = await r.request("POST", "/v1/reports", {
          subject: "user",
          userId: troll.id,
          groupId,
          reason: "hate",
        });
        expect(sent.status).toBe(202);
        const flag = await db()
          .selectFrom("account_flags")
          .selectAll()
          .where("user_id", "=", troll.id)
          .executeTakeFirst();
        expect(flag?.limited ?? 0, `after ${i + 1} reports`).toBe(i === 2 ? 1 : 0);
      }
      const trollCase = await caseWhere(mod, (c) => c.subject === "user" && c.userId === troll.id);
      expect(trollCase.reportCount).toBe(3);
      expect(trollCase.reasons).toContain("reported by 3 people within 7 days");
      // Its stranger-chat limit is cut to 1 a day until a moderator decides `none`.
      const strangers = [await person("S1"), await person("S2")];
      for (const p of strangers) await troll.request("POST", "/v1/contacts", { phone: p.phone });
      const trollChat = (p: Person) =>
        troll.request("POST", "/v1/groups", { kind: "direct", peerUserId: p.id });
      expect((await trollChat(strangers[0] as Person)).status).toBe(201);
      expect((await trollChat(strangers[1] as Person)).status).toBe(429);
      await decide(mod, trollCase.id, { outcome: "none" });
      expect((await trollChat(strangers[1] as Person)).status).toBe(201);
    });

    it("migrates 0011 to 0012: channels and posts stay as they were; moderation starts empty", async () => {
      const { database, migrator, close } = await migrationDatabase(backend);
      try {
        expect((await migrator.migrateTo("0011-channel-photo-suspension")).error).toBeUndefined();
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
            status: "suspended",
            suspension_reason: "Spam",
            suspended_at: 2,
          })
          .execute();
        await raw
          .insertInto("channel_posts")
          .values({
            channel_id: "h_old",
            seq: 1,
            client_id: "c_old",
            text: "before",
            created_at: 1,
          })
          .execute();
        const to0012 = await migrator.migrateTo("0012-moderation");
        expect(to0012.results?.map((r) => [r.migrationName, r.status])).toEqual([
          ["0012-moderation", "Success"],
        ]);
        expect(
          await database.db
            .selectFrom("channels")
            .selectAll()
            .where("id", "=", "h_old")
            .executeTakeFirstOrThrow(),
        ).toMatchObject({ status: "suspended", suspension_reason: "Spam", suspended_by: null });
        expect(await database.db.selectFrom("channel_posts").select("text").execute()).toEqual([
          { text: "before" },
        ]);
        for (const table of [
          "moderation_holds",
          "moderation_cases",
          "moderation_reports",
          "moderation_notes",
          "moderation_strikes",
          "moderation_appeals",
          "moderation_audit",
          "stranger_chats",
          "account_flags",
        ] as const) {
          expect(await database.db.selectFrom(table).selectAll().execute(), table).toEqual([]);
        }
        // One open case per subject.
        const row = {
          subject: "user" as const,
          subject_key: "user:u_x",
          open_key: "user:u_x",
          status: "open" as const,
          risk: 0,
          reasons: "[]",
          report_count: 0,
          opened_at: 1,
        };
        await database.db
          .insertInto("moderation_cases")
          .values({ id: "mc_1", ...row })
          .execute();
        const twice = await database.db
          .insertInto("moderation_cases")
          .values({ id: "mc_2", ...row })
          .execute()
          .catch((e: unknown) => e);
        expect(database.isUniqueViolation(twice)).toBe(true);
      } finally {
        await close();
      }
    });
  });
}
