import { type Static, Type } from "@sinclair/typebox";
import { CloudError } from "../cloud-errors.js";
import { fetchMediaLink, MediaLinkError } from "./fetch-link.js";
import { cleanFilename } from "./incoming.js";
import type { MediaRecord, MediaStore } from "./media-store.js";
import {
  checkMedia,
  identifyIncoming,
  largestAccepted,
  type MediaKind,
  MediaRejected,
  sendableAs,
  supportedMimeTypes,
} from "./media-types.js";

/** `{ id | link, caption?, filename? }`: the media object of a send request. */
export const MediaObjectSchema = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  link: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  caption: Type.Optional(Type.String({ maxLength: 1024 })),
  filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
export type MediaObjectIn = Static<typeof MediaObjectSchema>;

/** The media fields of the messages route's body, one per kind. */
export const mediaMessageFields = {
  image: Type.Optional(MediaObjectSchema),
  document: Type.Optional(MediaObjectSchema),
  audio: Type.Optional(MediaObjectSchema),
  video: Type.Optional(MediaObjectSchema),
  sticker: Type.Optional(MediaObjectSchema),
};

/** How a stored file goes out: its kind, caption, file name, and the message it answers. */
export interface MediaSendOptions {
  kind: MediaKind;
  caption: string | null;
  filename: string | null;
  replyTo: string | null;
}

/** Sends a stored file into a customer's chat (the business endpoint does). */
export interface MediaSender {
  sendMedia(
    to: string,
    media: MediaRecord,
    bytes: Uint8Array,
    options: MediaSendOptions,
  ): Promise<string>;
}

export interface MediaSendDeps {
  endpoint: MediaSender;
  media: MediaStore;
  /** Whether a `link` may point at a private or loopback address (tests, intranets). */
  allowPrivate: boolean;
}

/** Fetches a `link` and stores it as media, checked like an upload. */
async function mediaFromLink(
  deps: MediaSendDeps,
  kind: MediaKind,
  link: string,
  filename: string | undefined,
): Promise<MediaRecord> {
  let fetched: Awaited<ReturnType<typeof fetchMediaLink>>;
  try {
    fetched = await fetchMediaLink(link, {
      allowPrivate: deps.allowPrivate,
      maxBytes: largestAccepted(deps.media.blobLimitBytes),
    });
  } catch (error) {
    if (error instanceof MediaLinkError)
      throw new CloudError("parameter_invalid", `${kind}.link: ${error.message}`);
    throw error;
  }
  // A server that does not name the type (or names a generic one) is read by its bytes.
  const declared =
    fetched.contentType && supportedMimeTypes.includes(fetched.contentType)
      ? fetched.contentType
      : (await identifyIncoming(fetched.bytes, fetched.contentType ?? undefined)).mime;
  try {
    await checkMedia(fetched.bytes, declared, deps.media.blobLimitBytes);
  } catch (error) {
    if (error instanceof MediaRejected)
      throw new CloudError("parameter_invalid", `${kind}.link: ${error.message}`);
    throw error;
  }
  return deps.media.put(fetched.bytes, {
    mimeType: declared,
    filename: cleanFilename(filename ?? fetched.filename),
    origin: "link",
  });
}

/**
 * Sends a Cloud API media message: the file by its uploaded `id` or fetched
 * from `link`, encrypted by the SDK for the customer. Returns the `wamid`.
 */
export async function sendMediaMessage(
  deps: MediaSendDeps,
  to: string,
  kind: MediaKind,
  object: MediaObjectIn | undefined,
  replyTo: string | null,
): Promise<string> {
  if (!object) throw new CloudError("parameter_missing", `${kind} is required`);
  if ((object.id === undefined) === (object.link === undefined))
    throw new CloudError("parameter_invalid", `${kind} needs exactly one of id and link`);
  if (object.caption !== undefined && (kind === "audio" || kind === "sticker"))
    throw new CloudError("parameter_invalid", `${kind} messages have no caption`);
  if (object.filename !== undefined && kind !== "document")
    throw new CloudError("parameter_invalid", "filename is for documents only");
  let media: MediaRecord;
  if (object.id !== undefined) {
    const found = /^[0-9]{1,40}$/.test(object.id) ? await deps.media.get(object.id) : null;
    if (!found) throw new CloudError("parameter_invalid", `${kind}.id is not a known media id`);
    media = found;
  } else media = await mediaFromLink(deps, kind, object.link as string, object.filename);
  const sendable = sendableAs(media.mimeType);
  if (sendable !== kind)
    throw new CloudError(
      "parameter_invalid",
      sendable === null
        ? `the media is ${media.mimeType}, which cannot be sent`
        : `the media is ${media.mimeType}: send it as ${sendable === "image" ? "an" : "a"} ${sendable}`,
    );
  const bytes = await deps.media.read(media);
  if (!bytes) throw new CloudError("parameter_invalid", `${kind}.id: the media's file is gone`);
  try {
    // Uploads were checked already; a customer's file sent on must meet the same rules.
    await checkMedia(bytes, media.mimeType, deps.media.blobLimitBytes);
  } catch (error) {
    if (error instanceof MediaRejected)
      throw new CloudError("parameter_invalid", `${kind}: ${error.message}`);
    throw error;
  }
  return deps.endpoint.sendMedia(to, media, bytes, {
    kind,
    caption: object.caption ?? null,
    filename: kind === "document" ? (object.filename ?? media.filename) : null,
    replyTo,
  });
}
