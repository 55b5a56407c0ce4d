import { imageType } from "./image-type.js";

/**
 * Sniffs the type of public channel media from its first bytes (the declared
 * type is not trusted): JPEG, PNG and WebP images, MP4 video, MP3 audio, PDF.
 */
export function channelMediaType(bytes: Buffer): string | null {
  const image = imageType(bytes);
  if (image) return image;
  // ISO base media: a box size, then "ftyp" (MP4 and its brands).
  if (bytes.length >= 12 && bytes.subarray(4, 8).toString("latin1") === "ftyp") return "video/mp4";
  if (bytes.subarray(0, 5).toString("latin1") === "%PDF-") return "application/pdf";
  // MP3: an ID3v2 tag, or an MPEG audio frame sync (11 bits set) with layer III.
  if (bytes.subarray(0, 3).toString("latin1") === "ID3") return "audio/mpeg";
  const [first, second] = [bytes[0] ?? 0, bytes[1] ?? 0];
  if (first === 0xff && (second & 0xe0) === 0xe0 && (second & 0x06) === 0x02) return "audio/mpeg";
  return null;
}
