import { fileTypeFromBuffer } from "file-type";

/** The Cloud API's media message types. */
export const mediaKinds = ["image", "document", "audio", "video", "sticker"] as const;
export type MediaKind = (typeof mediaKinds)[number];

export const isMediaKind = (value: string): value is MediaKind =>
  (mediaKinds as readonly string[]).includes(value);

const KiB = 1024;
const MiB = 1024 * 1024;

/**
 * The Veil server's default attachment limit (VEIL_BLOB_LIMIT_BYTES, 16 MiB):
 * it counts the ciphertext, which is the file plus AES-GCM's 16-byte tag.
 */
export const defaultVeilBlobLimitBytes = 16 * MiB;
const gcmTagBytes = 16;

interface MimeRule {
  kind: MediaKind;
  /** The Cloud API's own limit for this type (before the Veil cap). */
  cloudLimit: number;
  /** What file-type may detect in such a file; null: not detectable (plain text). */
  sniffed: readonly string[] | null;
}

const office = ["application/x-cfb"] as const;

/** The Cloud API's supported media types, and what their bytes must look like. */
const mimeRules: Record<string, MimeRule> = {
  "image/jpeg": { kind: "image", cloudLimit: 5 * MiB, sniffed: ["image/jpeg"] },
  "image/png": { kind: "image", cloudLimit: 5 * MiB, sniffed: ["image/png"] },
  // 100 KB for a static sticker, 500 KB for an animated one (checked below).
  "image/webp": { kind: "sticker", cloudLimit: 500 * KiB, sniffed: ["image/webp"] },
  "audio/aac": { kind: "audio", cloudLimit: 16 * MiB, sniffed: ["audio/aac"] },
  "audio/amr": { kind: "audio", cloudLimit: 16 * MiB, sniffed: ["audio/amr"] },
  "audio/mpeg": { kind: "audio", cloudLimit: 16 * MiB, sniffed: ["audio/mpeg"] },
  "audio/mp4": {
    kind: "audio",
    cloudLimit: 16 * MiB,
    sniffed: ["audio/mp4", "audio/x-m4a", "video/mp4"],
  },
  // The Cloud API takes Ogg with the Opus codec only.
  "audio/ogg": { kind: "audio", cloudLimit: 16 * MiB, sniffed: ["audio/ogg; codecs=opus"] },
  "video/mp4": { kind: "video", cloudLimit: 16 * MiB, sniffed: ["video/mp4", "video/x-m4v"] },
  "video/3gpp": { kind: "video", cloudLimit: 16 * MiB, sniffed: ["video/3gpp"] },
  "text/plain": { kind: "document", cloudLimit: 100 * MiB, sniffed: null },
  "application/pdf": { kind: "document", cloudLimit: 100 * MiB, sniffed: ["application/pdf"] },
  "application/msword": { kind: "document", cloudLimit: 100 * MiB, sniffed: office },
  "application/vnd.ms-excel": { kind: "document", cloudLimit: 100 * MiB, sniffed: office },
  "application/vnd.ms-powerpoint": { kind: "document", cloudLimit: 100 * MiB, sniffed: office },
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
    kind: "document",
    cloudLimit: 100 * MiB,
    sniffed: ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  },
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
    kind: "document",
    cloudLimit: 100 * MiB,
    sniffed: ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  },
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": {
    kind: "document",
    cloudLimit: 100 * MiB,
    sniffed: ["application/vnd.openxmlformats-officedocument.presentationml.presentation"],
  },
};

/** Every media type the upload and send routes accept. */
export const supportedMimeTypes: readonly string[] = Object.keys(mimeRules);

/** Why a file is refused: shown to the API caller as the error's details. */
export class MediaRejected extends Error {
  override name = "MediaRejected";
}

/** `Image/JPEG; charset=x` → `image/jpeg`. */
export const normalizeMime = (value: string): string =>
  (value.split(";")[0] ?? "").trim().toLowerCase();

