import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { errorRegistry, linkSigningPrefix } from "@veil/protocol";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, postgresUrl } from "./helpers/backends.js";
import { DeviceKey, deviceProof, http, TestUser } from "./helpers/client.js";
import { MlsDevice } from "./helpers/mls-device.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 3000;
const nextPhone = () => `+1415555${phoneCounter++}`;

for (const { backend, available } of backends) {
  describe.skipIf(!available)(
    `end-to-end encrypted chats through the delivery service [${backend}]`,
    () => {
      let t: TestServer;
      const env = { ...noRateLimits, VEIL_BLOB_LIMIT_BYTES: "65536" };
      const dataDir = () => t.server.context.config.dataDir;
      const schema = () => t.server.context.config.databaseSchema;

      /** A registered user with one MLS device and key packages on the server. */
      async function person(name: string, keyPackages = 5) {
        const phone = nextPhone();
        const user = await TestUser.register(t.url, { name, phone, verifier: t.verifier });
        const device = new MlsDevice(t.url, user.id, user.deviceId, user.token);
        expect((await device.uploadKeyPackages(keyPackages)).status).toBe(200);
        return { user, device, phone };
      }

      /** Makes `a` able to see `b` (a finds b by number), as a real client would. */
      async function introduce(a: { user: TestUser }, b: { phone: string }) {
        expect((await a.user.request("POST", "/v1/contacts", { phone: b.phone })).status).toBe(201);
      }

      /** Ann and Ben in a chat Ann created (a direct chat or a group), both joined. */
      async function annAndBen(kind: "direct" | "group") {
        const ann = await person("Ann");
        const ben = await person("Ben");
        await introduce(ann, ben);
        const groupId = await ann.device.createGroup(
          kind === "direct" ? { kind, peerUserId: ben.user.id } : { kind },
        );
        await ann.device.add(groupId, [ben.user.id]);
        await ben.device.syncMailbox();
        return { ann, ben, groupId };
      }

      beforeAll(async () => {
        t = await startTestServer({ backend, env });
      });
      afterAll(async () => t?.close());

      it("refuses key packages that are malformed or name another device", async () => {
        const alice = await person("Alice", 1);
        const bob = await person("Bob", 1);
        const garbage = await alice.device.request("POST", "/v1/key-packages", {
          keyPackages: ["AAAAAAAA"],
        });
        expect(garbage.body.error.code).toBe("key_package_invalid");
        // Bob's package uploaded by Alice: its credential names Bob's device.
        const kp = await bob.device.newKeyPackage();
        const { encodeMlsMessage } = await import("ts-mls");
        const foreign = Buffer.from(
          encodeMlsMessage({
            version: "mls10",
            wireformat: "mls_key_package",
            keyPackage: kp.publicPackage,
          }),
        ).toString("base64url");
        const stolen = await alice.device.request("POST", "/v1/key-packages", {
          keyPackages: [foreign],
        });
        expect(stolen.body.error.code).toBe("key_package_invalid");
        expect((await alice.device.request("GET", "/v1/key-packages")).body).toEqual({
          oneTime: 1,
          lastResort: false,
        });
      });

      it("claims each key package once, answers strangers as unknown, and warns a device running low", async () => {
        const alice = await person("Alice", 0);
        const bob = await person("Bob", 10);
        const stranger = await alice.device.request("POST", "/v1/key-packages/claim", {
          userIds: [bob.user.id],
        });
        expect(stranger.status).toBe(404);
        expect(stranger.body.error.code).toBe("user_not_found");
        await introduce(alice, bob);
        const first = await alice.device.request("POST", "/v1/key-packages/claim", {
          userIds: [bob.user.id],
        });
        const second = await alice.device.request("POST", "/v1/key-packages/claim", {
          userIds: [bob.user.id],
        });
        expect(first.body.devices).toHaveLength(1);
        expect(first.body.devices[0].keyPackage).not.toBe(second.body.devices[0].keyPackage);
        expect((await bob.device.request("GET", "/v1/key-packages")).body.oneTime).toBe(8);
        const mailbox = await bob.device.request("GET", "/v1/mailbox");
        expect(mailbox.body.items.map((i: { kind: string }) => i.kind)).toContain(
          "key_packages_low",
        );
        for (let i = 0; i < 8; i++)
          await alice.device.request("POST", "/v1/key-packages/claim", { userIds: [bob.user.id] });
        const empty = await alice.device.request("POST", "/v1/key-packages/claim", {
          userIds: [bob.user.id],
        });
        expect(empty.body.error.code).toBe("key_packages_unavailable");
        // A batch with one user out of packages claims nothing at all: Carol keeps hers.
        const carol = await person("Carol", 2);
        await introduce(alice, carol);
        const batch = await alice.device.request("POST", "/v1/key-packages/claim", {
          userIds: [carol.user.id, bob.user.id],
        });
        expect(batch.body.error.code).toBe("key_packages_unavailable");
        expect((await carol.device.request("GET", "/v1/key-packages")).body.oneTime).toBe(2);
      });

      it("carries a 1:1 chat both ways, live and from the log, with every device of the peer", async () => {
        const alice = await person("Alice");
        const bob = await person("Bob");
        const bob2 = await bob.user.addDevice();
        const bobPhone = new MlsDevice(t.url, bob.user.id, bob2.deviceId, bob2.token);
        await bobPhone.uploadKeyPackages(2);
        await introduce(alice, bob);
        const liveBob = await bob.user.connect(t.wsUrl);

        const chat = await alice.device.createGroup({ kind: "direct", peerUserId: bob.user.id });
        // Asking again returns the same chat.
        const again = await alice.device.request("POST", "/v1/groups", {
          kind: "direct",
          peerUserId: bob.user.id,
        });
        expect(again.status).toBe(200);
        expect(again.body.id).toBe(chat);
        expect((await alice.device.add(chat, [bob.user.id])).status).toBe(201);
        const welcome = await liveBob.next((f) => f.type === "mailbox.item");
        expect(welcome.type === "mailbox.item" && welcome.item.groupId).toBe(chat);
        await bob.device.syncMailbox();
        await bobPhone.syncMailbox();
        expect(bob.device.credentials(chat).sort()).toEqual(
          [alice.user.deviceId, bob.user.deviceId, bob2.deviceId].sort(),
        );

        const sent = await alice.device.send(chat, "hello Bob");
        expect(sent.status).toBe(201);
        const pushed = await liveBob.next(
          (f) => f.type === "group.entry" && f.entry.kind === "application",
        );
        expect(pushed.type === "group.entry" && (await bob.device.process(pushed.entry))).toBe(
          "hello Bob",
        );
        expect(await bobPhone.catchUp(chat)).toEqual(["hello Bob"]);
        await bob.device.send(chat, "hi Alice");
        expect(await alice.device.catchUp(chat)).toEqual(["hi Alice"]);
        // Bob's other device sees Bob's own sent message too.
        expect(await bobPhone.catchUp(chat)).toEqual(["hi Alice"]);
        liveBob.close();
      });

      it("runs a group of five: add, remove, and the removed member reads nothing after", async () => {
        const people = await Promise.all(["Ann", "Ben", "Cat", "Dan", "Eve"].map((n) => person(n)));
        const [ann, ...others] = people as [
          Awaited<ReturnType<typeof person>>,
          ...Awaited<ReturnType<typeof person>>[],
        ];
        for (const o of others) await introduce(ann, o);
        const group = await ann.device.createGroup({ kind: "group" });
        expect(
          (
            await ann.device.add(
              group,
              others.map((o) => o.user.id),
            )
          ).status,
        ).toBe(201);
        for (const o of others) await o.device.syncMailbox();
        await ann.device.send(group, "welcome all");
        for (const o of others) expect(await o.device.catchUp(group)).toEqual(["welcome all"]);

        const eve = others[3] as (typeof others)[number];
        expect((await ann.device.remove(group, [eve.user.deviceId])).status).toBe(201);
        await ann.device.send(group, "eve is gone");
        for (const o of others.slice(0, 3))
          expect(await o.device.catchUp(group)).toEqual(["eve is gone"]);
        // The server no longer serves Eve the log, exactly as for a group she never saw...
        const told = (await eve.device.request("GET", "/v1/mailbox")).body.items;
        expect(told.filter((i: { kind: string }) => i.kind === "removed_from_group")).toMatchObject(
          [{ groupId: group }],
        );
        const log = await eve.device.request("GET", `/v1/groups/${group}/log?after=0`);
        expect(log.status).toBe(404);
        expect(log.body.error.code).toBe("group_not_found");
        // ...and even with the ciphertext in hand, her old state cannot read it.
        const ct = (
          await ann.device.request("GET", `/v1/groups/${group}/log?after=0`)
        ).body.entries.at(-1);
        await expect(eve.device.process(ct)).rejects.toThrow();
        // A member she is not cannot post either.
        const posted = await eve.device.request("POST", `/v1/groups/${group}/messages`, {
          id: "m_after_removal",
          message: ct.data,
        });
        expect(posted.body.error.code).toBe("group_not_found");
      });

      it("rejects a stale commit, malformed bytes and wrong groups; ignores replays; tampering fails to decrypt", async () => {
        const { ann, ben, groupId: group } = await annAndBen("group");
        // Ben commits an update; Ann's next commit is built on the old epoch.
        expect((await ben.device.commit(group, [], [], [])).status).toBe(201);
        const stale = await ann.device.commit(group, [], [], []);
        expect(stale.status).toBe(409);
        expect(stale.body.error.code).toBe("stale_epoch");
        await ann.device.catchUp(group);
        expect((await ann.device.commit(group, [], [], [])).status).toBe(201);
        await ben.device.catchUp(group);

        const bad = await ann.device.request("POST", `/v1/groups/${group}/messages`, {
          id: "m_garbage_1",
          message: "AAAAAAAAAAAA",
        });
        expect(bad.body.error.code).toBe("mls_malformed");
        const other = await ann.device.createGroup({ kind: "group" });
        const foreign = await ann.device.send(other, "for the other group");
        const misplaced = await ann.device.request("POST", `/v1/groups/${group}/messages`, {
          id: "m_misplaced_1",
          message: foreign.ciphertext,
        });
        expect(misplaced.body.error.code).toBe("mls_wrong_group");

        const once = await ann.device.send(group, "only once", "m_replayed_1");
        expect(once.status).toBe(201);
        const replay = await ann.device.request("POST", `/v1/groups/${group}/messages`, {
          id: "m_replayed_1",
          message: once.ciphertext,
        });
        expect(replay.status).toBe(200);
        expect(replay.body).toEqual({
          seq: once.body.seq,
          epoch: once.body.epoch,
          duplicate: true,
        });
        expect(await ben.device.catchUp(group)).toEqual(["only once"]);

        // A flipped byte in the ciphertext: the server stores it (it cannot read it); Ben's MLS refuses it.
        const sent = await ann.device.send(group, "tamper with me");
        const raw = Buffer.from(sent.ciphertext, "base64url");
        raw[raw.length - 5] = (raw[raw.length - 5] as number) ^ 0xff;
        const tampered = await ann.device.request("POST", `/v1/groups/${group}/messages`, {
          id: "m_tampered_1",
          message: raw.toString("base64url"),
        });
        expect(tampered.status).toBe(201);
        const entries = (
          await ben.device.request(
            "GET",
            `/v1/groups/${group}/log?after=${ben.device.cursors.get(group)}`,
          )
        ).body.entries;
        expect(await ben.device.process(entries[0])).toBe("tamper with me");
        await expect(ben.device.process(entries[1])).rejects.toThrow();
      });

      it("withholds a 1:1 message from a peer who blocked the sender, without telling the sender", async () => {
        const ann = await person("Ann");
        const ben = await person("Ben");
        await introduce(ann, ben);
        await introduce(ben, ann);
        const chat = await ann.device.createGroup({ kind: "direct", peerUserId: ben.user.id });
        await ann.device.add(chat, [ben.user.id]);
        await ben.device.syncMailbox();
        expect((await ben.user.request("PUT", `/v1/blocks/${ann.user.id}`)).status).toBe(204);
        const sent = await ann.device.send(chat, "are you there?");
        expect(sent.status).toBe(201);
        expect(await ben.device.catchUp(chat)).toEqual([]);
        await ben.user.request("DELETE", `/v1/blocks/${ann.user.id}`);
        await ann.device.send(chat, "now?");
        expect(await ben.device.catchUp(chat)).toEqual(["now?"]);
      });

      it("catches up after reconnecting, and survives a server restart with nothing lost or shown twice", async () => {
        const { ann, ben, groupId: chat } = await annAndBen("direct");
        await ann.device.send(chat, "one");
        expect(await ben.device.catchUp(chat)).toEqual(["one"]);
        // Ben goes offline; Ann keeps writing; the server restarts in the middle.
        await ann.device.send(chat, "two");
        const config = t.server.context.config;
        await t.close({ keep: true });
        t = await startTestServer({
          backend,
          env,
          share:
            backend === "sqlite" ? { dataDir: config.dataDir } : { schema: config.databaseSchema },
        });
        const annAgain = Object.assign(ann.device, { base: t.url });
        const benAgain = Object.assign(ben.device, { base: t.url });
        // Ann resends "two" (she never saw the ack, say): stored once.
        await annAgain.send(chat, "three");
        expect(await benAgain.catchUp(chat)).toEqual(["two", "three"]);
        expect(await benAgain.catchUp(chat)).toEqual([]);
      });

      it("stores encrypted attachments once and serves them to the group's members only", async () => {
        const ann = await person("Ann");
        const ben = await person("Ben");
        const cat = await person("Cat");
        await introduce(ann, ben);
        const chat = await ann.device.createGroup({ kind: "group" });
        await ann.device.add(chat, [ben.user.id]);
        await ben.device.syncMailbox();
        // The client encrypts with a fresh key; the key and hash travel inside the MLS message.
        const key = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv("aes-256-gcm", key, iv);
        const file = Buffer.concat([
          cipher.update(Buffer.alloc(20_000, 7)),
          cipher.final(),
          cipher.getAuthTag(),
        ]);
        const up = await http(t.url, "POST", `/v1/groups/${chat}/blobs`, {
          token: ann.user.token,
          raw: file,
        });
        expect(up.status).toBe(201);
        expect(up.body).toEqual({
          id: createHash("sha256").update(file).digest("base64url"),
          size: file.length,
        });
        await ann.device.send(
          chat,
          JSON.stringify({
            blob: up.body.id,
            key: key.toString("base64url"),
            iv: iv.toString("base64url"),
          }),
        );
        const note = JSON.parse((await ben.device.catchUp(chat))[0] as string);
        const got = await fetch(`${t.url}/v1/blobs/${note.blob}`, {
          headers: { authorization: `Bearer ${ben.user.token}` },
        });
        expect(got.status).toBe(200);
        const bytes = Buffer.from(await got.arrayBuffer());
        const decipher = createDecipheriv(
          "aes-256-gcm",
          Buffer.from(note.key, "base64url"),
          Buffer.from(note.iv, "base64url"),
        );
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        expect(
          Buffer.concat([
            decipher.update(bytes.subarray(0, bytes.length - 16)),
            decipher.final(),
          ]).equals(Buffer.alloc(20_000, 7)),
        ).toBe(true);
        // Not a member: answered as if the blob did not exist.
        const outsider = await http(t.url, "GET", `/v1/blobs/${note.blob}`, {
          token: cat.user.token,
        });
        const unknown = await http(
          t.url,
          "GET",
          "/v1/blobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          { token: cat.user.token },
        );
        expect(outsider.status).toBe(404);
        expect(outsider.body).toEqual(unknown.body);
        expect(outsider.body.error.code).toBe("blob_not_found");
        const intoForeign = await http(t.url, "POST", `/v1/groups/${chat}/blobs`, {
          token: cat.user.token,
          raw: file,
        });
        expect(intoForeign.body.error.code).toBe("group_not_found");
        const huge = await http(t.url, "POST", `/v1/groups/${chat}/blobs`, {
          token: ann.user.token,
          raw: Buffer.alloc(70_000),
        });
        expect(huge.status).toBe(413);
        expect(huge.body.error.code).toBe("body_too_large");
        const json = await http(t.url, "POST", `/v1/groups/${chat}/blobs`, {
          token: ann.user.token,
          body: { a: 1 },
        });
        expect(json.body.error.code).toBe("unsupported_media_type");
      });

      it("links a new device by code: it joins the user's chats from then on, and leaving rotates keys", async () => {
        const { ann, ben, groupId: chat } = await annAndBen("direct");
        await ann.device.send(chat, "before the laptop");
        expect(await ben.device.catchUp(chat)).toEqual(["before the laptop"]);

        // The new device shows a code; Ben's phone enters it and signs the new key.
        const laptopKey = new DeviceKey();
        const started = await http(t.url, "POST", "/v1/device-links", {
          body: await deviceProof(t.url, laptopKey, "laptop"),
        });
        expect(started.status).toBe(201);
        expect(started.body.code).toMatch(/^\d{4}-\d{4}$/);
        const pending = await http(t.url, "POST", "/v1/device-links/status", {
          body: { linkId: started.body.linkId, secret: started.body.secret },
        });
        expect(pending.body.status).toBe("pending");
        // The approving device shows what it is about to sign.
        const shown = await ben.user.request("GET", `/v1/device-links/${started.body.code}`);
        expect(shown.body).toEqual({ name: "laptop", publicKey: laptopKey.publicKey });
        const forged = await ben.user.request("POST", "/v1/device-links/approve", {
          code: started.body.code,
          signature: new DeviceKey().sign(laptopKey.publicKey),
        });
        expect(forged.body.error.code).toBe("signature_invalid");
        const message = Buffer.concat([
          Buffer.from(linkSigningPrefix),
          Buffer.from(laptopKey.publicKey, "base64url"),
        ]);
        const approved = await ben.user.request("POST", "/v1/device-links/approve", {
          code: started.body.code,
          signature: ben.user.key.signRaw(message),
        });
        expect(approved.status).toBe(201);
        const status = await http(t.url, "POST", "/v1/device-links/status", {
          body: { linkId: started.body.linkId, secret: started.body.secret },
        });
        expect(status.body).toEqual({
          status: "approved",
          deviceId: approved.body.deviceId,
          userId: ben.user.id,
        });
        const reused = await ann.user.request("POST", "/v1/device-links/approve", {
          code: started.body.code,
          signature: ann.user.key.signRaw(message),
        });
        expect(reused.body.error.code).toBe("link_not_found");
        const c = await http(t.url, "POST", "/v1/auth/challenges");
        const session = await http(t.url, "POST", "/v1/sessions", {
          body: {
            deviceId: approved.body.deviceId,
            challengeId: c.body.challengeId,
            signature: laptopKey.sign(c.body.challenge),
          },
        });
        const laptop = new MlsDevice(
          t.url,
          ben.user.id,
          approved.body.deviceId,
          session.body.session.token,
        );
        // Not announced before it has key packages: it could not be added yet.
        const early = (await ben.device.request("GET", "/v1/mailbox")).body.items;
        expect(early.map((i: { kind: string }) => i.kind)).not.toContain("device_linked");
        await laptop.uploadKeyPackages(2);

        // Ben's phone is told, and brings the laptop into the chat.
        const told = (await ben.device.request("GET", "/v1/mailbox")).body.items.find(
          (i: { kind: string }) => i.kind === "device_linked",
        );
        expect(told.deviceId).toBe(laptop.deviceId);
        await ben.device.catchUp(chat);
        expect((await ben.device.add(chat, [ben.user.id])).status).toBe(201);
        await laptop.syncMailbox();
        await ann.device.catchUp(chat);
        await ann.device.send(chat, "after the laptop");
        // History before linking stays on the old devices.
        expect(await laptop.catchUp(chat)).toEqual(["after the laptop"]);
        expect(await ben.device.catchUp(chat)).toEqual(["after the laptop"]);

        // Ben removes the laptop: it stops at once, and Ann is asked to rotate the keys.
        expect((await ben.user.request("DELETE", `/v1/devices/${laptop.deviceId}`)).status).toBe(
          204,
        );
        expect((await laptop.request("GET", `/v1/groups/${chat}/log`)).status).toBe(401);
        const ask = (await ann.device.request("GET", "/v1/mailbox")).body.items.find(
          (i: { kind: string }) => i.kind === "remove_device",
        );
        expect(ask).toMatchObject({ groupId: chat, deviceId: laptop.deviceId });
        expect((await ann.device.remove(chat, [laptop.deviceId])).status).toBe(201);
        expect(ann.device.credentials(chat)).not.toContain(laptop.deviceId);
        await ann.device.send(chat, "laptop gone");
        expect(await ben.device.catchUp(chat)).toEqual(["laptop gone"]);
        // Even holding the ciphertext, the laptop's old state cannot read it.
        const last = (
          await ann.device.request("GET", `/v1/groups/${chat}/log?after=0`)
        ).body.entries.at(-1);
        await expect(laptop.process(last)).rejects.toThrow();
      });

      it("pushes ephemeral signals (typing) to connected members without storing them", async () => {
        const ann = await person("Ann");
        const ben = await person("Ben");
        await introduce(ann, ben);
        const chat = await ann.device.createGroup({ kind: "direct", peerUserId: ben.user.id });
        expect((await ann.device.request("GET", `/v1/groups/${chat}`)).body.peerUserId).toBe(
          ben.user.id,
        );
        await ann.device.add(chat, [ben.user.id]);
        await ben.device.syncMailbox();
        const live = await ben.user.connect(t.wsUrl);
        const before = (await ann.device.request("GET", `/v1/groups/${chat}`)).body.lastSeq;
        const typing = await ann.device.encryptOnly(chat, JSON.stringify({ v: 1, type: "typing" }));
        expect(
          (await ann.device.request("POST", `/v1/groups/${chat}/signals`, { message: typing }))
            .status,
        ).toBe(202);
        const frame = await live.next((f) => f.type === "group.signal");
        expect(frame.type === "group.signal" && frame.signal).toMatchObject({
          groupId: chat,
          senderDeviceId: ann.user.deviceId,
          data: typing,
        });
        expect((await ann.device.request("GET", `/v1/groups/${chat}`)).body.lastSeq).toBe(before);
        const outsider = await person("Cat");
        const refused = await outsider.device.request("POST", `/v1/groups/${chat}/signals`, {
          message: typing,
        });
        expect(refused.body.error.code).toBe("group_not_found");
        live.close();
      });

      it("answers mutated and random MLS bytes on every delivery route with a registered 4xx", async () => {
        const ann = await person("Ann");
        const ben = await person("Ben");
        await introduce(ann, ben);
        const group = await ann.device.createGroup({ kind: "group" });
        const claimedBefore = await ann.device.request("GET", `/v1/groups/${group}`);
        const message = Buffer.from(
          (await ann.device.encryptOnly(group, "seed")) as string,
          "base64url",
        );
        const kp = await ann.device.newKeyPackage();
        const { encodeMlsMessage } = await import("ts-mls");
        const keyPackage = Buffer.from(
          encodeMlsMessage({
            version: "mls10",
            wireformat: "mls_key_package",
            keyPackage: kp.publicPackage,
          }),
        );
        const seeds = [message, keyPackage];
        const mutated = fc
          .tuple(
            fc.constantFrom(...seeds),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 4,
            }),
            fc.nat(),
          )
          .map(([seed, flips, cut]) => {
            const bytes = Buffer.from(seed);
            for (const [at, value] of flips) bytes[at % bytes.length] = value;
            return bytes.subarray(0, Math.max(1, bytes.length - (cut % 8)));
          });
        const bytes = fc.oneof(
          mutated,
          fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
        );
        await fc.assert(
          fc.asyncProperty(
            bytes,
            fc.constantFrom("messages", "commits", "signals", "key-packages"),
            async (raw, route) => {
              const b64 = raw.toString("base64url");
              const reply =
                route === "key-packages"
                  ? await ann.device.request("POST", "/v1/key-packages", { keyPackages: [b64] })
                  : route === "commits"
                    ? await ann.device.request("POST", `/v1/groups/${group}/commits`, {
                        epoch: 0,
                        commit: b64,
                        welcome: b64,
                        addDevices: [ben.user.deviceId],
                      })
                    : await ann.device.request("POST", `/v1/groups/${group}/${route}`, {
                        id: `m_fuzz_${Math.random().toString(36).slice(2)}`,
                        message: b64,
                      });
              expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(500);
              if (reply.status >= 400)
                expect(Object.keys(errorRegistry)).toContain(reply.body.error.code);
            },
          ),
          { numRuns: 120 },
        );
        // Nothing the fuzzing sent moved the group.
        const after = await ann.device.request("GET", `/v1/groups/${group}`);
        expect(after.body.epoch).toBe(claimedBefore.body.epoch);
      });

      it("shows co-members of a group each other's number (R3), and strangers again nothing once apart", async () => {
        const ann = await person("Ann");
        const ben = await person("Ben");
        const cat = await person("Cat");
        await introduce(ann, ben);
        await introduce(ann, cat);
        for (const p of [ben, cat])
          await p.user.request("PATCH", "/v1/me/privacy", { phone: "nobody", about: "nobody" });
        // Before: Ben and Cat know nothing of each other.
        expect((await ben.user.request("GET", `/v1/users/${cat.user.id}`)).status).toBe(404);
        const group = await ann.device.createGroup({ kind: "group" });
        await ann.device.add(group, [ben.user.id, cat.user.id]);
        // In a group together: id, name and number, whatever the phone setting; about still as allowed.
        const seen = await ben.user.request("GET", `/v1/users/${cat.user.id}`);
        expect(seen.body).toEqual({ id: cat.user.id, name: "Cat", phone: cat.phone });
        // Ann removes Cat: Ben and Cat are strangers again.
        await cat.device.syncMailbox();
        expect((await ann.device.remove(group, [cat.user.deviceId])).status).toBe(201);
        const after = await ben.user.request("GET", `/v1/users/${cat.user.id}`);
        const unknown = await ben.user.request("GET", "/v1/users/u_AAAAAAAAAAAAAAAAAAAAAA");
        expect(after.status).toBe(404);
        expect(after.body).toEqual(unknown.body);
      });

      it("lets admins restrict sending to admins, promote and demote, but never drop the last admin", async () => {
        const { ann, ben, groupId: group } = await annAndBen("group");
        const summary = (await ben.device.request("GET", `/v1/groups/${group}`)).body;
        expect(summary).toMatchObject({ admins: [ann.user.id], sendPolicy: "all" });
        // A member cannot change settings or promote.
        const denied = await ben.device.request("PATCH", `/v1/groups/${group}/settings`, {
          sendPolicy: "admins",
        });
        expect(denied.status).toBe(403);
        expect(denied.body.error.code).toBe("not_group_admin");
        expect(
          (await ben.device.request("PUT", `/v1/groups/${group}/admins/${ben.user.id}`)).body.error
            .code,
        ).toBe("not_group_admin");
        // Admins only: Ben's message is refused, Ann's goes through.
        expect(
          (
            await ann.device.request("PATCH", `/v1/groups/${group}/settings`, {
              sendPolicy: "admins",
            })
          ).body.sendPolicy,
        ).toBe("admins");
        const refused = await ben.device.send(group, "may I?");
        expect(refused.status).toBe(403);
        expect(refused.body.error.code).toBe("not_group_admin");
        expect((await ann.device.send(group, "announcement")).status).toBe(201);
        expect(await ben.device.catchUp(group)).toEqual(["announcement"]);
        // The last admin cannot step down; after promoting Ben, Ann can.
        expect(
          (await ann.device.request("DELETE", `/v1/groups/${group}/admins/${ann.user.id}`)).body
            .error.code,
        ).toBe("last_admin");
        const promoted = await ann.device.request(
          "PUT",
          `/v1/groups/${group}/admins/${ben.user.id}`,
        );
        expect(promoted.body.admins.sort()).toEqual([ann.user.id, ben.user.id].sort());
        expect(
          (await ann.device.request("DELETE", `/v1/groups/${group}/admins/${ann.user.id}`)).body
            .admins,
        ).toEqual([ben.user.id]);
        // A stranger is not a member to promote; a direct chat has no admins.
        const cat = await person("Cat");
        expect(
          (await ben.device.request("PUT", `/v1/groups/${group}/admins/${cat.user.id}`)).body.error
            .code,
        ).toBe("user_not_found");
        const chat = await ann.device.createGroup({ kind: "direct", peerUserId: ben.user.id });
        expect(
          (
            await ann.device.request("PATCH", `/v1/groups/${chat}/settings`, {
              sendPolicy: "admins",
            })
          ).body.error.code,
        ).toBe("not_group_admin");
      });

      it("never stores the plaintext of a message", async () => {
        const { ann, ben, groupId: chat } = await annAndBen("group");
        const secret = "the eagle lands at midnight 7f3a";
        await ann.device.send(chat, secret);
        await ben.device.send(chat, `${secret} (ack)`);
        expect(await ann.device.catchUp(chat)).toEqual([`${secret} (ack)`]);
        const needle = Buffer.from("eagle lands");
        if (backend === "sqlite") {
          await t.server.context.database.db.selectFrom("users").select("id").execute(); // flush
          const dir = dataDir();
          for (const file of ["veil.sqlite", "veil.sqlite-wal"]) {
            let bytes: Buffer;
            try {
              bytes = readFileSync(path.join(dir, file));
            } catch {
              continue;
            }
            expect(bytes.includes(needle), file).toBe(false);
            expect(bytes.includes(Buffer.from("Ann")), `${file} holds names, as it should`).toBe(
              true,
            );
          }
        } else {
          const client = new pg.Client({ connectionString: postgresUrl });
          await client.connect();
          try {
            const tables = await client.query(
              "select table_name from information_schema.tables where table_schema = $1",
              [schema()],
            );
            expect(tables.rows.length).toBeGreaterThan(5);
            for (const { table_name } of tables.rows) {
              const dump = await client.query(
                `select t::text as row from ${client.escapeIdentifier(schema())}.${client.escapeIdentifier(table_name)} t`,
              );
              const text = dump.rows.map((r) => r.row).join("\n");
              expect(text.includes("eagle lands"), table_name).toBe(false);
              // bytea renders as hex: look for the hex of the plaintext too.
              expect(text.includes(needle.toString("hex")), table_name).toBe(false);
            }
          } finally {
            await client.end();
          }
        }
      });
    },
  );
}
