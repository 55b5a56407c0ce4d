import { describe, expect, it } from "vitest";
import { clearBytes, FrameCipher } from "../src/calls/frame-crypto.js";

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const frame = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const text = (buffer: ArrayBuffer | null) =>
  buffer === null ? null : new TextDecoder().decode(new Uint8Array(buffer));

/** Alice and Bob at one epoch, each with the call's key. */
async function pair(epoch = 1, fill = 7) {
  const alice = new FrameCipher("d_alice");
  const bob = new FrameCipher("d_bob");
  await alice.setKey(epoch, secret(fill));
  await bob.setKey(epoch, secret(fill));
  return { alice, bob };
}

describe("media frame encryption", () => {
  it("seals a frame that the other side opens, with its header left in the clear", async () => {
    const { alice, bob } = await pair();
    const clear = clearBytes("video", true);
    const sealed = await alice.seal(frame("0123456789 the picture itself"), clear);
    if (!sealed) throw new Error("no key");
    const bytes = new Uint8Array(sealed);
    expect(text(bytes.slice(0, clear).buffer)).toBe("0123456789");
    expect(text(sealed)).not.toContain("the picture itself");
    expect(text(await bob.open(sealed, clear, "d_alice"))).toBe("0123456789 the picture itself");
  });

  it("never uses an IV twice, and nothing leaves before there is a key", async () => {
    const { alice } = await pair();
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const sealed = new Uint8Array((await alice.seal(frame("x"), 1)) as ArrayBuffer);
      ivs.add(Buffer.from(sealed.slice(-13, -1)).toString("hex"));
    }
    expect(ivs.size).toBe(50);
    expect(await new FrameCipher("d_carol").seal(frame("x"), 1)).toBeNull();
  });

  it("refuses a frame claimed by another sender, tampered with, or under a key it lacks", async () => {
    const { alice, bob } = await pair();
    const sealed = (await alice.seal(frame("hello there"), 1)) as ArrayBuffer;
    expect(await bob.open(sealed, 1, "d_mallory")).toBeNull();
    for (const at of [0, 5, sealed.byteLength - 2]) {
      const bent = new Uint8Array(sealed.slice(0));
      bent[at] = (bent[at] ?? 0) ^ 1;
      expect(await bob.open(bent.buffer, 1, "d_alice")).toBeNull();
    }
    const outsider = new FrameCipher("d_eve");
    await outsider.setKey(1, secret(8));
    expect(await outsider.open(sealed, 1, "d_alice")).toBeNull();
    expect(await bob.open(new ArrayBuffer(4), 1, "d_alice")).toBeNull();
  });

  it("rekeys: new frames need the new epoch's key; frames sealed just before still open", async () => {
    const { alice, bob } = await pair(1, 7);
    const before = (await alice.seal(frame("old epoch"), 1)) as ArrayBuffer;
    await alice.setKey(2, secret(9));
    await bob.setKey(2, secret(9));
    const after = (await alice.seal(frame("new epoch"), 1)) as ArrayBuffer;
    expect(text(await bob.open(before, 1, "d_alice"))).toBe("old epoch");
    expect(text(await bob.open(after, 1, "d_alice"))).toBe("new epoch");
    // A removed member kept epoch 1's key only.
    const removed = new FrameCipher("d_carol");
    await removed.setKey(1, secret(7));
    expect(text(await removed.open(before, 1, "d_alice"))).toBe("old epoch");
    expect(await removed.open(after, 1, "d_alice")).toBeNull();
    // An older epoch never replaces a newer one, and only the last three are kept.
    await bob.setKey(1, secret(7));
    expect(bob.epoch).toBe(2);
    for (const epoch of [3, 4, 5]) await bob.setKey(epoch, secret(epoch));
    expect(await bob.open(before, 1, "d_alice")).toBeNull();
  });
});
