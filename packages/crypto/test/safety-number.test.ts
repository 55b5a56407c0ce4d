import { compareSafetyNumberQr, safetyNumber, safetyNumberQr } from "@veil/crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex, readVectors, vectorsAvailable } from "./helpers/vectors.js";

interface SafetyNumberVectors {
  vectors: Array<{
    iterations: number;
    version: number;
    localId: string;
    localKeyHex: string;
    remoteId: string;
    remoteKeyHex: string;
    displayable: string;
  }>;
}

const available = vectorsAvailable("safety-number.json");

describe.skipIf(!available)("safety numbers: shared vector", () => {
  it("reproduces every vector exactly, from either side", () => {
    const { vectors } = readVectors<SafetyNumberVectors>("safety-number.json");
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) {
      const local = { id: v.localId, key: hex(v.localKeyHex) };
      const remote = { id: v.remoteId, key: hex(v.remoteKeyHex) };
      const args = { iterations: v.iterations };
      const mine = safetyNumber({
        localId: local.id,
        localKey: local.key,
        remoteId: remote.id,
        remoteKey: remote.key,
        ...args,
      });
      const theirs = safetyNumber({
        localId: remote.id,
        localKey: remote.key,
        remoteId: local.id,
        remoteKey: local.key,
        ...args,
      });
      expect(mine).toBe(v.displayable);
      expect(theirs).toBe(v.displayable);
    }
  });
});

const side = fc.record({
  id: fc.string({ minLength: 1, maxLength: 24 }),
  key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
});
// Few iterations keep 100 runs fast; the vector above covers the full count.
const iterations = fc.integer({ min: 1, max: 8 });

describe("safety numbers: properties", () => {
  it("are 60 digits and the same from both sides", () => {
    fc.assert(
      fc.property(side, side, iterations, (a, b, n) => {
        const ab = safetyNumber({
          localId: a.id,
          localKey: a.key,
          remoteId: b.id,
          remoteKey: b.key,
          iterations: n,
        });
        const ba = safetyNumber({
          localId: b.id,
          localKey: b.key,
          remoteId: a.id,
          remoteKey: a.key,
          iterations: n,
        });
        expect(ab).toMatch(/^\d{60}$/);
        expect(ba).toBe(ab);
      }),
    );
  });

  it("change when either key changes", () => {
    fc.assert(
      fc.property(
        side,
        side,
        iterations,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (a, b, n, at, flip) => {
          const base = safetyNumber({
            localId: a.id,
            localKey: a.key,
            remoteId: b.id,
            remoteKey: b.key,
            iterations: n,
          });
          const aKey = a.key.slice();
          aKey[at % aKey.length] = (aKey[at % aKey.length] ?? 0) ^ flip;
          const bKey = b.key.slice();
          bKey[at % bKey.length] = (bKey[at % bKey.length] ?? 0) ^ flip;
          expect(
            safetyNumber({
              localId: a.id,
              localKey: aKey,
              remoteId: b.id,
              remoteKey: b.key,
              iterations: n,
            }),
          ).not.toBe(base);
          expect(
            safetyNumber({
              localId: a.id,
              localKey: a.key,
              remoteId: b.id,
              remoteKey: bKey,
              iterations: n,
            }),
          ).not.toBe(base);
        },
      ),
    );
  });

  it("change when a key changes at the full iteration count", () => {
    const key = new Uint8Array(33).fill(5);
    const other = key.slice();
    other[32] = 6;
    const a = safetyNumber({ localId: "u_a", localKey: key, remoteId: "u_b", remoteKey: key });
    const b = safetyNumber({ localId: "u_a", localKey: key, remoteId: "u_b", remoteKey: other });
    expect(a).not.toBe(b);
  });
});

describe("safety number QR payloads", () => {
  const alice = { id: "u_alice", key: Uint8Array.from({ length: 33 }, (_, i) => i) };
  const bob = { id: "u_bob", key: Uint8Array.from({ length: 33 }, (_, i) => 255 - i) };
  const aliceView = safetyNumberQr({
    localId: alice.id,
    localKey: alice.key,
    remoteId: bob.id,
    remoteKey: bob.key,
    iterations: 3,
  });
  const bobView = safetyNumberQr({
    localId: bob.id,
    localKey: bob.key,
    remoteId: alice.id,
    remoteKey: alice.key,
    iterations: 3,
  });

  it("is a version byte and two 32-byte fingerprints", () => {
    expect(aliceView.length).toBe(65);
    expect(aliceView[0]).toBe(1);
    expect(aliceView.subarray(1, 33)).toEqual(bobView.subarray(33, 65));
  });

  it("matches the other side's payload, and nothing else", () => {
    expect(compareSafetyNumberQr(bobView, aliceView)).toBe("match");
    expect(compareSafetyNumberQr(aliceView, bobView)).toBe("match");
    expect(compareSafetyNumberQr(aliceView, aliceView)).toBe("mismatch");
    const mallory = safetyNumberQr({
      localId: bob.id,
      localKey: alice.key,
      remoteId: alice.id,
      remoteKey: alice.key,
      iterations: 3,
    });
    expect(compareSafetyNumberQr(mallory, aliceView)).toBe("mismatch");
    expect(compareSafetyNumberQr(Uint8Array.of(2, ...bobView.subarray(1)), aliceView)).toBe(
      "unsupported_version",
    );
    expect(compareSafetyNumberQr(bobView.subarray(0, 64), aliceView)).toBe("malformed");
    expect(compareSafetyNumberQr(new Uint8Array(), aliceView)).toBe("malformed");
  });

  it("property: any changed byte of a fingerprint is a mismatch", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const tampered = bobView.slice();
        tampered[at] = (tampered[at] ?? 0) ^ flip;
        expect(compareSafetyNumberQr(tampered, aliceView)).toBe("mismatch");
      }),
    );
  });
});
