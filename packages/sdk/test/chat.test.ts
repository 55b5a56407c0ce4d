import { loadSuite, restoreGroup } from "@veil/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromBase64UrlForTest, isVeilError } from "./helpers/bytes.js";
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

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK chats [${backend}]`, () => {
    let t: TestServer;
    const people: Person[] = [];
    const join = async (name: string) => {
      const p = await person(t, name);
      people.push(p);
      return p;
    };

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const p of people) await p.client.stop();
      await t?.close();
    });

    it("carries a 1:1 chat both ways, each message shown once, with delivery and read receipts", async () => {
      const alice = await join("Alice");
      const bob = await join("Bob");
      await introduce(alice, bob);
      const chat = await alice.client.startDirectChat(bob.userId);
      expect(chat).toMatchObject({ kind: "direct", peerUserId: bob.userId, joined: true });
      await bob.client.waitForChat(chat.groupId);

      const sent = await alice.client.sendText(chat.groupId, "hello Bob");
      expect(sent.status).toBe("sent");
      await eventually(() => expect(bob.seen.texts()).toEqual(["hello Bob"]));
      const got = bob.seen.messages[0];
      expect(got).toMatchObject({
        groupId: chat.groupId,
        id: sent.id,
        seq: sent.seq,
        senderUserId: alice.userId,
        fromMe: false,
      });
      // Bob's device acknowledged it automatically; Alice sees "delivered".
      await eventually(() =>
        expect(alice.seen.receipts).toContainEqual(
          expect.objectContaining({ status: "delivered", messageIds: [sent.id], fromMe: false }),
        ),
      );
      await bob.client.markRead(chat.groupId, [sent.id]);
      await eventually(() =>
        expect(alice.seen.receipts.map((r) => r.status)).toEqual(["delivered", "read"]),
      );

      const reply = await bob.client.sendText(chat.groupId, "hi Alice", { replyTo: sent.id });
      await eventually(() => expect(alice.seen.texts()).toEqual(["hi Alice"]));
      expect(alice.seen.messages[0]?.content).toEqual({
        type: "text",
        text: "hi Alice",
        replyTo: sent.id,
      });
      await bob.client.react(chat.groupId, sent.id, "👍");
      await eventually(() =>
        expect(alice.seen.messages.at(-1)?.content).toEqual({
          type: "reaction",
          target: sent.id,
          emoji: "👍",
        }),
      );
      // Each side's history holds both directions, in log order.
      const history = (await alice.client.messages(chat.groupId)).map((m) => [
        m.fromMe,
        m.content.type,
      ]);
      expect(history).toEqual([
        [true, "text"],
        [false, "text"],
        [false, "reaction"],
      ]);
      expect(reply.seq).toBeGreaterThan(sent.seq as number);
      // Asking again returns the same chat.
      expect((await bob.client.startDirectChat(alice.userId)).groupId).toBe(chat.groupId);
      expect(alice.seen.errors).toEqual([]);
      expect(bob.seen.errors).toEqual([]);
      expect(bob.seen.messages).toHaveLength(1);
    });

    it("runs a group of five: add, remove, and the removed member reads nothing after", async () => {
      const [ann, ben, cat, dan, eve] = (await Promise.all(
        ["Ann", "Ben", "Cat", "Dan", "Eve"].map((n) => join(n)),
      )) as [Person, Person, Person, Person, Person];
      for (const other of [ben, cat, dan, eve]) await introduce(ann, other);
      const group = await ann.client.createGroup([ben.userId, cat.userId, dan.userId]);
      const gid = group.groupId;
      for (const p of [ben, cat, dan]) await p.client.waitForChat(gid);
      await ann.client.addMembers(gid, [eve.userId]);
      await eve.client.waitForChat(gid);
      await eventually(() =>
        expect(ben.seen.membership).toContainEqual(
          expect.objectContaining({
            groupId: gid,
            change: "members-added",
            members: [{ userId: eve.userId, deviceId: eve.client.deviceId }],
          }),
        ),
      );

      await ann.client.sendText(gid, "welcome all");
      await ben.client.sendText(gid, "hi from Ben");
      for (const p of [ben, cat, dan, eve]) {
        await eventually(() => expect(p.seen.texts(gid)).toContain("welcome all"));
      }
      for (const p of [ann, cat, dan, eve]) {
        await eventually(() => expect(p.seen.texts(gid)).toContain("hi from Ben"));
      }

      // Only an admin removes others (Ann made the group): Dan may not; Ann removes every device of Eve.
      await expect(dan.client.removeMembers(gid, [eve.userId])).rejects.toSatisfy((e) =>
        isVeilError(e, "not_group_admin"),
      );
      await ann.client.removeMembers(gid, [eve.userId]);
      await eventually(() =>
        expect(ann.seen.membership).toContainEqual(
          expect.objectContaining({ groupId: gid, change: "members-removed" }),
        ),
      );
      await ann.client.sendText(gid, "eve is gone");
      for (const p of [ben, cat, dan]) {
        await eventually(() => expect(p.seen.texts(gid)).toContain("eve is gone"));
      }
      // Eve learns she left on her next catch-up, and reads nothing after.
      await eve.client.sync();
      expect(eve.seen.membership).toContainEqual(
        expect.objectContaining({ groupId: gid, change: "left" }),
      );
      expect(eve.seen.texts(gid).sort()).toEqual(["hi from Ben", "welcome all"]);
      await expect(eve.client.sendText(gid, "still here?")).rejects.toSatisfy((e) =>
        isVeilError(e, "group_left"),
      );
      // Even with the ciphertext in hand, her stored MLS state cannot open it.
      const page = await ann.client.api.log(gid, 0);
      const last = page.entries.at(-1);
      const state = await eve.store.get("mls", gid);
      if (!last || !(state instanceof Uint8Array)) throw new Error("missing state or entry");
      const old = restoreGroup(await loadSuite(), state);
      await expect(old.process(fromBase64UrlForTest(last.data))).rejects.toThrow();
      for (const p of [ann, ben, cat, dan, eve]) expect(p.seen.errors).toEqual([]);
    });

    it("shows typing live and never stores it", async () => {
      const ann = await join("Ann");
      const ben = await join("Ben");
      await introduce(ann, ben);
      const { groupId } = await ann.client.startDirectChat(ben.userId);
      await ben.client.waitForChat(groupId);
      const before = (await ann.client.api.group(groupId)).lastSeq;
      await ann.client.setTyping(groupId, true);
      await eventually(() =>
        expect(ben.seen.typing).toEqual([
          { groupId, userId: ann.userId, deviceId: ann.client.deviceId, typing: true },
        ]),
      );
      await ann.client.setTyping(groupId, false);
      await eventually(() => expect(ben.seen.typing.map((e) => e.typing)).toEqual([true, false]));
      expect((await ann.client.api.group(groupId)).lastSeq).toBe(before);
      // The signals used message keys; later messages still decrypt on both sides.
      await ann.client.sendText(groupId, "after typing");
      await eventually(() => expect(ben.seen.texts()).toEqual(["after typing"]));
    });

    it("sends an attachment encrypted with a fresh key, checked by hash before decrypting", async () => {
      const ann = await join("Ann");
      const ben = await join("Ben");
      const cat = await join("Cat");
      await introduce(ann, ben);
      const { groupId } = await ann.client.startDirectChat(ben.userId);
      await ben.client.waitForChat(groupId);
      const file = crypto.getRandomValues(new Uint8Array(48_000));
      const sent = await ann.client.sendAttachment(groupId, file, {
        name: "photo.bin",
        mime: "application/octet-stream",
        caption: "look",
      });
      const got = await eventually(() => {
        const m = ben.seen.messages.find((x) => x.id === sent.id);
        if (m?.content.type !== "attachment") throw new Error("not yet");
        return m.content;
      });
      expect(got.caption).toBe("look");
      expect(got.attachment).toEqual(sent.attachment);
      expect(await ben.client.downloadAttachment(got.attachment)).toEqual(file);
      // The server only ever had ciphertext: the blob is not the file.
      const raw = await ben.client.api.downloadBlob(got.attachment.blobId);
      expect(raw.length).toBe(file.length + 16);
      // A reference whose hash does not match is refused before decryption.
      const forged = { ...got.attachment, sha256: sent.attachment.key };
      await expect(ben.client.downloadAttachment(forged)).rejects.toSatisfy((e) =>
        isVeilError(e, "attachment_integrity"),
      );
      // Someone outside the chat gets what a missing blob gets.
      await expect(cat.client.downloadAttachment(got.attachment)).rejects.toSatisfy((e) =>
        isVeilError(e, "blob_not_found"),
      );
    });
  });
}
