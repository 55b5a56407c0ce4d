import {
  createSenderKey,
  decryptWithSenderKey,
  distributionOf,
  encryptWithSenderKey,
  MlsError,
  restoreSenderKey,
} from "@veil/crypto";
import { parseSenderKeyMessage } from "@veil/protocol";
import { MemoryStore, VeilClient } from "@veil/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromBase64UrlForTest, isVeilError } from "./helpers/bytes.js";
import {
  backends,
  clientOptions,
  eventually,
  noRateLimits,
  type Person,
  person,
  Recorder,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The key channels a device holds (never shown as chats): group ids, from its store. */
async function keyChannels(p: Person): Promise<string[]> {
  const groups = await p.store.list("groups");
  return groups.flatMap((g) =>
    typeof g.value === "object" && g.value !== null && "kind" in g.value && g.value.kind === "keys"
      ? [g.key]
      : [],
  );
}

/** The key channels a device holds with one peer. */
async function keyChannelsWith(p: Person, peerUserId: string): Promise<string[]> {
  const groups = await p.store.list("groups");
  return groups.flatMap((g) => {
    const meta = g.value as { kind?: string; peerUserId?: string | null };
    return meta.kind === "keys" && meta.peerUserId === peerUserId ? [g.key] : [];
  });
}

/** A received sender key's state, as the store holds it. */
function stateOf(record: unknown) {
  const encoded = (record as { state?: string } | undefined)?.state;
  if (!encoded) throw new Error("no sender key record");
  return restoreSenderKey(fromBase64UrlForTest(encoded));
}

/** The sender keys a device received: `<groupId>/<deviceId>/<keyId hex>`. */
async function heldKeys(p: Person): Promise<string[]> {
  return (await p.store.list("sender-keys")).map((e) => e.key);
}

/**
 * Appends a post to an announcement group's log as if the server had let it
 * through: straight into the database, then announced on the bus like any
 * new entry, so connected devices get it live.
 */
async function appendUnchecked(
  t: TestServer,
  groupId: string,
  from: Person,
  id: string,
  message: Uint8Array,
): Promise<number> {
  const { database, bus } = t.server.context;
  const seq = await database.transaction(async (tx) => {
    const group = await tx.db
      .updateTable("groups")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1) }))
      .where("id", "=", groupId)
      .returning(["last_seq", "epoch"])
      .executeTakeFirstOrThrow();
    await tx.db
      .insertInto("group_log")
      .values({
        group_id: groupId,
        seq: group.last_seq,
        kind: "application",
        epoch: group.epoch,
        sender_device_id: from.client.deviceId as string,
        sender_user_id: from.userId,
        client_id: id,
        data: Buffer.from(message),
        withheld_from: null,
        created_at: Date.now(),
      })
      .execute();
    return group.last_seq;
  });
  await bus.publish({ type: "group.appended", groupId, seq });
  return seq;
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK announcements [${backend}]`, () => {
    let t: TestServer;
    const people: Person[] = [];
    const join = async (name: string, options: Parameters<typeof person>[2] = {}) => {
      const p = await person(t, name, {
        ...options,
        client: { reactionCountsDelayMs: 300, ...options.client },
      });
      people.push(p);
      return p;
    };
    /** A community of `owner` with these members, all in by one invite link. */
    const community = async (owner: Person, members: Person[]) => {
      const c = await owner.client.createCommunity({ name: "Riverside" });
      const { code } = await owner.client.createInvite(c.id);
      for (const m of members) expect((await m.client.joinByInvite(code)).status).toBe("joined");
      return { ...c, code };
    };

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const p of people) await p.client.stop();
      await t?.close();
    });

    it("brings an admin's announcement to every member, decrypted; a member may not post", async () => {
      const [olga, ana, ben, cid] = await Promise.all(
        ["Olga", "Ana", "Ben", "Cid"].map((n) => join(n)),
      );
      if (!olga || !ana || !ben || !cid) throw new Error("people");
      const c = await community(olga, [ana, ben, cid]);
      const gid = c.announcementGroupId;
      for (const m of [ana, ben, cid]) {
        expect(m.seen.community).toContainEqual({
          communityId: c.id,
          announcementGroupId: gid,
          change: "joined",
        });
      }

      const sent = await olga.client.announce(c.id, "Street party on Saturday");
      expect(sent).toMatchObject({ groupId: gid, status: "sent" });
      for (const m of [ana, ben, cid]) {
        await eventually(() => expect(m.seen.texts(gid)).toEqual(["Street party on Saturday"]));
        expect(m.seen.messages[0]).toMatchObject({
          groupId: gid,
          id: sent.id,
          seq: sent.seq,
          senderUserId: olga.userId,
          senderDeviceId: olga.client.deviceId,
          fromMe: false,
        });
        expect((await m.client.messages(gid)).map((x) => x.id)).toEqual([sent.id]);
      }
      expect((await olga.client.messages(gid)).map((x) => [x.fromMe, x.id])).toEqual([
        [true, sent.id],
      ]);
      // The server holds ciphertext only.
      const log = await olga.client.api.log(gid, 0);
      expect(log.entries).toHaveLength(1);
      expect(Buffer.from(log.entries[0]?.data ?? "", "base64url").toString()).not.toContain(
        "Street party",
      );

      // A member is refused, by the SDK and by the server (a well-formed sender-key post).
      await expect(ana.client.announce(c.id, "me too")).rejects.toSatisfy((e) =>
        isVeilError(e, "not_community_admin"),
      );
      const forged = await encryptWithSenderKey(
        await createSenderKey(gid),
        new TextEncoder().encode('{"v":1,"type":"text","id":"m_forged0001","ts":1,"text":"x"}'),
      );
      await expect(
        ana.client.api.sendMessage(gid, {
          id: "m_forged0001",
          message: Buffer.from(forged.message).toString("base64url"),
        }),
      ).rejects.toSatisfy((e) => isVeilError(e, "not_community_admin"));
      expect((await olga.client.api.log(gid, 0)).entries).toHaveLength(1);

      // Key channels exist but are never chats; the announcement group is listed as one.
      for (const p of [olga, ana]) {
        expect((await p.client.chats()).map((x) => [x.groupId, x.kind])).toEqual([
          [gid, "announcement"],
        ]);
      }
      expect(await keyChannels(olga)).toHaveLength(3);
      // No receipts, no typing in an announcement group: they would name the member.
      expect(await ana.client.markRead(gid, [sent.id])).toEqual([]);
      await ana.client.setTyping(gid, true);
      const [channel] = await keyChannels(ana);
      const channelLog = await ana.client.api.log(channel as string, 0);
      expect(channelLog.entries.map((e) => e.senderDeviceId)).toEqual(
        channelLog.entries.map(() => olga.client.deviceId),
      );
      expect((await olga.client.api.log(gid, 0)).entries).toHaveLength(1);
      for (const p of [olga, ana, ben, cid]) expect(p.seen.errors).toEqual([]);
      expect(olga.seen.receipts).toEqual([]);
    });

    it("shows a member who joins later the posts after joining, not before", async () => {
      const olga = await join("Olga");
      const ana = await join("Ana");
      const c = await community(olga, [ana]);
      const gid = c.announcementGroupId;
      await olga.client.announce(c.id, "before Eve");
      await eventually(() => expect(ana.seen.texts(gid)).toEqual(["before Eve"]));
      const eve = await join("Eve");
      expect((await eve.client.joinByInvite(c.code)).status).toBe("joined");
      await olga.client.announce(c.id, "after Eve");
      await eventually(() => expect(eve.seen.texts(gid)).toEqual(["after Eve"]));
      await eventually(() => expect(ana.seen.texts(gid)).toEqual(["before Eve", "after Eve"]));
      // The server does not serve her the earlier post, and her key starts after it.
      expect((await eve.client.api.log(gid, 0)).entries).toHaveLength(1);
      const [held] = await eve.store.list("sender-keys");
      const state = stateOf(held?.value);
      expect(state.iteration).toBeGreaterThanOrEqual(1);
      expect((await eve.client.messages(gid)).map((m) => m.content)).toEqual([
        { type: "text", text: "after Eve", replyTo: null },
      ]);
      expect(eve.seen.errors).toEqual([]);
    });

    it("rotates the key when a member leaves: the removed device gets no usable key", async () => {
      const [olga, ana, ben, dee] = await Promise.all(
        ["Olga", "Ana", "Ben", "Dee"].map((n) => join(n)),
      );
      if (!olga || !ana || !ben || !dee) throw new Error("people");
      const c = await community(olga, [ana, ben, dee]);
      const gid = c.announcementGroupId;
      await olga.client.announce(c.id, "one");
      for (const m of [ana, ben, dee])
        await eventually(() => expect(m.seen.texts(gid)).toEqual(["one"]));
      const firstKey = (await olga.store.get("key-distribution", gid)) as { keyId: string };

      await olga.client.removeCommunityMember(c.id, dee.userId);
      await eventually(() =>
        expect(dee.seen.community).toContainEqual(
          expect.objectContaining({ announcementGroupId: gid, change: "left" }),
        ),
      );
      const sent = await olga.client.announce(c.id, "two: Dee is gone");
      const secondKey = (await olga.store.get("key-distribution", gid)) as { keyId: string };
      expect(secondKey.keyId).not.toBe(firstKey.keyId);
      for (const m of [ana, ben]) {
        await eventually(() => expect(m.seen.texts(gid)).toEqual(["one", "two: Dee is gone"]));
      }
      // Dee's device holds the first key only; with the ciphertext in hand it opens nothing.
      await dee.client.sync();
      const held = await heldKeys(dee);
      expect(held).toEqual([`${gid}/${olga.client.deviceId}/${firstKey.keyId}`]);
      const post = (await olga.client.api.log(gid, 0)).entries.find((e) => e.seq === sent.seq);
      const bytes = fromBase64UrlForTest(post?.data ?? "");
      expect(hex(parseSenderKeyMessage(bytes)?.keyId ?? new Uint8Array())).toBe(secondKey.keyId);
      const deeState = stateOf(await dee.store.get("sender-keys", held[0] as string));
      await expect(decryptWithSenderKey(deeState, bytes)).rejects.toSatisfy(
        (e) => e instanceof MlsError && e.code === "sender_key_unknown",
      );
      expect(dee.seen.texts(gid)).toEqual(["one"]);
      await expect(dee.client.api.log(gid, 0)).rejects.toSatisfy((e) =>
        isVeilError(e, "group_not_found"),
      );
      // Nothing changed: the next post keeps the key.
      await olga.client.announce(c.id, "three");
      expect(((await olga.store.get("key-distribution", gid)) as { keyId: string }).keyId).toBe(
        secondKey.keyId,
      );
      for (const p of [olga, ana, ben, dee]) expect(p.seen.errors).toEqual([]);
    });

    it("decrypts a second admin's posts too; a dismissed admin's keys and later posts are refused", async () => {
      // Every post is judged against an admin list read after it was stored (no grace period:
      // the default trusts a list for a minute, which the next test measures).
      const strict = { client: { adminListMaxAgeMs: 0 } };
      const [olga, ben, cid] = await Promise.all(
        ["Olga", "Ben", "Cid"].map((n) => join(n, strict)),
      );
      if (!olga || !ben || !cid) throw new Error("people");
      const c = await community(olga, [ben, cid]);
      const gid = c.announcementGroupId;
      const benDevice = ben.client.deviceId as string;
      await olga.client.setCommunityAdmin(c.id, ben.userId, true);
      await olga.client.announce(c.id, "from Olga");
      const fromBen = await ben.client.announce(c.id, "from Ben");
      await eventually(() => expect(cid.seen.texts(gid)).toEqual(["from Olga", "from Ben"]));
      await eventually(() => expect(olga.seen.texts(gid)).toEqual(["from Ben"]));
      expect(cid.seen.messages.find((m) => m.id === fromBen.id)?.senderUserId).toBe(ben.userId);
      // Cid holds one key per admin device.
      expect((await heldKeys(cid)).map((k) => k.split("/")[1]).sort()).toEqual(
        [olga.client.deviceId, benDevice].sort(),
      );

      // Ben posts once more while an admin. Olga reads it at once; Cid is offline and reads
      // only after the dismissal: by then it is not shown (docs/communities.md says why).
      await cid.client.stop();
      const unread = await ben.client.announce(c.id, "before my dismissal");
      await eventually(() =>
        expect(olga.seen.texts(gid)).toEqual(["from Ben", "before my dismissal"]),
      );
      await olga.client.setCommunityAdmin(c.id, ben.userId, false);

      // A server that lets his next post through: made with the sender key his device still
      // holds, and put straight into the log, past the server's own check.
      const own = await ben.store.get("own-sender-keys", gid);
      if (!(own instanceof Uint8Array)) throw new Error("Ben's device holds no sender key");
      const benKey = restoreSenderKey(own);
      if (benKey.kind !== "own") throw new Error("not an own key");
      const rogueId = "m_rogue00000001";
      const rogue = await encryptWithSenderKey(
        benKey,
        new TextEncoder().encode(
          JSON.stringify({ v: 1, type: "text", id: rogueId, ts: Date.now(), text: "rogue" }),
        ),
      );
      // The SDK and the server both refuse him; so do the members' devices when the log has it.
      await expect(ben.client.announce(c.id, "still me")).rejects.toSatisfy((e) =>
        isVeilError(e, "not_community_admin"),
      );
      await expect(
        ben.client.api.sendMessage(gid, {
          id: rogueId,
          message: Buffer.from(rogue.message).toString("base64url"),
        }),
      ).rejects.toSatisfy((e) => isVeilError(e, "not_community_admin"));
      // His own device let go of its key when it saw it was no longer an admin.
      expect(await ben.store.get("own-sender-keys", gid)).toBeUndefined();
      // Olga's device has not heard of the dismissal yet: it still holds Ben's key.
      expect((await heldKeys(olga)).filter((k) => k.includes(benDevice))).toHaveLength(1);
      const rogueSeq = await appendUnchecked(t, gid, ben, rogueId, rogue.message);

      // Olga is connected with an admin list from before the dismissal: her device asks
      // again before judging a post newer than its list, and refuses it.
      const refusals = (p: Person) =>
        p.seen.errors.map((e) => [e.error.code, e.groupId, e.seq] as const);
      await eventually(() =>
        expect(refusals(olga)).toEqual([["not_community_admin", gid, rogueSeq]]),
      );
      // Cid comes back: both of Ben's unread posts are refused, neither is shown.
      await cid.client.start();
      await eventually(() =>
        expect(refusals(cid)).toEqual([
          ["not_community_admin", gid, unread.seq],
          ["not_community_admin", gid, rogueSeq],
        ]),
      );
      for (const p of [olga, cid]) {
        expect(p.seen.texts(gid)).not.toContain("rogue");
        expect((await p.client.messages(gid)).map((m) => m.id)).not.toContain(rogueId);
        // A dismissed admin's keys are dropped; nothing waits for one.
        expect((await heldKeys(p)).filter((k) => k.includes(benDevice))).toEqual([]);
        expect(await p.store.list("pending-posts")).toEqual([]);
      }
      expect(cid.seen.texts(gid)).toEqual(["from Olga", "from Ben"]);
      expect(olga.seen.texts(gid)).toEqual(["from Ben", "before my dismissal"]);

      // Nor does Cid's device take a new key from him: only admins hand out keys.
      const forged = await createSenderKey(gid);
      const channel = (await keyChannelsWith(cid, ben.userId))[0] as string;
      const internals = ben.client as unknown as {
        session: {
          messaging: {
            send(groupId: string, body: (id: string, ts: number) => object): Promise<unknown>;
          };
        };
      };
      await internals.session.messaging.send(channel, (id, ts) => ({
        v: 1,
        type: "sender_key",
        id,
        ts,
        announcementGroupId: gid,
        distribution: Buffer.from(distributionOf(forged)).toString("base64url"),
      }));
      await eventually(async () =>
        expect((await cid.client.api.log(channel, 0)).lastSeq).toBeGreaterThan(0),
      );
      await cid.client.sync();
      expect((await heldKeys(cid)).filter((k) => k.includes(benDevice))).toEqual([]);
      // Olga's posts still reach Cid, with the key he held all along.
      await olga.client.announce(c.id, "business as usual");
      await eventually(() =>
        expect(cid.seen.texts(gid)).toEqual(["from Olga", "from Ben", "business as usual"]),
      );
      expect(ben.seen.errors).toEqual([]);
      expect(cid.seen.errors).toHaveLength(2);
    });

    it("costs a member's device no request per post while its admin list is fresh", async () => {
      // One post to 5000 members must not become 5000 requests for the admin list.
      let asked = 0;
      const counting: typeof fetch = (input, init) => {
        const path = new URL(String(input)).pathname;
        if ((init?.method ?? "GET") === "GET" && /^\/v1\/groups\/[^/]+$/.test(path)) asked++;
        return fetch(input, init);
      };
      const olga = await join("Olga");
      const ana = await join("Ana", { client: { fetch: counting } });
      const c = await community(olga, [ana]);
      const gid = c.announcementGroupId;
      await olga.client.announce(c.id, "one");
      await eventually(() => expect(ana.seen.texts(gid)).toEqual(["one"]));
      const before = asked;
      for (const text of ["two", "three", "four", "five"]) await olga.client.announce(c.id, text);
      await eventually(() =>
        expect(ana.seen.texts(gid)).toEqual(["one", "two", "three", "four", "five"]),
      );
      expect(asked - before).toBeLessThanOrEqual(1);
      expect(ana.seen.errors).toEqual([]);
    });

    it("counts reactions: members see counts only, the admins see who", async () => {
      const [olga, ana, ben, cid] = await Promise.all(
        ["Olga", "Ana", "Ben", "Cid"].map((n) => join(n)),
      );
      if (!olga || !ana || !ben || !cid) throw new Error("people");
      const c = await community(olga, [ana, ben, cid]);
      const gid = c.announcementGroupId;
      const post = await olga.client.announce(c.id, "Vote with an emoji");
      for (const m of [ana, ben, cid]) {
        await eventually(() => expect(m.seen.texts(gid)).toEqual(["Vote with an emoji"]));
      }
      // A burst: three reactions and a change of mind, published as one count.
      await Promise.all([
        ana.client.react(gid, post.id, "👍"),
        ben.client.react(gid, post.id, "👍"),
        cid.client.react(gid, post.id, "🎉"),
      ]);
      await cid.client.react(gid, post.id, "❤️");
      const expected = { "👍": 2, "❤️": 1 };
      for (const m of [ana, ben, cid]) {
        await eventually(() => expect(m.seen.reactions.at(-1)?.counts).toEqual(expected));
        expect(await m.client.reactionCounts(gid, post.id)).toEqual(expected);
        // Members never learn who reacted.
        await expect(m.client.announcementReactions(gid, post.id)).rejects.toSatisfy((e) =>
          isVeilError(e, "not_community_admin"),
        );
        expect(m.seen.messages.filter((x) => x.content.type === "reaction")).toEqual([]);
      }
      // The admin sees who, and may read their names (R6).
      const who = await olga.client.announcementReactions(gid, post.id);
      expect(who.map((r) => [r.userId, r.name, r.emoji]).sort()).toEqual(
        [
          [ana.userId, "Ana", "👍"],
          [ben.userId, "Ben", "👍"],
          [cid.userId, "Cid", "❤️"],
        ].sort(),
      );
      expect(await olga.client.reactionCounts(gid, post.id)).toEqual(expected);
      // The published counts name no one: one small announcement per settled burst.
      const log = (await olga.client.api.log(gid, 0)).entries;
      expect(log.length).toBeLessThanOrEqual(3);
      for (const p of [olga, ana, ben, cid]) expect(p.seen.errors).toEqual([]);
    });

    it("keeps a post whose key has not arrived, and reads it once the key comes, after a restart", async () => {
      const olga = await join("Olga");
      let blockMailbox = false;
      const store = new MemoryStore();
      const ana = await join("Ana", {
        store,
        client: {
          fetch: (input, init) =>
            blockMailbox && String(input).includes("/v1/mailbox")
              ? Promise.reject(new TypeError("blocked by the test"))
              : fetch(input, init),
        },
      });
      const c = await community(olga, [ana]);
      const gid = c.announcementGroupId;
      // Ana's device is connected but cannot read its mailbox: the key channel's welcome waits.
      blockMailbox = true;
      const sent = await olga.client.announce(c.id, "the key comes later");
      await eventually(async () =>
        expect(await store.list("pending-posts")).toEqual([
          expect.objectContaining({ key: expect.stringContaining(`${gid}/`) }),
        ]),
      );
      expect(ana.seen.texts(gid)).toEqual([]);
      await ana.client.stop();

      const again = await VeilClient.open(clientOptions(t, store));
      const seen = new Recorder(again);
      people.push({ ...ana, client: again, seen });
      await again.start();
      await eventually(() => expect(seen.texts(gid)).toEqual(["the key comes later"]));
      expect(seen.messages[0]?.id).toBe(sent.id);
      expect(await store.list("pending-posts")).toEqual([]);
      expect(seen.errors).toEqual([]);
    });

    it("reaches a member's new device and an admin's own other device; posts files too", async () => {
      const olga = await join("Olga");
      const ana = await join("Ana");
      const c = await community(olga, [ana]);
      const gid = c.announcementGroupId;
      await olga.client.announce(c.id, "hello");
      await eventually(() => expect(ana.seen.texts(gid)).toEqual(["hello"]));

      /** A second device of `owner`, linked and connected. */
      const link = async (owner: Person) => {
        const device = await VeilClient.open(clientOptions(t, new MemoryStore()));
        const seen = new Recorder(device);
        people.push({ ...owner, client: device, seen });
        const linked = owner.client.waitFor("device-linked", () => true, 20_000);
        const { offer, approved } = await device.linkDevice();
        await owner.client.approveDevice(offer.uri);
        await approved;
        await device.start();
        await linked;
        return { device, seen };
      };
      const laptop = await link(ana);
      const tablet = await link(olga);
      await eventually(() =>
        expect(tablet.seen.community).toContainEqual(
          expect.objectContaining({ announcementGroupId: gid, change: "joined" }),
        ),
      );

      const fromPhone = await olga.client.announce(c.id, "from Olga's phone");
      await eventually(() => expect(laptop.seen.texts(gid)).toEqual(["from Olga's phone"]));
      await eventually(() => expect(tablet.seen.texts(gid)).toEqual(["from Olga's phone"]));
      expect(tablet.seen.messages[0]).toMatchObject({ id: fromPhone.id, fromMe: true });

      const file = crypto.getRandomValues(new Uint8Array(10_000));
      const fromTablet = await tablet.device.sendAttachment(gid, file, {
        name: "map.bin",
        caption: "the route",
      });
      for (const r of [ana.seen, laptop.seen, olga.seen]) {
        await eventually(() => expect(r.messages.map((m) => m.id)).toContain(fromTablet.id));
      }
      const got = laptop.seen.messages.find((m) => m.id === fromTablet.id);
      if (got?.content.type !== "attachment") throw new Error("not an attachment");
      expect(got.content.caption).toBe("the route");
      expect(await laptop.device.downloadAttachment(got.content.attachment)).toEqual(file);
      expect(ana.seen.texts(gid)).toEqual(["hello", "from Olga's phone"]);
      for (const r of [ana.seen, laptop.seen, olga.seen, tablet.seen]) expect(r.errors).toEqual([]);
    });

    it("hands a key to many members in few requests: 50 users per claim, channels reused", async () => {
      const members = 120;
      const counts = new Map<string, number>();
      const count = (method: string, url: string) => {
        const path = new URL(url).pathname
          .replace(/\/v1\/groups\/[^/]+/, "/v1/groups/:id")
          .replace(/\/v1\/communities\/[^/]+/, "/v1/communities/:id");
        const key = `${method} ${path}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      };
      const olga = await join("Olga", {
        client: {
          fetch: (input, init) => {
            count(init?.method ?? "GET", String(input));
            return fetch(input, init);
          },
        },
      });
      const c = await olga.client.createCommunity({ name: "Big" });
      const { code } = await olga.client.createInvite(c.id);
      // Real devices with key packages on the server; they need not be connected.
      const raw = await Promise.all(
        Array.from({ length: members }, async (_, i) => {
          const m = await person(t, `Member ${i}`, {
            start: false,
            client: { keyPackageTarget: 2 },
          });
          expect((await m.client.joinByInvite(code)).status).toBe("joined");
          return { id: m.userId, deviceId: m.client.deviceId as string };
        }),
      );
      const gid = c.announcementGroupId;
      /** The requests one announcement takes, by route. */
      const measure = async (text: string) => {
        counts.clear();
        await olga.client.announce(c.id, text);
        return { requests: Object.fromEntries(counts) };
      };

      const first = await measure("to everyone");
      expect(first.requests).toMatchObject({
        "POST /v1/groups": members,
        "POST /v1/key-packages/claim": Math.ceil(members / 50),
        "POST /v1/groups/:id/commits": members,
        "POST /v1/groups/:id/messages": members + 1,
      });
      expect(first.requests["GET /v1/groups/:id/log"] ?? 0).toBe(0);
      const distribution = (await olga.store.get("key-distribution", gid)) as {
        delivered: string[];
      };
      expect(new Set(distribution.delivered)).toEqual(new Set(raw.map((u) => u.deviceId)));

      const second = await measure("nothing changed");
      expect(second.requests).toEqual({
        "GET /v1/groups/:id": 1,
        "POST /v1/groups/:id/messages": 1,
      });

      await olga.client.removeCommunityMember(c.id, raw[0]?.id as string);
      const rotated = await measure("one left");
      expect(rotated.requests).toMatchObject({ "POST /v1/groups/:id/messages": members });
      expect(rotated.requests["POST /v1/groups"] ?? 0).toBe(0);
      expect(rotated.requests["POST /v1/key-packages/claim"] ?? 0).toBe(0);
      expect(olga.seen.errors).toEqual([]);
    }, 120_000);
  });
}
