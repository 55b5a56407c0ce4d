// @veil/protocol's sender-key layout. Its tests live here: the protocol package has no test
// folder, and these need nothing but the protocol itself.
import {
  encodeSenderKeyHeader,
  maxSenderKeyIteration,
  parseSenderKeyMessage,
  type SenderKeyHeader,
} from "@veil/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const keyId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const tag = new Uint8Array(16).fill(0xaa);
const signature = new Uint8Array(64).fill(0x55);

/** A message of the layout with an arbitrary ciphertext and signature: no crypto needed. */
const messageOf = (header: SenderKeyHeader, ciphertext: Uint8Array, sig = signature) =>
  Uint8Array.from([...encodeSenderKeyHeader(header), ...ciphertext, ...sig]);

const headers = fc.record({
  groupId: fc
    .oneof(
      fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 64 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 16 }),
    )
    .filter((s) => {
      const n = new TextEncoder().encode(s).length;
      return n >= 1 && n <= 64;
    }),
  keyId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  iteration: fc.integer({ min: 0, max: maxSenderKeyIteration }),
});

describe("sender-key wire layout", () => {
  it("encodes the header byte for byte: version, group id, key id, big-endian iteration", () => {
    const header = encodeSenderKeyHeader({ groupId: "g_abc", keyId, iteration: 0x01020304 });
    expect([...header]).toEqual([1, 5, 0x67, 0x5f, 0x61, 0x62, 0x63, ...keyId, 1, 2, 3, 4]);
  });

  it("splits a message into header, ciphertext and signature", () => {
    const ciphertext = Uint8Array.from([9, 8, 7, ...tag]);
    const bytes = messageOf({ groupId: "g_abc", keyId, iteration: 7 }, ciphertext);
    const parsed = parseSenderKeyMessage(bytes);
    expect(parsed).not.toBeNull();
    expect(parsed?.groupId).toBe("g_abc");
    expect(parsed?.keyId).toEqual(keyId);
    expect(parsed?.iteration).toBe(7);
    expect(parsed?.header.length).toBe(1 + 1 + 5 + 16 + 4);
    expect(parsed?.ciphertext).toEqual(ciphertext);
    expect(parsed?.signature).toEqual(signature);
  });

  it("property: parse(encode(header) || ciphertext || signature) gives them back", () => {
    fc.assert(
      fc.property(
        headers,
        fc.uint8Array({ minLength: 16, maxLength: 300 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (header, ciphertext, sig) => {
          const parsed = parseSenderKeyMessage(messageOf(header, ciphertext, sig));
          expect(parsed).not.toBeNull();
          expect(parsed?.groupId).toBe(header.groupId);
          expect(parsed?.keyId).toEqual(header.keyId);
          expect(parsed?.iteration).toBe(header.iteration);
          expect(parsed?.header).toEqual(encodeSenderKeyHeader(header));
          expect(parsed?.ciphertext).toEqual(ciphertext);
          expect(parsed?.signature).toEqual(sig);
        },
      ),
    );
  });

  it("answers null for every malformed shape", () => {
    const good = messageOf({ groupId: "g_abc", keyId, iteration: 1 }, tag);
    expect(parseSenderKeyMessage(good)).not.toBeNull(); // the shortest message: a bare tag
    const withByte = (at: number, value: number) => {
      const copy = good.slice();
      copy[at] = value;
      return copy;
    };
    expect(parseSenderKeyMessage(good.subarray(0, good.length - 1))).toBeNull(); // tag < 16
    expect(parseSenderKeyMessage(new Uint8Array())).toBeNull();
    expect(parseSenderKeyMessage(Uint8Array.of(1))).toBeNull();
    expect(parseSenderKeyMessage(withByte(0, 0))).toBeNull(); // version 0
    expect(parseSenderKeyMessage(withByte(0, 2))).toBeNull(); // version 2
    expect(parseSenderKeyMessage(withByte(1, 0))).toBeNull(); // empty group id
    expect(parseSenderKeyMessage(withByte(1, 65))).toBeNull(); // group id over 64
    expect(parseSenderKeyMessage(withByte(1, 20))).toBeNull(); // runs into the tag
    expect(parseSenderKeyMessage(withByte(2, 0xff))).toBeNull(); // group id not UTF-8
    const long = messageOf({ groupId: "g".repeat(64), keyId, iteration: 0 }, tag);
    expect(parseSenderKeyMessage(long)?.groupId).toBe("g".repeat(64));
    for (const notBytes of ["abc", undefined, null, 7, [1, 5, 0x67], { length: 200 }]) {
      expect(parseSenderKeyMessage(notBytes as unknown as Uint8Array)).toBeNull();
    }
  });

  it("refuses to encode what the layout cannot carry", () => {
    const ok = { groupId: "g_abc", keyId, iteration: 0 };
    const bad: SenderKeyHeader[] = [
      { ...ok, groupId: "" },
      { ...ok, groupId: "g".repeat(65) },
      { ...ok, groupId: "é".repeat(33) }, // 66 bytes of UTF-8
      { ...ok, keyId: keyId.subarray(1) },
      { ...ok, iteration: -1 },
      { ...ok, iteration: 2 ** 32 },
      { ...ok, iteration: 1.5 },
    ];
    for (const header of bad) expect(() => encodeSenderKeyHeader(header)).toThrow(RangeError);
    expect(() => encodeSenderKeyHeader({ ...ok, groupId: 5 as unknown as string })).toThrow(
      TypeError,
    );
    expect(encodeSenderKeyHeader({ ...ok, iteration: maxSenderKeyIteration }).length).toBe(27);
  });

  it("fuzz: never throws, and whatever it accepts is a faithful split of the input", () => {
    const valid = messageOf({ groupId: "g_fuzz", keyId, iteration: 3 }, new Uint8Array(40));
    // Real messages with a few bytes set anywhere, and cut short by up to 40 bytes.
    const near = fc
      .tuple(fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }), fc.nat(40))
      .map(([edits, cut]) => {
        const copy = valid.slice(0, valid.length - cut);
        for (const [at, value] of edits) copy[at % copy.length] = value;
        return copy;
      });
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), near), (bytes) => {
        const parsed = parseSenderKeyMessage(bytes);
        if (parsed === null) {
          refused++;
          return;
        }
        accepted++;
        const joined = Uint8Array.from([
          ...parsed.header,
          ...parsed.ciphertext,
          ...parsed.signature,
        ]);
        expect(joined).toEqual(bytes);
        expect(encodeSenderKeyHeader(parsed)).toEqual(parsed.header);
        expect(parsed.ciphertext.length).toBeGreaterThanOrEqual(16);
        expect(parsed.signature.length).toBe(64);
      }),
      { numRuns: 2000 },
    );
    // Both branches ran: the fuzz checked real splits, not only refusals.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
