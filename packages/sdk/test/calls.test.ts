import { type CallEvent, MemoryStore, parseEnvelope, VeilClient } from "@veil/sdk/node";
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
  startTestServer,
  storedText,
  type TestServer,
} from "./helpers/harness.js";

/** Every table of the server: what it stored, as text, bytes included. */
const serverTables = [
  "users",
  "devices",
  "sessions",
  "key_packages",
  "groups",
  "direct_chats",
  "group_members",
  "group_log",
  "device_cursors",
  "mailbox",
  "blobs",
  "device_links",
  "pending_removals",
  "welcomes",
] as const;

function callsOf(client: VeilClient): CallEvent[] {
  const events: CallEvent[] = [];
  client.on("call", (e) => events.push(e));
  return events;
}

const refused = (e: unknown) => isVeilError(e, "invalid_argument");
const deviceOf = (p: Person): string => p.client.deviceId as string;

describe("call envelopes", () => {
  const parse = (value: object) =>
    parseEnvelope(new TextEncoder().encode(JSON.stringify(value))).kind;
  const base = { v: 1, type: "call", id: "m_12345678", ts: 1, callId: "c_12345678" };
  const fingerprints = [{ algorithm: "sha-256", value: "AB:CD" }];

  it("accepts each action with its payload and refuses extra fields, other actions and oversized parts", () => {
    expect(parse({ ...base, action: "ring", media: "audio" })).toBe("envelope");
    expect(parse({ ...base, action: "hangup" })).toBe("envelope");
    expect(parse({ ...base, action: "offer", to: "d_1", sdp: "v=0", fingerprints })).toBe(
      "envelope",
    );
    const ice = {
      ...base,
      action: "ice",
      candidate: "candidate:1",
      sdpMid: null,
      sdpMLineIndex: 0,
    };
    expect(parse({ ...ice, to: "d_1" })).toBe("envelope");
    expect(parse({ ...base, action: "ring", media: "video", group: true })).toBe("envelope");
    // A signal is for one device: without `to` it is refused.
    expect(parse(ice)).toBe("invalid");
    expect(parse({ ...base, action: "offer", sdp: "v=0", fingerprints })).toBe("invalid");
    expect(parse({ ...base, action: "ring", media: "screen" })).toBe("invalid");
    expect(parse({ ...base, action: "ring" })).toBe("invalid");
    expect(parse({ ...base, action: "hangup", sdp: "v=0" })).toBe("invalid");
    expect(parse({ ...base, action: "transfer" })).toBe("invalid");
    expect(parse({ ...base, callId: "c", action: "accept" })).toBe("invalid");
    const signal = { ...base, to: "d_1", sdp: "v=0" };
    expect(parse({ ...signal, action: "answer", fingerprints: [] })).toBe("invalid");
    expect(parse({ ...signal, action: "answer", sdp: "x".repeat(32_769), fingerprints })).toBe(
      "invalid",
    );
    const notHex = [{ algorithm: "sha-256", value: "not hex" }];
    expect(parse({ ...signal, action: "offer", fingerprints: notHex })).toBe("invalid");
    const nine = Array(9).fill(fingerprints[0]);
    expect(parse({ ...signal, action: "offer", fingerprints: nine })).toBe("invalid");
    expect(parse({ ...signal, to: "", action: "offer", fingerprints })).toBe("invalid");
  });
});

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK call signalling [${backend}]`, () => {
    let t: TestServer;
    const clients: VeilClient[] = [];
    const join = async (name: string, ringTimeoutMs?: number): Promise<Person> => {
      const p = await person(t, name, {
        ...(ringTimeoutMs ? { client: { callRingTimeoutMs: ringTimeoutMs } } : {}),
      });
      clients.push(p.client);
      return p;
    };

    /** Two people with a direct chat both their devices are in. */
    const chatting = async (a: string, b: string, ringTimeoutMs?: number) => {
      const caller = await join(a, ringTimeoutMs);
      const callee = await join(b, ringTimeoutMs);
      await introduce(caller, callee);
      const { groupId } = await caller.client.startDirectChat(callee.userId);
      await callee.client.waitForChat(groupId);
      return { caller, callee, groupId };
    };

    /** Links a second device to `owner` and brings it into the chat, as devices.test.ts does. */
    const linkLaptop = async (owner: Person, groupId: string): Promise<VeilClient> => {
      const laptop = await VeilClient.open(clientOptions(t, new MemoryStore()));
      clients.push(laptop);
      const { offer, approved } = await laptop.linkDevice({ deviceName: "laptop" });
      const linked = owner.client.waitFor("device-linked");
      await owner.client.approveDevice(offer.uri);
      await approved;
      await laptop.start();
      await linked;
      await laptop.waitForChat(groupId);
      return laptop;
    };

    const logLines: string[] = [];
    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits, logLines });
    });
    afterAll(async () => {
      for (const c of clients) await c.stop();
      await t?.close();
    });

    it("rings every callee device, stops the other on accept, relays offer/answer/ice, and keeps SDP off the server", async () => {
      const { caller: alice, callee: bob, groupId } = await chatting("Alice", "Bob");
      const laptop = await linkLaptop(bob, groupId);
      await alice.client.sendText(groupId, "before the call");
      await eventually(() => expect(bob.seen.texts()).toEqual(["before the call"]));

      const aliceSaw = callsOf(alice.client);
      const bobSaw = callsOf(bob.client);
      const laptopSaw = callsOf(laptop);

      const callId = await alice.client.startCall(groupId, { media: "video" });
      expect(callId).toMatch(/^c_[A-Za-z0-9_-]{22}$/);
      const ringing = expect.objectContaining({
        groupId,
        callId,
        action: "ring",
        media: "video",
        fromUserId: alice.userId,
        fromDeviceId: alice.client.deviceId,
        fromMe: false,
        state: "ringing",
      });
      await eventually(() => expect(bobSaw).toEqual([ringing]));
      await eventually(() => expect(laptopSaw).toEqual([ringing]));
      // Only the callee's devices answer; the caller cannot accept its own call.
      await expect(alice.client.acceptCall(callId)).rejects.toSatisfy(refused);

      // Bob answers on his phone: the laptop hears of it from Bob himself and stops ringing.
      await bob.client.acceptCall(callId);
      await eventually(() =>
        expect(laptopSaw[1]).toEqual(
          expect.objectContaining({
            callId,
            action: "accept",
            fromMe: true,
            fromUserId: bob.userId,
            fromDeviceId: bob.client.deviceId,
            state: "ended",
          }),
        ),
      );
      await eventually(() =>
        expect(aliceSaw).toEqual([
          expect.objectContaining({ callId, action: "accept", fromMe: false, state: "active" }),
        ]),
      );
      await expect(laptop.acceptCall(callId)).rejects.toSatisfy(refused);

      // Offer, answer and ICE travel as live signals, fingerprints intact.
      const offerSdp = `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=offer-${callId}\r\n`;
      const answerSdp = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=answer-${callId}\r\n`;
      const aliceFingerprints = [
        { algorithm: "sha-256", value: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89" },
      ];
      const bobFingerprints = [
        { algorithm: "sha-256", value: "10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE" },
      ];
      const candidate = `candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx ${callId}`;
      await alice.client.sendCallSignal(callId, {
        action: "offer",
        to: deviceOf(bob),
        sdp: offerSdp,
        fingerprints: aliceFingerprints,
      });
      await alice.client.sendCallSignal(callId, {
        action: "ice",
        to: deviceOf(bob),
        candidate,
        sdpMid: "0",
        sdpMLineIndex: 0,
      });
      await eventually(() =>
        expect(bobSaw.slice(1)).toEqual([
          expect.objectContaining({
            callId,
            action: "offer",
            sdp: offerSdp,
            fingerprints: aliceFingerprints,
            fromUserId: alice.userId,
            state: "active",
          }),
          expect.objectContaining({ action: "ice", candidate, sdpMid: "0", sdpMLineIndex: 0 }),
        ]),
      );
      await bob.client.sendCallSignal(callId, {
        action: "answer",
        to: deviceOf(alice),
        sdp: answerSdp,
        fingerprints: bobFingerprints,
      });
      await eventually(() =>
        expect(aliceSaw[1]).toEqual(
          expect.objectContaining({
            callId,
            action: "answer",
            sdp: answerSdp,
            fingerprints: bobFingerprints,
            fromDeviceId: bob.client.deviceId,
          }),
        ),
      );
      // A signal the schema refuses never leaves.
      await expect(
        bob.client.sendCallSignal(callId, {
          action: "answer",
          to: deviceOf(alice),
          sdp: answerSdp,
          fingerprints: [],
        }),
      ).rejects.toSatisfy(refused);

      // Alice hangs up: both of Bob's devices see the call end; it is over on both sides.
      await alice.client.hangUp(callId);
      const hungUp = expect.objectContaining({ callId, action: "hangup", state: "ended" });
      await eventually(() => expect(bobSaw.at(-1)).toEqual(hungUp));
      await eventually(() => expect(laptopSaw.at(-1)).toEqual(hungUp));
      // Signals are for one device: Bob's laptop, out of the call, acted on none of them.
      expect(laptopSaw.map((e) => e.action)).toEqual(["ring", "accept", "hangup"]);
      await expect(bob.client.hangUp(callId)).rejects.toSatisfy(refused);
      await expect(alice.client.hangUp(callId)).rejects.toSatisfy(refused);

      const answered = (direction: "outgoing" | "incoming") => [
        {
          callId,
          media: "video",
          direction,
          outcome: "answered",
          startedAt: expect.any(Number),
          durationMs: expect.any(Number),
          group: false,
        },
      ];
      const aliceHistory = await alice.client.callHistory(groupId);
      expect(aliceHistory).toEqual(answered("outgoing"));
      await eventually(async () =>
        expect(await bob.client.callHistory(groupId)).toEqual(answered("incoming")),
      );
      await eventually(async () =>
        expect(await laptop.callHistory(groupId)).toEqual(answered("incoming")),
      );
      // Both sides derive the same call from the same stored actions.
      const bobHistory = await bob.client.callHistory(groupId);
      expect(bobHistory[0]?.durationMs).toBe(aliceHistory[0]?.durationMs);
      expect(bobHistory[0]?.startedAt).toBe(aliceHistory[0]?.startedAt);
      // Call actions are not chat messages.
      expect((await bob.client.messages(groupId)).map((m) => m.content)).toEqual([
        { type: "text", text: "before the call", replyTo: null },
      ]);
      expect((await alice.client.messages(groupId)).map((m) => m.content.type)).toEqual(["text"]);
      expect(bob.seen.messages.map((m) => m.content.type)).toEqual(["text"]);

      // The server holds ciphertext only: no SDP, candidate or fingerprint in any row.
      const db = t.server.context.database.db;
      const stored = await storedText(t, serverTables);
      // What the server logged too, every request and frame at trace level.
      const dump = [stored, ...logLines].join("\n");
      expect(logLines.length).toBeGreaterThan(0);
      const logRows = await db
        .selectFrom("group_log")
        .selectAll()
        .where("group_id", "=", groupId)
        .where("kind", "=", "application")
        .execute();
      // Sanity: the dump does hold this group's rows (ring, accept and hangup among them).
      expect(dump).toContain(groupId);
      expect(logRows.length).toBeGreaterThanOrEqual(4);
      for (const secret of [
        offerSdp,
        answerSdp,
        `offer-${callId}`,
        `answer-${callId}`,
        candidate,
        "typ srflx",
        aliceFingerprints[0]?.value ?? "",
        bobFingerprints[0]?.value ?? "",
        "before the call",
        '"type":"call"',
      ]) {
        expect(dump).not.toContain(secret);
      }
    });

    it("records declined, busy and cancelled calls; a decline elsewhere stops the other device", async () => {
      const { caller: alice, callee: bob, groupId } = await chatting("Alice", "Bob");
      const laptop = await linkLaptop(bob, groupId);
      const aliceSaw = callsOf(alice.client);
      const bobSaw = callsOf(bob.client);
      const laptopSaw = callsOf(laptop);
      const ringOn = (events: CallEvent[], callId: string) =>
        eventually(() =>
          expect(events).toContainEqual(
            expect.objectContaining({ callId, action: "ring", state: "ringing" }),
          ),
        );

      // Declined on the laptop: the phone stops ringing, Alice hears the decline.
      const declined = await alice.client.startCall(groupId, { media: "audio" });
      await ringOn(bobSaw, declined);
      await ringOn(laptopSaw, declined);
      await laptop.declineCall(declined);
      await eventually(() =>
        expect(bobSaw).toContainEqual(
          expect.objectContaining({
            callId: declined,
            action: "decline",
            fromMe: true,
            fromDeviceId: laptop.deviceId,
            state: "ended",
          }),
        ),
      );
      await eventually(() =>
        expect(aliceSaw).toContainEqual(
          expect.objectContaining({ callId: declined, action: "decline", state: "ended" }),
        ),
      );
      await expect(bob.client.acceptCall(declined)).rejects.toSatisfy(refused);

      const busy = await alice.client.startCall(groupId, { media: "video" });
      await ringOn(bobSaw, busy);
      await bob.client.declineCall(busy, { busy: true });
      await eventually(() =>
        expect(aliceSaw).toContainEqual(expect.objectContaining({ callId: busy, action: "busy" })),
      );

      const cancelled = await alice.client.startCall(groupId, { media: "audio" });
      await ringOn(laptopSaw, cancelled);
      await alice.client.cancelCall(cancelled);
      await eventually(() =>
        expect(laptopSaw).toContainEqual(
          expect.objectContaining({ callId: cancelled, action: "cancel", state: "ended" }),
        ),
      );

      const entry = (
        callId: string,
        media: string,
        direction: string,
        outcome: string,
      ): Record<string, unknown> => ({
        callId,
        media,
        direction,
        outcome,
        startedAt: expect.any(Number),
        group: false,
      });
      const expected = (direction: string) => [
        entry(declined, "audio", direction, "declined"),
        entry(busy, "video", direction, "busy"),
        entry(cancelled, "audio", direction, "cancelled"),
      ];
      await eventually(async () =>
        expect(await alice.client.callHistory(groupId)).toEqual(expected("outgoing")),
      );
      await eventually(async () =>
        expect(await bob.client.callHistory(groupId)).toEqual(expected("incoming")),
      );
      await eventually(async () =>
        expect(await laptop.callHistory(groupId)).toEqual(expected("incoming")),
      );
      expect(await bob.client.messages(groupId)).toEqual([]);
    });

    /** `names.length` people in one group made by the first. */
    const grouped = async (names: string[]) => {
      const people = await Promise.all(names.map((n) => join(n)));
      const [owner, ...others] = people as [Person, ...Person[]];
      for (const other of others) await introduce(owner, other);
      const { groupId } = await owner.client.createGroup(others.map((p) => p.userId));
      for (const p of others) await p.client.waitForChat(groupId);
      return { people, groupId };
    };
    const device = (p: Person) => ({ userId: p.userId, deviceId: deviceOf(p) });
    const sameMembers = (a: { deviceId: string }[], b: { deviceId: string }[]) =>
      expect(a.map((m) => m.deviceId).sort()).toEqual(b.map((m) => m.deviceId).sort());

    it("runs a group call as a mesh: each joins, signals reach one device, and the media key changes when a member is removed", async () => {
      const { people, groupId } = await grouped(["Ann", "Ben", "Cat", "Dan"]);
      const [ann, ben, cat, dan] = people as [Person, Person, Person, Person];
      const saw = new Map(people.map((p) => [p, callsOf(p.client)]));
      const seenBy = (p: Person) => saw.get(p) as CallEvent[];

      const callId = await ann.client.startCall(groupId, { media: "video" });
      for (const p of [ben, cat, dan]) {
        await eventually(() =>
          expect(seenBy(p)).toEqual([
            expect.objectContaining({ action: "ring", group: true, state: "ringing" }),
          ]),
        );
      }
      // Ben joins; Dan declines, which stops only his ringing; Cat joins later.
      await ben.client.acceptCall(callId);
      await dan.client.declineCall(callId);
      await eventually(() =>
        expect(seenBy(ann)).toContainEqual(
          expect.objectContaining({ action: "decline", state: "active" }),
        ),
      );
      expect(seenBy(cat).at(-1)).toEqual(expect.objectContaining({ state: "ringing" }));
      await cat.client.acceptCall(callId);
      for (const p of [ann, ben, cat]) {
        await eventually(async () =>
          sameMembers(await p.client.callParticipants(callId), [ann, ben, cat].map(device)),
        );
      }
      expect(await dan.client.callParticipants(callId)).toHaveLength(3);
      await expect(dan.client.acceptCall(callId)).rejects.toSatisfy(refused);

      // A signal names one device: Ben gets Ann's offer, Cat (also in the call) does not.
      await ann.client.sendCallSignal(callId, {
        action: "offer",
        to: deviceOf(ben),
        sdp: "v=0\r\ns=for-ben\r\n",
        fingerprints: [{ algorithm: "sha-256", value: "AB:CD" }],
      });
      await eventually(() =>
        expect(seenBy(ben).at(-1)).toEqual(
          expect.objectContaining({ action: "offer", fromDeviceId: ann.client.deviceId }),
        ),
      );
      await cat.client.sendText(groupId, "after the offer");
      await eventually(() => expect(ben.seen.texts(groupId)).toContain("after the offer"));
      await eventually(() => expect(ann.seen.texts(groupId)).toContain("after the offer"));
      expect(seenBy(cat).map((e) => e.action)).not.toContain("offer");

      // Every member derives the same media key from the MLS exporter.
      const keys = await Promise.all([ann, ben, cat].map((p) => p.client.callMediaKey(callId)));
      for (const key of keys) {
        expect(key.secret).toHaveLength(32);
        expect(key).toEqual(keys[0]);
      }

      // Ann removes Cat from the group: a commit, so a new epoch and a new key Cat cannot derive.
      await ann.client.removeMembers(groupId, [cat.userId]);
      // The server tells the removed device, which catches up and finds the commit at once.
      await eventually(() =>
        expect(cat.seen.membership).toContainEqual(
          expect.objectContaining({ groupId, change: "left" }),
        ),
      );
      await eventually(() =>
        expect(ben.seen.membership).toContainEqual(
          expect.objectContaining({ groupId, change: "members-removed" }),
        ),
      );
      const [annKey, benKey] = await Promise.all(
        [ann, ben].map((p) => p.client.callMediaKey(callId)),
      );
      expect(annKey).toEqual(benKey);
      expect(annKey?.epoch).toBeGreaterThan(keys[0]?.epoch ?? Number.POSITIVE_INFINITY);
      expect(Buffer.from(annKey?.secret ?? []).equals(Buffer.from(keys[0]?.secret ?? []))).toBe(
        false,
      );
      await expect(cat.client.callMediaKey(callId)).rejects.toSatisfy((e) =>
        isVeilError(e, "group_left"),
      );
      // A removed device is no longer a participant, for those who remain.
      for (const p of [ann, ben]) {
        sameMembers(await p.client.callParticipants(callId), [ann, ben].map(device));
      }

      // Ben hangs up: Ann is alone, so the call is over for her too.
      await ben.client.hangUp(callId);
      await eventually(() =>
        expect(seenBy(ann).at(-1)).toEqual(
          expect.objectContaining({ action: "hangup", state: "ended", participants: [] }),
        ),
      );
      const outcome = async (p: Person) => (await p.client.callHistory(groupId))[0]?.outcome;
      expect(await outcome(ann)).toBe("answered");
      expect((await ann.client.callHistory(groupId))[0]).toEqual(
        expect.objectContaining({ group: true, durationMs: expect.any(Number) }),
      );
      await eventually(async () => expect(await outcome(ben)).toBe("answered"));
      await eventually(async () => expect(await outcome(dan)).toBe("declined"));
    });

    it("takes at most 8 devices into one call", async () => {
      const names = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"];
      const { people, groupId } = await grouped(names);
      const [caller, ...rest] = people as [Person, ...Person[]];
      const callId = await caller.client.startCall(groupId, { media: "audio" });
      const ringing = async (p: Person) =>
        eventually(async () =>
          expect((await p.client.callParticipants(callId)).length).toBeGreaterThan(0),
        );
      for (const p of rest.slice(0, 7)) {
        await ringing(p);
        await p.client.acceptCall(callId);
      }
      const last = rest[7] as Person;
      await eventually(async () =>
        expect(await last.client.callParticipants(callId)).toHaveLength(8),
      );
      await expect(last.client.acceptCall(callId)).rejects.toSatisfy((e) =>
        isVeilError(e, "call_full"),
      );
    }, 60_000);

    it("a ring the callee's device finds after the timeout is a missed call on both sides", async () => {
      const { caller: carol, callee: dave, groupId } = await chatting("Carol", "Dave", 200);
      const carolSaw = callsOf(carol.client);
      const daveSaw = callsOf(dave.client);

      await dave.client.stop();
      const callId = await carol.client.startCall(groupId, { media: "audio" });
      // Carol's device gives up ringing on its own, after the timeout.
      await eventually(() =>
        expect(carolSaw).toEqual([
          expect.objectContaining({ callId, action: "missed", fromMe: true, state: "ended" }),
        ]),
      );
      await dave.client.start();
      // Dave's device catches up: the ring is already stale, so it never rings.
      await eventually(() =>
        expect(daveSaw).toEqual([
          expect.objectContaining({ callId, action: "ring", media: "audio", state: "ended" }),
          expect.objectContaining({ callId, action: "missed", fromMe: false, state: "ended" }),
        ]),
      );
      await expect(dave.client.acceptCall(callId)).rejects.toSatisfy(refused);
      const missed = (direction: string) => [
        {
          callId,
          media: "audio",
          direction,
          outcome: "missed",
          startedAt: expect.any(Number),
          group: false,
        },
      ];
      expect(await carol.client.callHistory(groupId)).toEqual(missed("outgoing"));
      expect(await dave.client.callHistory(groupId)).toEqual(missed("incoming"));
    });
  });
}