/** The largest file the Veil server takes, given its ciphertext limit. */
export const veilFileLimit = (blobLimitBytes: number): number => blobLimitBytes - gcmTagBytes;

/** The most bytes any accepted file may have (the upload route's hard cap). */
export const largestAccepted = (blobLimitBytes: number): number =>
  Math.min(
    veilFileLimit(blobLimitBytes),
    Math.max(...Object.values(mimeRules).map((r) => r.cloudLimit)),
  );

/** Animated WebP: a VP8X header with the animation flag. */
function isAnimatedWebp(bytes: Uint8Array): boolean {
  const tag = Buffer.from(bytes.subarray(12, 16)).toString("latin1");
  return tag === "VP8X" && bytes.length > 20 && ((bytes[20] ?? 0) & 0x02) !== 0;
}

const describeSize = (bytes: number): string =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 2)} MiB` : `${bytes / KiB} KiB`;

/**
 * Checks a file against the Cloud API's rules for its declared type (type,
 * size, and that its bytes are what the type says) and the Veil server's
 * attachment limit. Returns the media kind; throws MediaRejected.
 */
export async function checkMedia(
  bytes: Uint8Array,
  declared: string,
  blobLimitBytes: number,
): Promise<{ mime: string; kind: MediaKind; animated: boolean }> {
  const mime = normalizeMime(declared);
  const rule = mimeRules[mime];
  if (!rule)
    throw new MediaRejected(
      `type ${mime.slice(0, 100) || "(none)"} is not supported; supported: ${supportedMimeTypes.join(", ")}`,
    );
  if (bytes.length === 0) throw new MediaRejected("the file is empty");
  const animated = mime === "image/webp" && isAnimatedWebp(bytes);
  const cloudLimit = mime === "image/webp" && !animated ? 100 * KiB : rule.cloudLimit;
  const limit = Math.min(cloudLimit, veilFileLimit(blobLimitBytes));
  if (bytes.length > limit)
    throw new MediaRejected(
      `the file has ${bytes.length} bytes; ${mime} files may have at most ${describeSize(limit)} (${limit} bytes)`,
    );
  const detected = (await fileTypeFromBuffer(bytes))?.mime;
  const fits =
    rule.sniffed === null
      ? detected === undefined && !bytes.includes(0)
      : detected !== undefined && rule.sniffed.includes(detected);
  if (!fits)
    throw new MediaRejected(
      `the file's content is ${detected ?? "not a recognised format"}, not ${mime}`,
    );
  return { mime, kind: rule.kind, animated };
}

/**
 * What a customer's file is, from its bytes (the sender's stated type is only
 * a fallback: it is not trusted for anything the bytes can tell).
 */
export async function identifyIncoming(
  bytes: Uint8Array,
  stated: string | undefined,
): Promise<{ mime: string; kind: MediaKind; animated: boolean }> {
  const detected = (await fileTypeFromBuffer(bytes))?.mime;
  const statedMime = stated ? normalizeMime(stated) : "";
  let mime: string;
  if (detected === undefined)
    mime =
      statedMime === "text/plain" && !bytes.includes(0) ? "text/plain" : "application/octet-stream";
  else if (detected === "application/x-cfb")
    mime = mimeRules[statedMime]?.sniffed === office ? statedMime : detected;
  else if (detected === "audio/x-m4a") mime = "audio/mp4";
  else mime = normalizeMime(detected);
  const kind: MediaKind = mime.startsWith("image/")
    ? "image"
    : mime.startsWith("video/")
      ? "video"
      : mime.startsWith("audio/")
        ? "audio"
        : "document";
  return { mime, kind, animated: mime === "image/webp" && isAnimatedWebp(bytes) };
}

/** Which kinds a stored file may be sent as. */
export function sendableAs(mime: string): MediaKind | null {
  return mimeRules[mime]?.kind ?? null;
}
