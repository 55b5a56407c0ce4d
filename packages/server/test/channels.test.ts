import { randomBytes } from "node:crypto";
import { errorRegistry } from "@veil/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../src/accounts/platform-roles.js";
import { backends } from "./helpers/backends.js";
import { TestUser } from "./helpers/client.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 7000;
const nextPhone = () => `+1415557${phoneCounter++}`;
const dayMs = 24 * 3600 * 1000;
const postId = () => `p_${randomBytes(6).toString("hex")}`;

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`channels [${backend}]`, () => {
    let t: TestServer;
    let handles = 0;

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
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
      // Only admins post.
      expect((await post(finn, c.id)).body.error.code).toBe("not_channel_admin");
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
        // The reaction setting.
        await olga.request("PATCH", `/v1/channels/${c.id}`, { reactionPolicy: "default" });
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "🦄" })).body
            .error.code,
        ).toBe("reaction_not_allowed");
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "❤️" }))
            .status,
        ).toBe(200);
        await olga.request("PATCH", `/v1/channels/${c.id}`, { reactionPolicy: "none" });
        expect(
          (await finn.request("PUT", `/v1/channels/${c.id}/posts/1/reaction`, { emoji: "👍" })).body
            .error.code,
        ).toBe("reaction_not_allowed");
      } finally {
        socket?.close();
      }
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
      expect(
        (await olga.request("PATCH", `/v1/channels/${c.id}/posts/1`, { text: "x" })).body.error
          .code,
      ).toBe("edit_window_closed");
      const page = await olga.request("GET", `/v1/channels/${c.id}/posts`);
      expect(page.body.posts.map((p: { text: string }) => p.text)).toEqual(["new"]);
      await t.server.prune();
      const left = await db
        .selectFrom("channel_posts")
        .select("seq")
        .where("channel_id", "=", c.id)
        .execute();
      expect(left.map((r) => Number(r.seq))).toEqual([2]);
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
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: alan.id })).status,
      ).toBe(204);
      expect((await alan.request("PUT", `/v1/channels/${c.id}/admins/me`)).body.role).toBe("admin");
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
      // Sixteen admins at most, invitations included.
      const more = [];
      for (let i = 0; i < 14; i++) more.push(await person(`Extra ${i}`));
      for (const p of more) {
        await olga.request("POST", "/v1/contacts", { phone: p.phone });
        expect(
          (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: p.id })).status,
        ).toBe(204);
      }
      expect(
        (await olga.request("POST", `/v1/channels/${c.id}/admins`, { userId: bea.id })).body.error
          .code,
      ).toBe("channel_admin_limit");
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
      expect(
        (await finn.request("GET", "/v1/me/channels")).body.channels.map(
          (c: { id: string }) => c.id,
        ),
      ).toEqual([b.id]);
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
      ];
      for (const [method, path, body] of bad) {
        const r = await olga.request(method, path, body);
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        expect(Object.keys(errorRegistry)).toContain(r.body.error.code);
      }
    });
  });
}
