import "fake-indexeddb/auto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  FileStore,
  IndexedDbStore,
  isVeilError,
  MemoryStore,
  type StoreOp,
  type VeilStore,
} from "@veil/sdk/node";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "veil-store-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let dbCounter = 0;
const stores: Array<{ name: string; open: () => Promise<VeilStore> }> = [
  { name: "memory", open: async () => new MemoryStore() },
  { name: "file", open: () => FileStore.open(tempDir()) },
  { name: "indexeddb", open: () => IndexedDbStore.open(`veil-test-${dbCounter++}`) },
];

for (const { name, open } of stores) {
  describe(`${name} store`, () => {
    it("keeps JSON and bytes, lists by prefix in key order, deletes", async () => {
      const store = await open();
      const bytes = Uint8Array.from([0, 1, 2, 254, 255]);
      await store.write([
        { type: "put", ns: "groups", key: "g_b", value: { cursor: 2, kind: "group" } },
        { type: "put", ns: "groups", key: "g_a", value: { cursor: 1, nested: [1, "x", null] } },
        { type: "put", ns: "mls", key: "g_a", value: bytes },
        { type: "put", ns: "messages", key: "g_a/000000000000010", value: "ten" },
        { type: "put", ns: "messages", key: "g_a/000000000000002", value: "two" },
        { type: "put", ns: "messages", key: "g_ab/000000000000001", value: "other" },
        { type: "put", ns: "seen", key: "g_a/m:odd key ü", value: 1 },
      ]);
      expect(await store.get("groups", "g_a")).toEqual({ cursor: 1, nested: [1, "x", null] });
      const read = await store.get("mls", "g_a");
      expect(read).toBeInstanceOf(Uint8Array);
      expect([...(read as Uint8Array)]).toEqual([...bytes]);
      expect((await store.list("groups")).map((e) => e.key)).toEqual(["g_a", "g_b"]);
      expect((await store.list("messages", "g_a/")).map((e) => e.value)).toEqual(["two", "ten"]);
      expect(await store.get("seen", "g_a/m:odd key ü")).toBe(1);
      expect(await store.get("groups", "nope")).toBeUndefined();
      expect(await store.list("empty")).toEqual([]);
      await store.write([{ type: "delete", ns: "groups", key: "g_a" }]);
      expect(await store.get("groups", "g_a")).toBeUndefined();
      await store.write([{ type: "put", ns: "groups", key: "g_b", value: { cursor: 3 } }]);
      expect(await store.get("groups", "g_b")).toEqual({ cursor: 3 });
      // A record read is a copy: changing it changes nothing stored.
      const copy = (await store.get("groups", "g_b")) as { cursor: number };
      copy.cursor = 99;
      expect(await store.get("groups", "g_b")).toEqual({ cursor: 3 });
      await store.close();
    });

    it("refuses namespaces that are not plain names", async () => {
      const store = await open();
      await expect(store.get("../etc", "x")).rejects.toThrow(TypeError);
      await store.close();
    });
  });
}

describe("file store", () => {
  it("survives its own restart, and replays a batch a crash left in its journal", async () => {
    const dir = tempDir();
    const first = await FileStore.open(dir);
    await first.write([{ type: "put", ns: "groups", key: "g_1", value: { cursor: 1 } }]);
    await first.close();
    // A process died after writing the journal of this batch, before applying all of it.
    const journal: Array<Record<string, unknown>> = [
      { type: "put", ns: "groups", key: "g_1", json: { cursor: 2 } },
      { type: "put", ns: "mls", key: "g_1", bytes: Buffer.from([7, 8, 9]).toString("base64") },
      { type: "delete", ns: "outbox", key: "m_1" },
    ];
    writeFileSync(path.join(dir, "journal.json"), JSON.stringify(journal));
    writeFileSync(path.join(dir, "groups", "g_1.json.abc.tmp"), "half-written");
    const second = await FileStore.open(dir);
    expect(await second.get("groups", "g_1")).toEqual({ cursor: 2 });
    expect([...((await second.get("mls", "g_1")) as Uint8Array)]).toEqual([7, 8, 9]);
    expect(readdirSync(dir)).not.toContain("journal.json");
    expect(readdirSync(path.join(dir, "groups"))).toEqual(["g_1.json"]);
    await second.close();
  });

  it("is used by one process at a time, and takes over a lock left by a dead one", async () => {
    const dir = tempDir();
    const store = await FileStore.open(dir);
    await expect(FileStore.open(dir)).rejects.toSatisfy((e) => isVeilError(e, "store_locked"));
    await store.close();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    writeFileSync(path.join(dir, "LOCK"), dead.stdout.toString());
    const again = await FileStore.open(dir);
    await again.write([{ type: "put", ns: "device", key: "k", value: 1 }]);
    expect(await again.get("device", "k")).toBe(1);
    await again.close();
  });

  it("applies concurrent batches one at a time", async () => {
    const store = await FileStore.open(tempDir());
    const batch = (i: number): StoreOp[] => [
      { type: "put", ns: "a", key: `k${i}`, value: i },
      { type: "put", ns: "b", key: `k${i}`, value: i },
    ];
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write(batch(i))));
    expect((await store.list("a")).length).toBe(20);
    expect((await store.list("b")).length).toBe(20);
    await store.close();
  });
});

describe("indexeddb store", () => {
  it("applies a batch whole or not at all", async () => {
    const store = await IndexedDbStore.open("veil-atomic");
    await store.write([{ type: "put", ns: "groups", key: "g_1", value: { cursor: 1 } }]);
    const uncloneable = { fn: () => 1 } as unknown as Uint8Array;
    await expect(
      store.write([
        { type: "put", ns: "groups", key: "g_1", value: { cursor: 2 } },
        { type: "put", ns: "mls", key: "g_1", value: uncloneable },
      ]),
    ).rejects.toThrow();
    expect(await store.get("groups", "g_1")).toEqual({ cursor: 1 });
    await store.close();
  });
});
