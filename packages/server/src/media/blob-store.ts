import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** Where encrypted attachments live: opaque bytes, addressed by their SHA-256. */
export interface BlobStore {
  /** Stores `bytes` under `id` unless already there (content addressing makes it idempotent). */
  put(id: string, bytes: Buffer): Promise<void>;
  /** A stream of the bytes, or null when the blob is absent. */
  get(id: string): Promise<{ size: number; stream: Readable } | null>;
}

/** Blobs as files under the data directory, two levels of fan-out by id. */
export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private file(id: string): string {
    return path.join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  async put(id: string, bytes: Buffer): Promise<void> {
    const target = this.file(id);
    try {
      await stat(target);
      return;
    } catch {
      // absent: write it
    }
    await mkdir(path.dirname(target), { recursive: true });
    // Write then rename: a reader never sees a half-written blob.
    const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, target);
  }

  async get(id: string): Promise<{ size: number; stream: Readable } | null> {
    const file = this.file(id);
    try {
      const { size } = await stat(file);
      return { size, stream: createReadStream(file) };
    } catch {
      return null;
    }
  }
}
