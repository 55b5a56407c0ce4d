import { Type } from "@sinclair/typebox";
import { Session } from "@veil/protocol";
import { linkFingerprint, MemoryStore, VeilClient } from "@veil/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVeilError } from "./helpers/bytes.js";
import {
  backends,
  clientOptions,
  eventually,
  introduce,
  noRateLimits,
  type Person,
  person,
  Recorder,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK linked devices [${backend}]`, () => {
    let t: TestServer;
    const clients: VeilClient[] = [];
    const join = async (name: string): Promise<Person> => {
      const p = await person(t, name);
      clients.push(p.client);
      return p;
    };

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const c of clients) await c.stop();
      await t?.close();
    });

    it("links a second device by code: it gets new messages and its own user's sent ones, and leaves cleanly", async () => {
      const alice = await join("Alice");
      const bob = await join("Bob");
      await introduce(alice, bob);
      const { groupId } = await alice.client.startDirectChat(bob.userId);
      await bob.client.waitForChat(groupId);
      await alice.client.sendText(groupId, "before the laptop");
      await eventually(() => expect(bob.seen.texts()).toEqual(["before the laptop"]));

      // The laptop shows a code and its key; Bob's phone approves it.
      const laptop = await VeilClient.open(clientOptions(t, new MemoryStore()));
      clients.push(laptop);
      const seen = new Recorder(laptop);
      const { offer, approved } = await laptop.linkDevice({ deviceName: "laptop" });
      expect(offer.code).toMatch(/^\d{4}-\d{4}$/);
      expect(offer.uri).toBe(`veil-link:${offer.code}:${offer.publicKey}`);
      await expect(bob.client.approveDevice("veil-link:1234")).rejects.toSatisfy((e) =>
        isVeilError(e, "link_invalid"),
      );
      const linkedEvent = bob.client.waitFor("device-linked");
      const { deviceId } = await bob.client.approveDevice(offer.uri);
      await approved;
      expect(laptop.userId).toBe(bob.userId);
      expect(laptop.deviceId).toBe(deviceId);
      await laptop.start();
      // Bob's phone brings the laptop into the chat as soon as it has key packages.
      expect(await linkedEvent).toEqual({ deviceId, groups: [groupId] });
      await laptop.waitForChat(groupId);

      await alice.client.sendText(groupId, "after the laptop");
      await eventually(() => expect(seen.texts()).toEqual(["after the laptop"]));
      // History before linking stays on the old devices.
      expect((await laptop.messages(groupId)).map((m) => m.content.type)).toEqual(["text"]);

      const fromPhone = await bob.client.sendText(groupId, "sent from the phone");
      await eventually(() =>
        expect(seen.messages).toContainEqual(
          expect.objectContaining({
            id: fromPhone.id,
            fromMe: true,
            senderUserId: bob.userId,
            senderDeviceId: bob.client.deviceId,
          }),
        ),
      );
      const fromLaptop = await laptop.sendText(groupId, "typed on the laptop");
      await eventually(() => expect(alice.seen.texts()).toContain("typed on the laptop"));
      await eventually(() =>
        expect(bob.seen.messages).toContainEqual(
          expect.objectContaining({ id: fromLaptop.id, fromMe: true, senderDeviceId: deviceId }),
        ),
      );
      // Each message was shown once on each device.
      expect(bob.seen.texts().filter((x) => x === "after the laptop")).toHaveLength(1);
      expect(seen.texts()).toEqual(["after the laptop", "sent from the phone"]);

      // The safety number covers every device, and both sides compute the same one.
      const aliceSees = await alice.client.safetyNumber(bob.userId);
      expect(aliceSees).toMatch(/^\d{60}$/);
      expect(await bob.client.safetyNumber(alice.userId)).toBe(aliceSees);
      expect(await laptop.safetyNumber(alice.userId)).toBe(aliceSees);

      // Bob removes the laptop: Alice's device is asked to commit its removal, and does.
      await bob.client.api.removeDevice(deviceId);
      await eventually(() =>
        expect(alice.seen.membership).toContainEqual(
          expect.objectContaining({
            groupId,
            change: "members-removed",
            members: [{ userId: bob.userId, deviceId }],
          }),
        ),
      );
      await alice.client.sendText(groupId, "laptop gone");
      await eventually(() => expect(bob.seen.texts()).toContain("laptop gone"));
      expect(seen.texts()).not.toContain("laptop gone");
      // The number changed with the device list.
      expect(await alice.client.safetyNumber(bob.userId)).not.toBe(aliceSees);
      expect(await bob.client.safetyNumber(alice.userId)).toBe(
        await alice.client.safetyNumber(bob.userId),
      );
      await eventually(() =>
        expect(seen.errors.map((e) => e.error.code)).toContain("device_removed"),
      );
      expect(alice.seen.errors).toEqual([]);
      expect(bob.seen.errors).toEqual([]);
    });

    it("adds the user's other devices when starting a chat, and the chat reaches all of them", async () => {
      const alice = await join("Alice");
      const bob = await join("Bob");
      const bobTablet = await VeilClient.open(clientOptions(t, new MemoryStore()));
      clients.push(bobTablet);
      const tablet = new Recorder(bobTablet);
      const { offer, approved } = await bobTablet.linkDevice();
      // Typed code alone: the key comes from the server, and both screens show one fingerprint.
      const typed = await bob.client.approveDevice(offer.code);
      expect(typed.fingerprint).toBe(linkFingerprint(offer.publicKey));
      expect(typed.fingerprint).toMatch(/^\d{5} \d{5} \d{5}$/);
      await approved;
      await bobTablet.start();
      await eventually(async () =>
        expect((await bobTablet.api.keyPackageStock()).oneTime).toBe(12),
      );
      await introduce(bob, alice);
      // Bob starts the chat from his phone: Alice's device and his own tablet are added.
      const { groupId } = await bob.client.startDirectChat(alice.userId);
      await alice.client.waitForChat(groupId);
      await bobTablet.waitForChat(groupId);
      await alice.client.sendText(groupId, "to both of Bob's devices");
      await eventually(() => expect(tablet.texts()).toEqual(["to both of Bob's devices"]));
      await eventually(() => expect(bob.seen.texts()).toEqual(["to both of Bob's devices"]));

      // A third device: the phone and the tablet are both told, and race to add it.
      const laptop = await VeilClient.open(clientOptions(t, new MemoryStore()));
      clients.push(laptop);
      const onLaptop = new Recorder(laptop);
      const third = await laptop.linkDevice();
      const phoneDone = bob.client.waitFor("device-linked");
      const tabletDone = bobTablet.waitFor("device-linked");
      await bobTablet.approveDevice(third.offer.uri);
      await third.approved;
      await laptop.start();
      await laptop.waitForChat(groupId);
      const outcomes = [await phoneDone, await tabletDone];
      // Exactly one of them committed the add; the other found it done.
      expect(outcomes.map((o) => o.groups.length).sort()).toEqual([0, 1]);
      await alice.client.sendText(groupId, "to all three");
      await eventually(() => expect(onLaptop.texts()).toEqual(["to all three"]));
      await eventually(() => expect(tablet.texts()).toContain("to all three"));
      await eventually(() => expect(bob.seen.texts()).toContain("to all three"));
      for (const r of [alice.seen, bob.seen, tablet, onLaptop]) expect(r.errors).toEqual([]);
    });

    it("signs in again with its device key when its session is revoked, and carries on", async () => {
      const ann = await join("Ann");
      const ben = await join("Ben");
      await introduce(ann, ben);
      const { groupId } = await ann.client.startDirectChat(ben.userId);
      await ben.client.waitForChat(groupId);
      const sessions = () =>
        ben.client.api.request("GET", "/v1/sessions", { schema: Type.Array(Session) });
      const before = (await sessions()).find((s) => s.current);
      if (!before) throw new Error("no current session");
      const reconnected = ben.client.waitFor("synced");
      await ben.client.api.request("DELETE", `/v1/sessions/${before.id}`, {
        schema: Type.Unknown(),
      });
      await reconnected;
      const after = (await sessions()).find((s) => s.current);
      expect(after?.id).not.toBe(before.id);
      await ann.client.sendText(groupId, "still reaching you");
      await eventually(() => expect(ben.seen.texts()).toEqual(["still reaching you"]));
      expect(ben.seen.errors).toEqual([]);
    });
  });
}
