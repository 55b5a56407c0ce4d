// Byte helpers that run the same in browsers and Node (no Buffer).

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export const utf8 = (text: string): Uint8Array => utf8Encoder.encode(text);

/** Decodes UTF-8, throwing on invalid bytes. */
export const fromUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const base64UrlPattern = /^[A-Za-z0-9_-]*$/;

/** base64url (padding optional) to bytes; undefined when it is not base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!base64UrlPattern.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A fresh message id: `m_` and 128 random bits, accepted by the server as a client id. */
export const newMessageId = (): string => `m_${toBase64Url(randomBytes(16))}`;
/** A channel post's client id: a resend with it is stored once. */
export const newPostId = (): string => `p_${toBase64Url(randomBytes(16))}`;

/** An ArrayBuffer holding exactly these bytes (WebCrypto and fetch want one). */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}
