import type { MediaRecord } from "./media-store.js";
import type { MediaKind } from "./media-types.js";

/** The `image` / `document` / … object of an incoming media message (Cloud API shape). */
export interface MediaObjectOut {
  id: string;
  mime_type: string;
  sha256: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
  animated?: boolean;
}

/** `{ type: "image", image: {…} }`, and so on for each kind. */
export type MediaMessageBody = {
  [K in MediaKind]: { type: K } & { [P in K]: MediaObjectOut };
}[MediaKind];

/** An incoming media message, or one whose file could not be opened. */
export type MediaInboundMessage = {
  from: string;
  id: string;
  timestamp: string;
  context?: { from: string; id: string };
  veil_insights?: Record<string, unknown>;
} & (
  | MediaMessageBody
  | {
      type: "unsupported";
      errors: Array<{
        code: number;
        title: string;
        message: string;
        error_data: { details: string };
      }>;
    }
);

/** The Cloud API's object for a received file: captions on images, videos and documents only. */
export function mediaObject(
  kind: MediaKind,
  media: MediaRecord,
  extra: { caption: string; animated: boolean },
): MediaObjectOut {
  const object: MediaObjectOut = {
    id: media.id,
    mime_type: media.mimeType,
    sha256: media.sha256,
  };
  if (extra.caption && (kind === "image" || kind === "video" || kind === "document"))
    object.caption = extra.caption;
  if (kind === "document" && media.filename) object.filename = media.filename;
  if (kind === "audio") object.voice = false;
  if (kind === "sticker") object.animated = extra.animated;
  return object;
}

export const mediaMessageBody = (kind: MediaKind, object: MediaObjectOut): MediaMessageBody =>
  // A computed key widens to a string index; the mapped type says what it is.
  ({ type: kind, [kind]: object }) as MediaMessageBody;

/** Cloud API 131051 in an `unsupported` message: the file could not be opened. */
export const unsupportedAttachment = (details: string) => ({
  type: "unsupported" as const,
  errors: [
    {
      code: 131051,
      title: "Message type unknown",
      message: "Message type unknown",
      error_data: { details },
    },
  ],
});
