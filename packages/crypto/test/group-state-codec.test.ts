import { loadSuite } from "@veil/crypto";
import type { GroupState } from "ts-mls";
import { decodeGroupState, encodeGroupState } from "ts-mls";
import { describe, expect, it } from "vitest";
import { encodeGroupStateFlat } from "../src/group-state-codec.js";
import { deliver, groupOf, text } from "./helpers/groups.js";

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("missing");
  return value;
}

const stateOf = (serialized: Uint8Array): GroupState => {
  const decoded = decodeGroupState(serialized, 3);
  if (decoded === undefined) throw new Error("state");
  return decoded[0];
};

describe("the flat group state encoder", () => {
  it("writes exactly what ts-mls's encodeGroupState writes", async () => {
    const suite = await loadSuite();
    let groups = await groupOf(suite, "g_codec", ["d_a", "d_b", "d_c", "d_d", "d_e"]);
    // Past epochs, skipped generations and a removed leaf: every field has content.
    for (let round = 0; round < 3; round++) {
      const { commit, next } = await must(groups[round]).update();
      groups[round] = next;
      groups = await deliver(groups, commit, round);
    }
    const m1 = await must(groups[1]).encrypt(text("one"));
    const m2 = await m1.next.encrypt(text("two"));
    groups[0] = (await must(groups[0]).process(m2.message)).next;
    const removal = await must(groups[0]).remove(["d_e"]);
    groups[0] = removal.next;
    for (const g of groups) {
      const state = stateOf(g.serialize());
      expect(encodeGroupStateFlat(state)).toEqual(encodeGroupState(state));
    }
  });

  it("encodes trees too large for ts-mls's recursive encoder, and they decode again", async () => {
    const suite = await loadSuite();
    const [alice] = await groupOf(suite, "g_wide", ["d_a", "d_b"]);
    const state = stateOf(must(alice).serialize());
    // As wide as the secret tree of a group of 20000: ts-mls's encoder overflows the stack.
    const node = must(state.secretTree[0]);
    const wide: GroupState = { ...state, secretTree: Array.from({ length: 65535 }, () => node) };
    expect(() => encodeGroupState(wide)).toThrow(RangeError);
    const bytes = encodeGroupStateFlat(wide);
    const back = decodeGroupState(bytes, 0);
    expect(back?.[1]).toBe(bytes.length);
    expect(back?.[0].secretTree.length).toBe(65535);
  });
});
