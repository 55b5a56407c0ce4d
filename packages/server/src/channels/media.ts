import { createHash } from "node:crypto";
import type { ChannelMedia, ChannelView, HeldItem } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import type { BlobStore } from "../media/blob-store.js";
import { imageType } from "../media/image-type.js";
import { channelMediaType } from "../media/media-type.js";
import type { Database, Tx } from "../store/database.js";
import type { Channels } from "./channels.js";
import type { ContentGate } from "./content-gate.js";

const blobId = (bytes: Buffer) => createHash("sha256").update(bytes).digest("base64url");

/**
 * Public channel media: admins upload files that posts then reference;
 * anyone who may see the channel downloads them. Not end-to-end encrypted
 * (channels are public); the type is sniffed from the bytes and limited.
 */
export class ChannelMediaFiles {
  constructor(
    private readonly database: Database,
    private readonly channels: Channels,
    private readonly blobs: BlobStore,
    private readonly gate: ContentGate,
    readonly limitBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  async upload(auth: AuthContext, channelId: string, bytes: Buffer): Promise<ChannelMedia> {
    const { channel } = await this.channels.asAdmin(auth, channelId);
    if (channel.status !== "active") throw new VeilError("channel_suspended");
    if (bytes.length > this.limitBytes) throw new VeilError("media_too_large");
    const contentType = channelMediaType(bytes);
    if (!contentType) throw new VeilError("media_type_not_allowed");
    const id = blobId(bytes);
    // A known-bad image is refused before anything is stored.
    await this.gate.screen({ kind: "media", channelId, blobId: id });
    await this.blobs.put(id, bytes);
    await this.database.db
      .insertInto("channel_media")
      .values({
        channel_id: channelId,
        id,
        content_type: contentType,
        size: bytes.length,
        created_at: this.now(),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return { id, contentType, size: bytes.length };
  }

  /** The bytes and their type, to anyone the channel is shown to (a preview included). */
  async download(auth: AuthContext, channelId: string, mediaId: string) {
    await this.channels.standing(auth, channelId);
    const row = await this.database.db
      .selectFrom("channel_media")
      .select("content_type")
      .where("channel_id", "=", channelId)
      .where("id", "=", mediaId)
      .executeTakeFirst();
    const blob = row ? await this.blobs.get(mediaId) : null;
    if (!row || !blob) throw new VeilError("media_not_found");
    return { contentType: row.content_type, ...blob };
  }

  /**
   * The channel's photo (admins): PNG, JPEG or WebP, sniffed from the bytes.
   * Kept in the blob store by its SHA-256, which is also its version in
   * ChannelView (`photoVersion`), so clients cache it until it changes.
   * Checked first: a held photo leaves the old one in place until released.
   */
  async setPhoto(
    auth: AuthContext,
    channelId: string,
    bytes: Buffer,
  ): Promise<ChannelView | HeldItem> {
    await this.channels.asAdmin(auth, channelId);
    const contentType = imageType(bytes);
    if (!contentType) throw new VeilError("photo_invalid");
    const id = blobId(bytes);
    const submission = { kind: "photo", channelId, blobId: id, contentType } as const;
    const verdict = await this.gate.screen(submission);
    // Stored either way: a moderator looks at a held photo, and releasing it needs the bytes.
    await this.blobs.put(id, bytes);
    if (verdict.action === "hold") {
      return this.database.transaction((tx) => this.gate.hold(tx, submission, verdict));
    }
    await this.database.db
      .updateTable("channels")
      .set({ photo: id, photo_type: contentType })
      .where("id", "=", channelId)
      .execute();
    return this.channels.view(auth, channelId);
  }

  /** Sets a photo a moderator released (its bytes are in the blob store already). */
  async applyReleasedPhoto(
    tx: Tx,
    channelId: string,
    id: string,
    contentType: string,
  ): Promise<void> {
    await tx.db
      .updateTable("channels")
      .set({ photo: id, photo_type: contentType })
      .where("id", "=", channelId)
      .where("status", "!=", "deleted")
      .execute();
  }

  /** A file's bytes by id, for a moderator reviewing held or reported content. */
  blob(id: string) {
    return this.blobs.get(id);
  }

  /** Removes the photo (admins); the bytes stay in the blob store (media may share them). */
  async removePhoto(auth: AuthContext, channelId: string): Promise<ChannelView> {
    await this.channels.asAdmin(auth, channelId);
    await this.database.db
      .updateTable("channels")
      .set({ photo: null, photo_type: null })
      .where("id", "=", channelId)
      .execute();
    return this.channels.view(auth, channelId);
  }

  /** The photo's bytes and type, to anyone the channel is shown to; `photo_not_found` if none. */
  async photo(auth: AuthContext, channelId: string) {
    const { channel } = await this.channels.standing(auth, channelId);
    const blob = channel.photo ? await this.blobs.get(channel.photo) : null;
    if (!blob || !channel.photo_type) throw new VeilError("photo_not_found");
    return { contentType: channel.photo_type, version: channel.photo as string, ...blob };
  }
}
