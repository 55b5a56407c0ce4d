import { randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  createSenderKey,
  decryptWithSenderKey,
  distributionOf,
  encryptWithSenderKey,
  MlsError,
  type MlsErrorCode,
  maxSenderKeyJump,
  maxSkippedSenderKeys,
  type OwnSenderKey,
  type ReceivedSenderKey,
  readDistribution,
  restoreSenderKey,
  type SenderKeyState,
  senderKeyRotation,
  serializeSenderKey,
  shouldRotateSenderKey,
} from "@veil/crypto";
import { parseSenderKeyMessage } from "@veil/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { senderKeyPrimitives } from "../src/sender-key-primitives.js";
import { str, text } from "./helpers/groups.js";

async function expectMlsError(work: Promise<unknown>, code: MlsErrorCode): Promise<void> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected MlsError ${code}`).toBeInstanceOf(MlsError);
  expect((err as MlsError).code).toBe(code);
}

function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (e) {
    return e instanceof MlsError ? e.code : `not an MlsError: ${String(e)}`;
  }
  return "no error";
}

/** An admin's key, a member's copy of it, and `count` messages sent under it. */
async function sent(count: number, groupId = "g_announce") {
  let own = await createSenderKey(groupId);
  const member = readDistribution(distributionOf(own));
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = await encryptWithSenderKey(own, text(`post ${i}`));
    own = r.state;
    messages.push(r.message);
  }
  return { own, member, messages };
}

/** Decrypts `messages` in turn, threading the state; returns the plaintexts and last state. */
async function readAll(state: ReceivedSenderKey, messages: Uint8Array[]) {
  const plaintexts: string[] = [];
  for (const m of messages) {
    const r = await decryptWithSenderKey(state, m);
    plaintexts.push(str(r.plaintext));
    state = r.state;
  }
  return { plaintexts, state };
}

// Signal's sender-key chain, written out again here from the spec, independent of the module.
const chainKeyAfter = (chainKey: Uint8Array, steps: number) => {
  let ck = chainKey;
  for (let i = 0; i < steps; i++) ck = hmac(sha256, ck, Uint8Array.of(2));
  return ck;
};

/**
 * An own key moved to `iteration` (with the matching chain key), through its serialised form:
 * 0x01, kind, group id (u8 length), key id (16), iteration (u32), chain key (32), ...
 */
function ownAt(start: OwnSenderKey, iteration: number, chainKey?: Uint8Array): OwnSenderKey {
  if (start.iteration !== 0) throw new Error("start from iteration 0");
  const bytes = serializeSenderKey(start);
  const at = 3 + (bytes[2] ?? 0) + 16;
  new DataView(bytes.buffer).setUint32(at, iteration);
  bytes.set(chainKey ?? chainKeyAfter(start.chainKey, iteration), at + 4);
  return restoreSenderKey(bytes) as OwnSenderKey;
}

describe("sender keys", () => {
  it("round trip: a member reads every post, in order, and both states move on", async () => {
    const { own, member, messages } = await sent(3);
    expect(own.iteration).toBe(3);
    expect(member.iteration).toBe(0);
    const { plaintexts, state } = await readAll(member, messages);
    expect(plaintexts).toEqual(["post 0", "post 1", "post 2"]);
    expect(state.iteration).toBe(3);
    expect(state.skipped.size).toBe(0);
    expect(member.iteration).toBe(0); // untouched: states are immutable
    const headers = messages.map((m) => parseSenderKeyMessage(m));
    expect(headers.map((h) => h?.iteration)).toEqual([0, 1, 2]);
    for (const h of headers) {
      expect(h?.groupId).toBe("g_announce");
      expect(h?.keyId).toEqual(own.keyId);
    }
  });

  it("is exactly the specified construction: chain, HKDF, AES-256-GCM over the header, Ed25519", async () => {
    const own = await createSenderKey("g_spec");
    const { message } = await encryptWithSenderKey(own, text("checked independently"));
    const parsed = parseSenderKeyMessage(message);
    if (parsed === null) throw new Error("unparsable");
    const ck1 = chainKeyAfter(own.chainKey, 1);
    const seed0 = hmac(sha256, own.chainKey, Uint8Array.of(1));
    const okm = hkdf(sha256, seed0, undefined, text("veil/sender-key/v1/message"), 44);
    const opened = gcm(okm.subarray(0, 32), okm.subarray(32), parsed.header).decrypt(
      parsed.ciphertext,
    );
    expect(str(opened)).toBe("checked independently");
    const signed = message.subarray(0, message.length - 64);
    expect(ed25519.verify(parsed.signature, signed, own.signingPublicKey)).toBe(true);
    const next = await encryptWithSenderKey(ownAt(own, 1, ck1), text("x"));
    expect(parseSenderKeyMessage(next.message)?.iteration).toBe(1);
    // A different construction (no HKDF: the seed as the key) must not open it.
    expect(() => gcm(seed0, okm.subarray(32), parsed.header).decrypt(parsed.ciphertext)).toThrow();
  });

  it("out of order: any order of delivery reads every post exactly once", async () => {
    const { member, messages } = await sent(8);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...messages.keys()], { minLength: 8, maxLength: 8 }),
        async (order) => {
          const { plaintexts, state } = await readAll(
            member,
            order.map((i) => messages[i] as Uint8Array),
          );
          expect(plaintexts).toEqual(order.map((i) => `post ${i}`));
          expect(state.iteration).toBe(8);
          expect(state.skipped.size).toBe(0);
          for (const m of messages)
            await expectMlsError(decryptWithSenderKey(state, m), "duplicate");
        },
      ),
      { numRuns: 15 },
    );
  });

  it("keeps the keys of skipped iterations, and uses each once", async () => {
    const { member, messages } = await sent(5);
    const late = await decryptWithSenderKey(member, messages[3] as Uint8Array);
    expect(late.state.iteration).toBe(4);
    expect([...late.state.skipped.keys()]).toEqual([0, 1, 2]);
    const early = await decryptWithSenderKey(late.state, messages[1] as Uint8Array);
    expect(str(early.plaintext)).toBe("post 1");
    expect([...early.state.skipped.keys()]).toEqual([0, 2]);
    expect(early.state.iteration).toBe(4); // never backward
    await expectMlsError(decryptWithSenderKey(early.state, messages[1] as Uint8Array), "duplicate");
    await expectMlsError(decryptWithSenderKey(early.state, messages[3] as Uint8Array), "duplicate");
  });

  it("refuses replays of an in-order message", async () => {
    const { member, messages } = await sent(2);
    const first = await decryptWithSenderKey(member, messages[0] as Uint8Array);
    await expectMlsError(decryptWithSenderKey(first.state, messages[0] as Uint8Array), "duplicate");
    const second = await decryptWithSenderKey(first.state, messages[1] as Uint8Array);
    expect(str(second.plaintext)).toBe("post 1");
  });

  it("refuses every single-byte change anywhere in a message, and still reads the original", async () => {
    const { member, messages } = await sent(1);
    const message = messages[0] as Uint8Array;
    // "g_announce" is 10 bytes: version 0, length 1, group id 2-11, key id 12-27, then
    // iteration, ciphertext and signature, all covered by the signature.
    const expected = (at: number): string[] =>
      at === 0
        ? ["malformed"]
        : at === 1
          ? ["malformed", "not_for_this_group"] // the group id swallows a key id byte
          : at < 12
            ? ["not_for_this_group"]
            : at < 28
              ? ["sender_key_unknown"]
              : ["decrypt_failed"];
    let checked = 0;
    for (let at = 0; at < message.length; at++) {
      const copy = message.slice();
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      const err = await decryptWithSenderKey(member, copy).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `byte ${at} changed and still accepted`).toBeInstanceOf(MlsError);
      expect(expected(at), `byte ${at}`).toContain((err as MlsError).code);
      checked++;
    }
    expect(checked).toBe(message.length);
    const ok = await decryptWithSenderKey(member, message);
    expect(str(ok.plaintext)).toBe("post 0");
  });

  it("refuses a tampered ciphertext, header or signature, and truncation", async () => {
    const { member, messages } = await sent(1);
    const message = messages[0] as Uint8Array;
    const parsed = parseSenderKeyMessage(message);
    if (parsed === null) throw new Error("unparsable");
    const flip = (at: number) => {
      const copy = message.slice();
      copy[at] = (copy[at] ?? 0) ^ 0x80;
      return copy;
    };
    const iterationByte = parsed.header.length - 1;
    await expectMlsError(
      decryptWithSenderKey(member, flip(parsed.header.length)),
      "decrypt_failed",
    );
    await expectMlsError(decryptWithSenderKey(member, flip(iterationByte)), "decrypt_failed");
    await expectMlsError(decryptWithSenderKey(member, flip(message.length - 1)), "decrypt_failed");
    await expectMlsError(decryptWithSenderKey(member, message.subarray(0, 40)), "malformed");
  });

  it("a member holding the chain key cannot forge a post: only the admin's key signs", async () => {
    const { member } = await sent(0);
    const forger = await createSenderKey("g_announce");
    // The forger's own key with the victim's key id and chain key: the AEAD part is perfect.
    const bytes = serializeSenderKey(forger);
    const fields = serializeSenderKey(member).subarray(2, 2 + 1 + 10 + 16 + 4 + 32);
    bytes.set(fields, 2);
    const forged = restoreSenderKey(bytes) as OwnSenderKey;
    expect(forged.keyId).toEqual(member.keyId);
    expect(forged.chainKey).toEqual(member.chainKey);
    const { message } = await encryptWithSenderKey(forged, text("fake announcement"));
    await expectMlsError(decryptWithSenderKey(member, message), "decrypt_failed");
  });

  it("refuses another group's messages and another key's", async () => {
    const { member } = await sent(0);
    const elsewhere = await sent(1, "g_other");
    await expectMlsError(
      decryptWithSenderKey(member, elsewhere.messages[0] as Uint8Array),
      "not_for_this_group",
    );
    const rotated = await createSenderKey("g_announce");
    const { message } = await encryptWithSenderKey(rotated, text("new key"));
    await expectMlsError(decryptWithSenderKey(member, message), "sender_key_unknown");
  });

  it("a member who got the key at iteration k cannot read earlier posts", async () => {
    const { own, member, messages } = await sent(5);
    const late = readDistribution(distributionOf(own));
    expect(late.iteration).toBe(5);
    for (const m of messages) await expectMlsError(decryptWithSenderKey(late, m), "duplicate");
    const { message } = await encryptWithSenderKey(own, text("after joining"));
    expect(str((await decryptWithSenderKey(late, message)).plaintext)).toBe("after joining");
    // An early member reads them all: the refusal above is the chain, not a broken message.
    expect((await readAll(member, messages)).plaintexts).toHaveLength(5);
  });

  it("after a rotation, the old key's holder reads nothing new", async () => {
    const { member } = await sent(2);
    const next = await createSenderKey("g_announce");
    const stayer = readDistribution(distributionOf(next));
    const { message } = await encryptWithSenderKey(next, text("after removal"));
    await expectMlsError(decryptWithSenderKey(member, message), "sender_key_unknown");
    expect(str((await decryptWithSenderKey(stayer, message)).plaintext)).toBe("after removal");
  });

  it("own states are spent once used: no second message and no distribution from them", async () => {
    const own = await createSenderKey("g_announce");
    const { state } = await encryptWithSenderKey(own, text("one"));
    await expectMlsError(encryptWithSenderKey(own, text("two")), "invalid_argument");
    expect(codeOf(() => distributionOf(own))).toBe("invalid_argument");
    expect(codeOf(() => distributionOf(state))).toBe("no error");
    expect((await encryptWithSenderKey(state, text("two"))).state.iteration).toBe(2);
  });

  it("the sending device's own message comes back as duplicate", async () => {
    const own = await createSenderKey("g_announce");
    const { state, message } = await encryptWithSenderKey(own, text("mine"));
    await expectMlsError(decryptWithSenderKey(state, message), "duplicate");
  });

  it("accepts a jump of 25 000, keeps the newest 2000 skipped keys, refuses more", async () => {
    const start = await createSenderKey("g_jump");
    const member = readDistribution(distributionOf(start));
    const far = ownAt(start, maxSenderKeyJump);
    const { message } = await encryptWithSenderKey(far, text("far"));
    const r = await decryptWithSenderKey(member, message);
    expect(str(r.plaintext)).toBe("far");
    expect(r.state.iteration).toBe(maxSenderKeyJump + 1);
    const kept = [...r.state.skipped.keys()];
    expect(kept).toHaveLength(maxSkippedSenderKeys);
    expect(kept[0]).toBe(maxSenderKeyJump - maxSkippedSenderKeys);
    expect(kept.at(-1)).toBe(maxSenderKeyJump - 1);

    const oldest = await encryptWithSenderKey(
      ownAt(start, maxSenderKeyJump - maxSkippedSenderKeys),
      text("oldest kept"),
    );
    expect(str((await decryptWithSenderKey(r.state, oldest.message)).plaintext)).toBe(
      "oldest kept",
    );
    const dropped = await encryptWithSenderKey(
      ownAt(start, maxSenderKeyJump - maxSkippedSenderKeys - 1),
      text("dropped"),
    );
    await expectMlsError(decryptWithSenderKey(r.state, dropped.message), "duplicate");

    const tooFar = await encryptWithSenderKey(ownAt(start, maxSenderKeyJump + 1), text("x"));
    await expectMlsError(decryptWithSenderKey(member, tooFar.message), "too_far_ahead");
  });

  it("drops the oldest kept keys first when later skips overflow the cache", async () => {
    const start = await createSenderKey("g_evict");
    const member = readDistribution(distributionOf(start));
    const at = async (i: number) =>
      (await encryptWithSenderKey(ownAt(start, i), text(`post ${i}`))).message;
    const first = await decryptWithSenderKey(member, await at(1500));
    expect(first.state.skipped.size).toBe(1500); // 0..1499
    const second = await decryptWithSenderKey(first.state, await at(3000));
    // 1501..2999 joined 0..1499: 2999 keys, of which the oldest 999 go.
    const kept = [...second.state.skipped.keys()];
    expect(kept).toHaveLength(maxSkippedSenderKeys);
    expect(kept[0]).toBe(999);
    expect(kept.includes(1500)).toBe(false);
    await expectMlsError(decryptWithSenderKey(second.state, await at(998)), "duplicate");
    const oldest = await decryptWithSenderKey(second.state, await at(999));
    expect(str(oldest.plaintext)).toBe("post 999");
    expect(str((await decryptWithSenderKey(second.state, await at(2999))).plaintext)).toBe(
      "post 2999",
    );
  });

  it("serialises both kinds of state, and the restored states carry on", async () => {
    const { own, member, messages } = await sent(4);
    const partway = await decryptWithSenderKey(member, messages[3] as Uint8Array);
    for (const state of [own, partway.state, member] as SenderKeyState[]) {
      const restored = restoreSenderKey(serializeSenderKey(state));
      expect(restored).toEqual(state);
      expect(serializeSenderKey(restored)).toEqual(serializeSenderKey(state));
    }
    const ownBack = restoreSenderKey(serializeSenderKey(own)) as OwnSenderKey;
    const heldBack = restoreSenderKey(serializeSenderKey(partway.state)) as ReceivedSenderKey;
    expect([...heldBack.skipped.keys()]).toEqual([0, 1, 2]);
    const { plaintexts } = await readAll(heldBack, [
      messages[2] as Uint8Array,
      (await encryptWithSenderKey(ownBack, text("post 4"))).message,
      messages[0] as Uint8Array,
    ]);
    expect(plaintexts).toEqual(["post 2", "post 4", "post 0"]);
    expect(serializeSenderKey(own).length).toBe(2 + 1 + 10 + 16 + 4 + 32 + 32 + 32 + 8);
    expect(distributionOf(own).length).toBe(1 + 1 + 10 + 16 + 4 + 32 + 32);
  });

  it("refuses serialised states and distributions that are not well formed", async () => {
    const { own, member, messages } = await sent(3);
    const held = (await decryptWithSenderKey(member, messages[2] as Uint8Array)).state;
    const ownBytes = serializeSenderKey(own);
    const heldBytes = serializeSenderKey(held);
    const distribution = distributionOf(own);
    const edit = (bytes: Uint8Array, at: number, value: number) => {
      const copy = bytes.slice();
      copy[at < 0 ? copy.length + at : at] = value;
      return copy;
    };
    const bad = [
      ownBytes.subarray(0, ownBytes.length - 1),
      Uint8Array.of(...ownBytes, 0),
      edit(ownBytes, 0, 2), // format version
      edit(ownBytes, 1, 3), // kind
      edit(ownBytes, 2, 0), // group id length
      edit(ownBytes, -9, (ownBytes.at(-9) ?? 0) ^ 1), // seed no longer matches the public key
      edit(heldBytes, -36, 0xff), // a skipped iteration ahead of the chain
      new Uint8Array(),
    ];
    for (const bytes of bad) expect(codeOf(() => restoreSenderKey(bytes))).toBe("malformed");
    for (const bytes of [
      distribution.subarray(1),
      edit(distribution, 0, 2),
      Uint8Array.of(...distribution, 0),
      edit(distribution, 2, 0xff), // group id not UTF-8
    ]) {
      expect(codeOf(() => readDistribution(bytes))).toBe("malformed");
    }
    // A public key that is not a point on the curve (y = 2 has no x).
    const offCurve = distribution.slice();
    offCurve.set(Uint8Array.of(2, ...new Uint8Array(31)), offCurve.length - 32);
    expect(codeOf(() => readDistribution(offCurve))).toBe("malformed");
    expect(codeOf(() => readDistribution(distribution))).toBe("no error");
    expect(codeOf(() => restoreSenderKey(heldBytes))).toBe("no error");
  });

  it("property: hostile bytes meet only MlsError, and the state still reads afterwards", async () => {
    const { member, messages } = await sent(1);
    const message = messages[0] as Uint8Array;
    const serialized = serializeSenderKey(member);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
              minLength: 1,
              maxLength: 3,
            })
            .map((flips) => {
              const copy = message.slice();
              for (const [at, x] of flips)
                copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ x;
              return copy;
            }),
        ),
        async (bytes) => {
          const outcome = await decryptWithSenderKey(member, bytes).then(
            () => "accepted",
            (e: unknown) => e,
          );
          expect(outcome).toBeInstanceOf(MlsError);
          refused++;
          const restore = codeOf(() => restoreSenderKey(bytes));
          const distribution = codeOf(() => readDistribution(bytes));
          expect(["malformed", "no error"]).toContain(restore);
          expect(["malformed", "no error"]).toContain(distribution);
        },
      ),
      { numRuns: 200 },
    );
    expect(refused).toBe(200);
    expect(str((await decryptWithSenderKey(member, message)).plaintext)).toBe("post 0");
    expect(codeOf(() => restoreSenderKey(serialized))).toBe("no error");
  });

  it("refuses arguments that are not what the interface takes", async () => {
    await expectMlsError(createSenderKey(""), "invalid_argument");
    await expectMlsError(createSenderKey("g".repeat(65)), "invalid_argument");
    const { own, member } = await sent(0);
    await expectMlsError(
      encryptWithSenderKey(member as unknown as OwnSenderKey, text("x")),
      "invalid_argument",
    );
    await expectMlsError(
      encryptWithSenderKey(own, "x" as unknown as Uint8Array),
      "invalid_argument",
    );
    expect(codeOf(() => distributionOf(member as unknown as OwnSenderKey))).toBe(
      "invalid_argument",
    );
    const usedUp = ownAt(own, 0xffff_ffff, new Uint8Array(32));
    await expectMlsError(encryptWithSenderKey(usedUp, text("x")), "invalid_argument");
  });

  it("says when an own key is due for rotation: 7 days or 10 000 messages", async () => {
    const own = await createSenderKey("g_announce");
    expect(shouldRotateSenderKey(own)).toBe(false);
    expect(shouldRotateSenderKey(own, own.createdAt + senderKeyRotation.maxAgeMs - 1)).toBe(false);
    expect(shouldRotateSenderKey(own, own.createdAt + senderKeyRotation.maxAgeMs)).toBe(true);
    expect(shouldRotateSenderKey(ownAt(own, 9_999))).toBe(false);
    expect(shouldRotateSenderKey(ownAt(own, 10_000))).toBe(true);
  });
});

describe("sender-key primitives: node:crypto and noble agree", () => {
  it("runs on node:crypto here", async () => {
    expect((await senderKeyPrimitives()).name).toBe("node");
    expect((await senderKeyPrimitives("default")).name).toBe("noble");
  });

  it("property: each opens what the other seals, and verifies what the other signs", async () => {
    const node = await senderKeyPrimitives("fast");
    const noble = await senderKeyPrimitives("default");
    const nodeKey = node.generateSigningKey();
    const nobleKey = noble.generateSigningKey();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, nonce, aad, plaintext) => {
          const sealed = node.seal(key, nonce, aad, plaintext);
          expect(noble.seal(key, nonce, aad, plaintext)).toEqual(sealed);
          expect(noble.open(key, nonce, aad, sealed)).toEqual(plaintext);
          expect(node.open(key, nonce, aad, sealed)).toEqual(plaintext);
          const tampered = sealed.slice();
          tampered[0] = (tampered[0] ?? 0) ^ 1;
          expect(node.open(key, nonce, aad, tampered)).toBeUndefined();
          expect(noble.open(key, nonce, aad, tampered)).toBeUndefined();
          for (const { seed, publicKey } of [nodeKey, nobleKey]) {
            const signature = node.sign(seed, plaintext);
            expect(noble.sign(seed, plaintext)).toEqual(signature); // Ed25519 is deterministic
            expect(node.verify(publicKey, plaintext, signature)).toBe(true);
            expect(noble.verify(publicKey, plaintext, signature)).toBe(true);
            const wrong = signature.slice();
            wrong[5] = (wrong[5] ?? 0) ^ 1;
            expect(node.verify(publicKey, plaintext, wrong)).toBe(false);
            expect(noble.verify(publicKey, plaintext, wrong)).toBe(false);
          }
        },
      ),
      { numRuns: 50 },
    );
    expect(node.verify(randomBytes(31), text("x"), new Uint8Array(64))).toBe(false);
    expect(noble.verify(randomBytes(31), text("x"), new Uint8Array(64))).toBe(false);
  });
});
