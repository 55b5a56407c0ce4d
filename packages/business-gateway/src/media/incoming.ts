import { type AttachmentRef, isVeilError, type VeilClient } from "@veil/sdk";
import {
  type MediaMessageBody,
  mediaMessageBody,
  mediaObject,
  unsupportedAttachment,
} from "./media-payloads.js";
import type { MediaStore } from "./media-store.js";
import { identifyIncoming } from "./media-types.js";

/** A file name as a customer's device named it, made safe to store and show. */
export function cleanFilename(name: string | undefined | null): string | null {
  const clean = (name ?? "").replace(/[\\/\p{Cc}]/gu, "").trim();
  return clean === "" || clean === "." || clean === ".." ? null : clean.slice(0, 255);
}

export interface IncomingAttachment {
  /** What the messages table keeps (JSON): the media id and its facts, never the file. */
  content: Record<string, unknown>;
  /** The message's `type` and its media object, for the webhook. */
  message: MediaMessageBody | ReturnType<typeof unsupportedAttachment>;
}

/**
 * Downloads and decrypts a customer's attachment (the SDK checks its hash),
 * identifies it from its bytes and stores it as media. A file that cannot be
 * opened becomes an `unsupported` message; a network failure throws (the
 * message is then stored by the next reconciliation).
 */
export async function receiveAttachment(
  client: VeilClient,
  store: MediaStore,
  attachment: { attachment: AttachmentRef; caption: string; replyTo: string | null },
): Promise<IncomingAttachment> {
  const { caption, replyTo } = attachment;
  let bytes: Uint8Array;
  try {
    bytes = await client.downloadAttachment(attachment.attachment);
  } catch (error) {
    const gone =
      isVeilError(error, "attachment_integrity") ||
      (isVeilError(error) && (error.status === 404 || error.status === 403));
    if (!gone) throw error;
    const details = isVeilError(error, "attachment_integrity")
      ? "The attachment does not match its hash or does not decrypt"
      : "The attachment is no longer on the server";
    return {
      content: { unsupported: details, caption, replyTo },
      message: unsupportedAttachment(details),
    };
  }
  const { mime, kind, animated } = await identifyIncoming(bytes, attachment.attachment.mime);
  const media = await store.put(bytes, {
    mimeType: mime,
    filename: cleanFilename(attachment.attachment.name),
    origin: "incoming",
  });
  return {
    content: {
      mediaId: media.id,
      kind,
      mimeType: media.mimeType,
      sha256: media.sha256,
      fileSize: media.fileSize,
      filename: media.filename,
      caption,
      replyTo,
    },
    message: mediaMessageBody(kind, mediaObject(kind, media, { caption, animated })),
  };
}
