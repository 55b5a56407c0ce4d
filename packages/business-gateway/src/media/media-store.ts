import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database } from "../store/database.js";
import type { MediaTable } from "../store/schema.js";
import { defaultVeilBlobLimitBytes } from "./media-types.js";

/** Where a media file came from. */
export type MediaOrigin = "upload" | "link" | "incoming";

export interface MediaRecord {
  id: string;
  /** SHA-256 of the file, hex. */
  sha256: string;
  mimeType: string;
  fileSize: number;
  filename: string | null;
  origin: MediaOrigin;
  createdAt: number;
}

const record = (row: MediaTable): MediaRecord => ({
  id: row.id,
  sha256: row.sha256,
  mimeType: row.mime_type,
  fileSize: row.file_size,
  filename: row.filename,
  origin: row.origin as MediaOrigin,
  createdAt: row.created_at,
});

/** A Cloud-API-style media id: digits, 96 random bits. */
const newMediaId = (): string => BigInt(`0x${randomBytes(12).toString("hex")}`).toString();

export const mediaIdPattern = "^[0-9]{1,40}$";

/**
 * The gateway's media: one row per media id, the bytes once per content
 * under `<dir>/<first two hex digits>/<sha256>`. One gateway process owns
 * the directory; writes and deletes of the same content are serialised here.
 */
export class MediaStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The Veil server's attachment limit (ciphertext bytes), which caps every file. */
  readonly blobLimitBytes: number;

  constructor(
    private readonly database: Database,
    readonly dir: string,
    options: { blobLimitBytes?: number } = {},
  ) {
    this.blobLimitBytes = options.blobLimitBytes ?? defaultVeilBlobLimitBytes;
  }

  /** Stores a file (checked by the caller) and returns its new media id's record. */
  async put(
    bytes: Uint8Array,
    meta: { mimeType: string; filename: string | null; origin: MediaOrigin },
  ): Promise<MediaRecord> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const row: MediaTable = {
      id: newMediaId(),
      sha256,
      mime_type: meta.mimeType,
      file_size: bytes.length,
      filename: meta.filename,
      origin: meta.origin,
      created_at: Date.now(),
    };
    await this.locked(sha256, async () => {
      const file = this.fileOf(sha256);
      if (!fs.existsSync(file)) {
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        const partial = `${file}.${randomBytes(6).toString("hex")}.part`;
        await fs.promises.writeFile(partial, bytes, { mode: 0o600 });
        await fs.promises.rename(partial, file);
      }
      await this.database.db.insertInto("media").values(row).execute();
    });
    return record(row);
  }

  async get(id: string): Promise<MediaRecord | null> {
    const row = await this.database.db
      .selectFrom("media")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? record(row) : null;
  }

  /** The file's bytes; null when they are gone from the disk. */
  async read(media: MediaRecord): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(this.fileOf(media.sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  /** Deletes a media id; the bytes go when no other media id has the same content. */
  async delete(id: string): Promise<boolean> {
    const media = await this.get(id);
    if (!media) return false;
    return this.locked(media.sha256, async () => {
      const deleted = await this.database.db.deleteFrom("media").where("id", "=", id).execute();
      if (Number(deleted[0]?.numDeletedRows ?? 0) === 0) return false;
      const other = await this.database.db
        .selectFrom("media")
        .select("id")
        .where("sha256", "=", media.sha256)
        .executeTakeFirst();
      if (!other) await fs.promises.rm(this.fileOf(media.sha256), { force: true });
      return true;
    });
  }

  private fileOf(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  private async locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}
