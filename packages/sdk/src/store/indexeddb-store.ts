import {
  checkNamespace,
  type Json,
  type StoreEntry,
  type StoreOp,
  type StoreValue,
  type VeilStore,
} from "./store.js";

interface Row {
  ns: string;
  key: string;
  value: Json | Uint8Array;
}

const objectStore = "records";

/**
 * A store in the browser's IndexedDB: one object store of `{ns, key, value}`
 * rows keyed by `[ns, key]`; a batch is one readwrite transaction, which
 * IndexedDB applies whole or not at all.
 *
 * @example
 * const store = await IndexedDbStore.open("veil-device");
 */
export class IndexedDbStore implements VeilStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (or creates) the database `name`; pass another factory to test outside a browser. */
  static async open(
    name = "veil",
    factory: IDBFactory = globalThis.indexedDB,
  ): Promise<IndexedDbStore> {
    if (!factory) throw new TypeError("IndexedDB is not available here");
    const request = factory.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(objectStore)) {
        db.createObjectStore(objectStore, { keyPath: ["ns", "key"] });
      }
    };
    const db = await settle(request);
    return new IndexedDbStore(db);
  }

  async get(ns: string, key: string): Promise<StoreValue | undefined> {
    checkNamespace(ns);
    const tx = this.db.transaction(objectStore, "readonly");
    const row = (await settle(tx.objectStore(objectStore).get([ns, key]))) as Row | undefined;
    return row?.value;
  }

  async list(ns: string, prefix = ""): Promise<StoreEntry[]> {
    checkNamespace(ns);
    const tx = this.db.transaction(objectStore, "readonly");
    // Every key starting with `prefix` sorts between [ns, prefix] and [ns, prefix + U+FFFF…].
    const range = IDBKeyRange.bound([ns, prefix], [ns, `${prefix}\uffff\uffff`]);
    const rows = (await settle(tx.objectStore(objectStore).getAll(range))) as Row[];
    return rows
      .filter((row) => row.key.startsWith(prefix))
      .map((row) => ({ key: row.key, value: row.value }));
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    for (const op of ops) checkNamespace(op.ns);
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(objectStore, "readwrite");
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
      const records = tx.objectStore(objectStore);
      try {
        for (const op of ops) {
          if (op.type === "put")
            records.put({ ns: op.ns, key: op.key, value: op.value } satisfies Row);
          else records.delete([op.ns, op.key]);
        }
      } catch (err) {
        // A value IndexedDB cannot clone throws here: undo the whole batch.
        tx.abort();
        reject(err);
      }
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}
