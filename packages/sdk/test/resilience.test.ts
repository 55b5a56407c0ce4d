import "fake-indexeddb/auto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileStore, IndexedDbStore, VeilClient, type VeilStore } from "@veil/sdk/node";
import { decodeMlsMessage, encodeMlsMessage } from "ts-mls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVeilError } from "./helpers/bytes.js";
import {
  backends,
  clientOptions,
  eventually,
  introduce,
  noRateLimits,
  person,
  Recorder,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK resilience [${backend}]`, () => {
    let t: TestServer;
    const clients: VeilClient[] = [];
    const dirs: string[] = [];
    const join = async (name: string, options: Parameters<typeof person>[2] = {}) => {
      const p = await person(t, name, options);
      clients.push(p.client);
      return p;
    };
    /** Two people with a 1:1 chat both have joined. */
    const pair = async (a: string, b: string, options: Parameters<typeof person>[2] = {}) => {
      const first = await join(a, options);
      const second = await join(b);
      await introduce(first, second);
      const { groupId } = await first.client.startDirectChat(second.userId);
      await second.client.waitForChat(groupId);
      return [first, second, groupId] as const;
    };

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const c of clients) await c.stop();
      await t?.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("catches up after being offline, in order, each message once", async () => {
      const [ann, ben, groupId] = await pair("Ann", "Ben");
      await ann.client.sendText(groupId, "one");
      await eventually(() => expect(ben.seen.texts()).toEqual(["one"]));
      await ben.client.stop();
      for (const text of ["two", "three", "four"]) await ann.client.sendText(groupId, text);
      await ann.client.updateKeys(groupId); // a commit while Ben is away, too
      await ann.client.sendText(groupId, "five");
      expect(ben.seen.texts()).toEqual(["one"]);
      await ben.client.start();
      expect(ben.seen.texts()).toEqual(["one", "two", "three", "four", "five"]);
      // Delivery receipts for what arrived while away reach Ann.
      await eventually(() =>
        expect(ann.seen.receipts.flatMap((r) => r.messageIds)).toHaveLength(5),
      );
      await ben.client.sync();
      expect(ben.seen.messages).toHaveLength(5);
      expect(ben.seen.errors).toEqual([]);
    });

    it("survives a server restart mid-conversation: nothing lost, nothing shown twice", async () => {
      const [ann, ben, groupId] = await pair("Ann", "Ben");
      await ann.client.sendText(groupId, "one");
      await eventually(() => expect(ben.seen.texts()).toEqual(["one"]));
      const config = t.server.context.config;
      const port = new URL(t.url).port;
      await t.close({ keep: true });
      // Written while the server is down: queued in the outbox, sent after the reconnect.
      const queued = await ann.client.sendText(groupId, "two");
      expect(queued).toMatchObject({ status: "queued", seq: null });
      const delivered = ann.client.waitFor("sent", (e) => e.id === queued.id);
      t = await startTestServer({
        backend,
        env: { ...noRateLimits, VEIL_PORT: port },
        share:
          backend === "sqlite" ? { dataDir: config.dataDir } : { schema: config.databaseSchema },
      });
      await delivered;
      await ann.client.sendText(groupId, "three");
      await ben.client.sendText(groupId, "back at you");
      await eventually(() => expect(ben.seen.texts()).toEqual(["one", "two", "three"]));
      await eventually(() => expect(ann.seen.texts()).toEqual(["back at you"]));
      await ben.client.sync();
      await ann.client.sync();
      expect(ben.seen.texts()).toEqual(["one", "two", "three"]);
      expect(ann.seen.texts()).toEqual(["back at you"]);
      expect(
        (await ann.client.messages(groupId)).map(
          (m) => m.content.type === "text" && m.content.text,
        ),
      ).toEqual(["one", "two", "three", "back at you"]);
    });

    it("resolves stale commits and stale messages by catching up and trying again", async () => {
      const log: string[] = [];
      const logger = {
        debug: (_: unknown, message: string) => log.push(message),
        warn: (_: unknown, message: string) => log.push(message),
      };
      const ann = await join("Ann", { client: { logger } });
      const ben = await join("Ben", { client: { logger } });
      const cat = await join("Cat");
      const dan = await join("Dan");
      for (const p of [ben, cat, dan]) await introduce(ann, p);
      await introduce(ben, dan);
      const { groupId } = await ann.client.createGroup([ben.userId]);
      await ben.client.waitForChat(groupId);
      // Two members add different people at the same moment: one commit wins the epoch,
      // the other is refused with stale_epoch, catches up and is rebuilt.
      await Promise.all([
        ann.client.addMembers(groupId, [cat.userId]),
        ben.client.addMembers(groupId, [dan.userId]),
      ]);
      await cat.client.waitForChat(groupId);
      await dan.client.waitForChat(groupId);
      await dan.client.sendText(groupId, "hello from Dan");
      for (const p of [ann, ben, cat]) {
        await eventually(() => expect(p.seen.texts()).toEqual(["hello from Dan"]));
      }

      expect(log).toContain("commit refused; catching up");

      // A message built on an old epoch: Ben is offline while Ann rotates her keys.
      await ben.client.stop();
      await ann.client.updateKeys(groupId);
      const sent = await ben.client.sendText(groupId, "sent on a stale epoch");
      expect(sent.status).toBe("sent");
      expect(log).toContain("stale epoch on send; catching up");
      for (const p of [ann, cat, dan]) {
        await eventually(() => expect(p.seen.texts()).toContain("sent on a stale epoch"));
      }
      for (const p of [ann, ben, cat, dan]) expect(p.seen.errors).toEqual([]);
    });

    it("rejects a tampered ciphertext with an error event and ignores a replayed one", async () => {
      const [ann, ben, groupId] = await pair("Ann", "Ben");
      const original = await ann.client.sendText(groupId, "the real one");
      await eventually(() => expect(ben.seen.texts()).toEqual(["the real one"]));
      const entry = (await ann.client.api.log(groupId, 0)).entries.find(
        (e) => e.id === original.id,
      );
      if (!entry) throw new Error("no entry");
      const bytes = new Uint8Array(Buffer.from(entry.data, "base64url"));

      // Replayed under a new id: the server stores it (it cannot tell), MLS refuses the reused key.
      const replay = await ann.client.api.sendMessage(groupId, {
        id: "m_replayed_message_1",
        message: entry.data,
      });
      expect(replay.duplicate).toBe(false);

      // Tampered: one flipped bit in the ciphertext.
      const decoded = decodeMlsMessage(bytes, 0)?.[0];
      if (decoded?.wireformat !== "mls_private_message") throw new Error("not a private message");
      const ciphertext = decoded.privateMessage.ciphertext.slice();
      ciphertext[0] = (ciphertext[0] as number) ^ 1;
      const tampered = encodeMlsMessage({
        ...decoded,
        privateMessage: { ...decoded.privateMessage, ciphertext },
      });
      const stored = await ann.client.api.sendMessage(groupId, {
        id: "m_tampered_message_1",
        message: Buffer.from(tampered).toString("base64url"),
      });
      await eventually(() =>
        expect(ben.seen.errors).toContainEqual(
          expect.objectContaining({ groupId, seq: stored.seq }),
        ),
      );
      expect(ben.seen.errors.map((e) => e.error.code)).toEqual(["message_undecryptable"]);
      await ann.client.sendText(groupId, "still fine");
      await eventually(() => expect(ben.seen.texts()).toEqual(["the real one", "still fine"]));
      expect(ben.seen.messages).toHaveLength(2);
    });

    const persistent: Array<{ name: string; open: () => Promise<VeilStore> }> = [
      {
        name: "file store",
        open: (() => {
          const dir = mkdtempSync(path.join(tmpdir(), "veil-sdk-"));
          dirs.push(dir);
          return () => FileStore.open(dir);
        })(),
      },
      {
        name: "IndexedDB store",
        open: (() => {
          const name = `veil-${backend}-${Math.random().toString(36).slice(2)}`;
          return () => IndexedDbStore.open(name);
        })(),
      },
    ];
    for (const { name, open } of persistent) {
      it(`continues a conversation after the client restarts on the same ${name}`, async () => {
        const [ann, ben, groupId] = await pair("Ann", "Ben", { store: await open() });
        await ben.client.sendText(groupId, "before the restart");
        await eventually(() => expect(ann.seen.texts()).toEqual(["before the restart"]));
        if (name === "file store") {
          // Only one process may use a store at a time.
          await expect(open()).rejects.toSatisfy((e) => isVeilError(e, "store_locked"));
        }
        await ann.client.close();
        await ben.client.sendText(groupId, "while you were away");

        const again = await VeilClient.open(clientOptions(t, await open()));
        clients.push(again);
        const seen = new Recorder(again);
        expect(again.userId).toBe(ann.userId);
        await again.start();
        expect(seen.texts()).toEqual(["while you were away"]);
        expect((await again.messages(groupId)).length).toBe(2);
        await again.sendText(groupId, "I am back");
        await eventually(() => expect(ben.seen.texts()).toContain("I am back"));
        expect(seen.errors).toEqual([]);
        await again.close();
      });
    }
  });
}
