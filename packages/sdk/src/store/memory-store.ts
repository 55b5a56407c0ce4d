import {
  checkNamespace,
  cloneValue,
  type StoreEntry,
  type StoreOp,
  type StoreValue,
  type VeilStore,
} from "./store.js";

/**
 * A store in memory: for tests, and for clients that keep nothing between
 * runs (every start is a new device).
 */
export class MemoryStore implements VeilStore {
  private readonly namespaces = new Map<string, Map<string, StoreValue>>();

  async get(ns: string, key: string): Promise<StoreValue | undefined> {
    checkNamespace(ns);
    const value = this.namespaces.get(ns)?.get(key);
    return value === undefined ? undefined : cloneValue(value);
  }

  async list(ns: string, prefix = ""): Promise<StoreEntry[]> {
    checkNamespace(ns);
    const records = this.namespaces.get(ns);
    if (!records) return [];
    return [...records.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value: cloneValue(value) }));
  }

  async write(ops: readonly StoreOp[]): Promise<void> {
    for (const op of ops) checkNamespace(op.ns);
    const copies = ops.map((op) =>
      op.type === "put" ? { ...op, value: cloneValue(op.value) } : op,
    );
    for (const op of copies) {
      let records = this.namespaces.get(op.ns);
      if (op.type === "put") {
        if (!records) {
          records = new Map();
          this.namespaces.set(op.ns, records);
        }
        records.set(op.key, op.value);
      } else {
        records?.delete(op.key);
      }
    }
  }

  async close(): Promise<void> {}
}
