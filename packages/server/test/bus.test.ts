import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Bus, BusEvent } from "../src/bus/bus.js";
import { MemoryBus } from "../src/bus/memory.js";
import { NatsBus } from "../src/bus/nats.js";
import { natsAvailable, natsUrl } from "./helpers/backends.js";

const waitFor = async (check: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

const prefix = () => `veiltest_${randomBytes(4).toString("hex")}`;

const adapters: Array<{ name: string; available: boolean; pair: () => Promise<[Bus, Bus]> }> = [
  {
    name: "memory",
    available: true,
    pair: async () => {
      const bus = new MemoryBus();
      return [bus, bus];
    },
  },
  {
    name: "nats",
    available: natsAvailable,
    pair: async () => {
      const p = prefix();
      return [await NatsBus.connect(natsUrl, p), await NatsBus.connect(natsUrl, p)];
    },
  },
];

for (const { name, available, pair } of adapters) {
  describe.skipIf(!available)(`the bus [${name}]`, () => {
    it("delivers every event to every subscriber, across connections, and stops after unsubscribe", async () => {
      const [a, b] = await pair();
      const gotA: BusEvent[] = [];
      const gotB: BusEvent[] = [];
      a.subscribe((e) => gotA.push(e));
      const stop = b.subscribe((e) => gotB.push(e));
      expect(a.healthy()).toBe(true);
      await a.publish({ type: "profile.changed", userId: "u_1" });
      await b.publish({ type: "sessions.revoked", sessionIds: ["s_1", "s_2"] });
      await waitFor(() => gotA.length === 2 && gotB.length === 2);
      expect(gotB).toEqual([
        { type: "profile.changed", userId: "u_1" },
        { type: "sessions.revoked", sessionIds: ["s_1", "s_2"] },
      ]);
      stop();
      await a.publish({ type: "profile.changed", userId: "u_2" });
      await waitFor(() => gotA.length === 3);
      expect(gotB).toHaveLength(2);
      await a.close();
      if (b !== a) await b.close();
    });
  });
}

describe.skipIf(!natsAvailable)("the bus [nats] keeps deployments apart by prefix", () => {
  it("does not deliver another prefix's events", async () => {
    const one = await NatsBus.connect(natsUrl, prefix());
    const two = await NatsBus.connect(natsUrl, prefix());
    const got: BusEvent[] = [];
    two.subscribe((e) => got.push(e));
    const self: BusEvent[] = [];
    one.subscribe((e) => self.push(e));
    await one.publish({ type: "profile.changed", userId: "u_1" });
    await waitFor(() => self.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([]);
    await one.close();
    await two.close();
    expect(one.healthy()).toBe(false);
  });
});
