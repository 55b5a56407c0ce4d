import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { VeilError } from "../errors.js";
import {
  checkNamespace,
  type Json,
  type StoreEntry,
  type StoreOp,
  type StoreValue,
  type VeilStore,
} from "./store.js";

export interface FileStoreOptions {
  /** fsync every file before it replaces the old one (default true): survives power loss. */
  durable?: boolean;
}

type JournalOp =
  | { type: "put"; ns: string; key: string; json?: Json; bytes?: string }
  | { type: "delete"; ns: string; key: string };

/**
 * A store in a directory, for Node: one file per record (`<ns>/<key>.json`,
 * or `.bin` for bytes), each written to a temporary file and renamed over the
 * old one. A batch of several records is first written whole to a journal,
 * which is replayed on open if the process died halfway through applying it.
 * A lock file keeps a second process (another `veil-chat` on the same profile)
 * from using the same device state at once.
 *
 * @example
 * const store = await FileStore.open(path.join(os.homedir(), ".veil-chat", "default"));
 */
export class FileStore implements VeilStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly durable: boolean,
  ) {}

  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new FileStore(path.resolve(dir), options.durable ?? true);
    await store.lock();
    try {
      await store.recover();
    } catch (err) {
      await store.unlock();
      throw err;
    }
    return store;
  }

  async get(ns: string, key: string): Promise<StoreValue | undefined> {
    checkNamespace(ns);
    this.assertOpen();
    return this.read(ns, encodeKey(key));
  }

  async list(ns: string, prefix = ""): Promise<StoreEntry[]> {
    checkNamespace(ns);
    this.assertOpen();
    let names: string[];
    try {
      names = await readdir(path.join(this.dir, ns));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const keys = new Map<string, string>();
    for (const name of names) {
      const match = /^(.*)\.(json|bin)$/.exec(name);
      if (!match?.[1]) continue;
      const key = decodeKey(match[1]);
      if (key?.startsWith(prefix)) keys.set(key, match[1]);
    }
    const entries: StoreEntry[] = [];
    for (const key of [...keys.keys()].sort()) {
      const value = await this.read(ns, keys.get(key) as string);
      if (value !== undefined) entries.push({ key, value });
    }
    return entries;
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    for (const op of ops) checkNamespace(op.ns);
    this.assertOpen();
    // One batch at a time: the journal holds one batch.
    const run = this.queue.then(() => this.apply(ops));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    await this.unlock();
  }

  // --- records ---------------------------------------------------------------

  private async read(ns: string, encoded: string): Promise<StoreValue | undefined> {
    const base = path.join(this.dir, ns, encoded);
    try {
      const text = await readFile(`${base}.json`, "utf8");
      try {
        return JSON.parse(text) as Json;
      } catch (err) {
        throw new VeilError("store_corrupt", undefined, { cause: err });
      }
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    try {
      return new Uint8Array(await readFile(`${base}.bin`));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  private async apply(ops: readonly StoreOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (ops.length === 1) {
      await this.applyOne(ops[0] as StoreOp);
      return;
    }
    const journal: JournalOp[] = ops.map((op) =>
      op.type === "delete"
        ? op
        : op.value instanceof Uint8Array
          ? { type: "put", ns: op.ns, key: op.key, bytes: Buffer.from(op.value).toString("base64") }
          : { type: "put", ns: op.ns, key: op.key, json: op.value },
    );
    const journalFile = path.join(this.dir, "journal.json");
    await this.atomicWrite(journalFile, JSON.stringify(journal));
    for (const op of ops) await this.applyOne(op);
    await unlink(journalFile);
  }

  private async applyOne(op: StoreOp): Promise<void> {
    const base = path.join(this.dir, op.ns, encodeKey(op.key));
    if (op.type === "delete") {
      await removeIfThere(`${base}.json`);
      await removeIfThere(`${base}.bin`);
      return;
    }
    await mkdir(path.join(this.dir, op.ns), { recursive: true, mode: 0o700 });
    const bytes = op.value instanceof Uint8Array;
    await this.atomicWrite(
      `${base}.${bytes ? "bin" : "json"}`,
      op.value instanceof Uint8Array ? op.value : JSON.stringify(op.value),
    );
    await removeIfThere(`${base}.${bytes ? "json" : "bin"}`);
  }

  /** Write a temporary file, flush it, rename it over the target: readers see old or new. */
  private async atomicWrite(target: string, data: string | Uint8Array): Promise<void> {
    const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(data);
      if (this.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  }

  /** Replays a journal left by a batch that did not finish; drops temporary files. */
  private async recover(): Promise<void> {
    const journalFile = path.join(this.dir, "journal.json");
    let text: string | undefined;
    try {
      text = await readFile(journalFile, "utf8");
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (text !== undefined) {
      let journal: JournalOp[];
      try {
        journal = JSON.parse(text) as JournalOp[];
      } catch (err) {
        throw new VeilError("store_corrupt", "The store journal cannot be read", { cause: err });
      }
      for (const op of journal) {
        checkNamespace(op.ns);
        if (op.type === "delete") await this.applyOne(op);
        else if (op.bytes !== undefined)
          await this.applyOne({
            type: "put",
            ns: op.ns,
            key: op.key,
            value: new Uint8Array(Buffer.from(op.bytes, "base64")),
          });
        else await this.applyOne({ type: "put", ns: op.ns, key: op.key, value: op.json ?? null });
      }
      await unlink(journalFile);
    }
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".tmp")) await rm(path.join(this.dir, entry.name));
      if (!entry.isDirectory()) continue;
      for (const name of await readdir(path.join(this.dir, entry.name))) {
        if (name.endsWith(".tmp")) await rm(path.join(this.dir, entry.name, name));
      }
    }
  }

  // --- the lock ----------------------------------------------------------------

  private get lockFile(): string {
    return path.join(this.dir, "LOCK");
  }

  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockFile, "wx", 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const holder = Number.parseInt(await readFile(this.lockFile, "utf8").catch(() => ""), 10);
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new VeilError("store_locked", `The store ${this.dir} is in use by process ${holder}`);
      }
      await removeIfThere(this.lockFile); // left by a process that is gone
    }
    throw new VeilError("store_locked");
  }

  private async unlock(): Promise<void> {
    await removeIfThere(this.lockFile);
  }

  private assertOpen(): void {
    if (this.closed) throw new VeilError("client_closed", "The store is closed");
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Keys become file names: anything but letters, digits, `_` and `-` as %XX of its UTF-8. */
function encodeKey(key: string): string {
  if (key.length === 0) throw new TypeError("A store key cannot be empty");
  let out = "";
  for (const byte of new TextEncoder().encode(key)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).padStart(2, "0").toUpperCase()}`;
  }
  return out;
}

function decodeKey(name: string): string | undefined {
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function removeIfThere(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}
