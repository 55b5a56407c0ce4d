import { sha512 } from "@noble/hashes/sha2.js";

/** Both sides of a conversation: each one's stable id and the exact public-key bytes to hash. */
export interface SafetyNumberInput {
  localId: string;
  localKey: Uint8Array;
  remoteId: string;
  remoteKey: Uint8Array;
  /** SHA-512 iterations per side; 5200 unless both sides agreed on another count. */
  iterations?: number;
}

export const defaultIterations = 5200;
/** The version byte that starts every QR payload of this module. */
export const safetyNumberQrVersion = 1;
const fingerprintLength = 32;
const qrLength = 1 + 2 * fingerprintLength;
const utf8 = new TextEncoder();

/**
 * The 60-digit safety number of a pair (Signal's displayable fingerprint): the same for both
 * sides, whichever is local. For each side, h = SHA-512(0x0000 || key || id || key), then
 * iterations-1 times h = SHA-512(h || key); the first 30 bytes, as six 5-byte big-endian
 * numbers mod 100000, give 30 digits; the smaller half comes first.
 * @example
 * safetyNumber({ localId, localKey, remoteId, remoteKey }) // "30035 44776 …" without spaces
 */
export function safetyNumber(input: SafetyNumberInput): string {
  const iterations = checkedIterations(input.iterations);
  const local = digits(fingerprint(input.localId, input.localKey, iterations));
  const remote = digits(fingerprint(input.remoteId, input.remoteKey, iterations));
  return local <= remote ? local + remote : remote + local;
}

/**
 * The payload to show as a QR code, 65 bytes: the version byte (1), then the local side's
 * fingerprint and the remote side's (the first 32 bytes of each side's iterated hash).
 * The other device scans it and compares with `compareSafetyNumberQr`.
 */
export function safetyNumberQr(input: SafetyNumberInput): Uint8Array {
  const iterations = checkedIterations(input.iterations);
  const out = new Uint8Array(qrLength);
  out[0] = safetyNumberQrVersion;
  out.set(fingerprint(input.localId, input.localKey, iterations).subarray(0, 32), 1);
  out.set(fingerprint(input.remoteId, input.remoteKey, iterations).subarray(0, 32), 33);
  return out;
}

export type SafetyNumberComparison = "match" | "mismatch" | "unsupported_version" | "malformed";

/**
 * Compares a scanned payload with this device's own `safetyNumberQr` for the same pair:
 * the scanner's remote side is the shower's local side, and the other way round.
 */
export function compareSafetyNumberQr(
  scanned: Uint8Array,
  expected: Uint8Array,
): SafetyNumberComparison {
  if (expected.length !== qrLength || expected[0] !== safetyNumberQrVersion) {
    throw new TypeError("expected must come from safetyNumberQr()");
  }
  if (!(scanned instanceof Uint8Array) || scanned.length < 1) return "malformed";
  if (scanned[0] !== safetyNumberQrVersion) return "unsupported_version";
  if (scanned.length !== qrLength) return "malformed";
  let diff = 0;
  for (let i = 0; i < fingerprintLength; i++) {
    diff |= (scanned[1 + i] ?? 0) ^ (expected[33 + i] ?? 0);
    diff |= (scanned[33 + i] ?? 0) ^ (expected[1 + i] ?? 0);
  }
  return diff === 0 ? "match" : "mismatch";
}

function checkedIterations(iterations: number | undefined): number {
  const n = iterations ?? defaultIterations;
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new RangeError("iterations must be an integer from 1 to 1000000");
  }
  return n;
}

function fingerprint(id: string, key: Uint8Array, iterations: number): Uint8Array {
  if (typeof id !== "string" || !(key instanceof Uint8Array) || key.length === 0) {
    throw new TypeError("Each side needs a string id and non-empty key bytes");
  }
  const idBytes = utf8.encode(id);
  const first = new Uint8Array(2 + key.length + idBytes.length + key.length);
  first.set(key, 2);
  first.set(idBytes, 2 + key.length);
  first.set(key, 2 + key.length + idBytes.length);
  let hash = sha512(first);
  // One buffer reused for every later round: hash || key.
  const round = new Uint8Array(hash.length + key.length);
  round.set(key, hash.length);
  for (let i = 1; i < iterations; i++) {
    round.set(hash, 0);
    hash = sha512(round);
  }
  return hash;
}

function digits(hash: Uint8Array): string {
  let out = "";
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (hash[chunk * 5 + i] ?? 0);
    out += String(value % 100000).padStart(5, "0");
  }
  return out;
}
