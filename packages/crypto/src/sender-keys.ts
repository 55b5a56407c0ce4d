import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import {
  encodeSenderKeyHeader,
  maxSenderKeyGroupIdBytes,
  maxSenderKeyIteration,
  parseSenderKeyMessage,
  senderKeyIdLength,
  senderKeySignatureLength,
} from "@veil/protocol/sender-key-wire";
import { MlsError } from "./errors.js";
import { senderKeyPrimitives } from "./sender-key-primitives.js";

// Sender keys, as WhatsApp distributes Signal's: each admin device of an announcement group
// holds a hash chain and an Ed25519 key pair, posts under them, and hands the current chain key
// and the public key to every member over pairwise MLS groups. The message layout is
// @veil/protocol's sender-key-wire, so the delivery service can read the header without keys.

/** What every sender-key state carries. Treat the byte arrays as read-only. */
interface SenderKeyFields {
  /** The server's group id the key posts in (1 to 64 bytes of UTF-8). */
  readonly groupId: string;
  /** 16 random bytes naming this key in every message's header. */
  readonly keyId: Uint8Array;
  /** The iteration `chainKey` derives: the next message's, for an own key. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  /** Ed25519 public key that every message under this key is signed with. */
  readonly signingPublicKey: Uint8Array;
}

/** This device's own sender key: it encrypts and signs. Store it encrypted at rest. */
export interface OwnSenderKey extends SenderKeyFields {
  readonly kind: "own";
  /** The Ed25519 private key (its 32-byte seed). Never leaves this device. */
  readonly signingSeed: Uint8Array;
  /** When the key was made (Unix milliseconds), for periodic rotation. */
  readonly createdAt: number;
}

/** Another device's sender key as a member holds it: it decrypts and verifies. */
export interface ReceivedSenderKey extends SenderKeyFields {
  readonly kind: "received";
  /** Message keys of iterations skipped over (out of order), oldest first. */
  readonly skipped: ReadonlyMap<number, Uint8Array>;
}

export type SenderKeyState = OwnSenderKey | ReceivedSenderKey;

/** At most this many skipped message keys are kept per sender key; the oldest go first. */
export const maxSkippedSenderKeys = 2000;
/** A message more than this many iterations ahead of a receiver's chain is refused. */
export const maxSenderKeyJump = 25_000;
/** When an admin device makes a new key even without a removal (see shouldRotateSenderKey). */
export const senderKeyRotation = Object.freeze({
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxMessages: 10_000,
});

const chainKeyLength = 32;
const publicKeyLength = 32;
const distributionVersion = 1;
const stateFormatVersion = 1;
const ownKind = 1;
const receivedKind = 2;
const utf8 = new TextEncoder();
const messageKeyInfo = utf8.encode("veil/sender-key/v1/message");
const messageSeedInput = Uint8Array.of(0x01);
const chainStepInput = Uint8Array.of(0x02);
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
const noSkipped: ReadonlyMap<number, Uint8Array> = new Map();

// Own states that have encrypted: encrypting again from one would reuse its AES-GCM key and
// nonce, and distributing one would hand out a key to messages already sent.
const spent = new WeakSet<OwnSenderKey>();

/**
 * A new sender key for this device in `groupId`: random key id and chain key, iteration 0,
 * a fresh Ed25519 key pair. Make one per group, and a new one on every member removal.
 * @example
 * let key = await createSenderKey("g_abc");
 * const toEveryMember = distributionOf(key); // over each pairwise MLS group
 */
export async function createSenderKey(groupId: string): Promise<OwnSenderKey> {
  checkGroupId(groupId);
  const { seed, publicKey } = (await senderKeyPrimitives()).generateSigningKey();
  return Object.freeze({
    kind: "own",
    groupId,
    keyId: randomBytes(senderKeyIdLength),
    iteration: 0,
    chainKey: randomBytes(chainKeyLength),
    signingPublicKey: publicKey,
    signingSeed: seed,
    createdAt: Date.now(),
  });
}

/**
 * Encrypts and signs one message. Use the returned state from then on, and persist it before
 * sending: the state given here is spent (encrypting or distributing from it again is
 * refused), since a second message from it would reuse its key and nonce.
 * @example
 * const { state, message } = await encryptWithSenderKey(key, plaintext);
 * key = state; // persist, then post `message` to the announcement group
 */
export async function encryptWithSenderKey(
  state: OwnSenderKey,
  plaintext: Uint8Array,
): Promise<{ state: OwnSenderKey; message: Uint8Array }> {
  checkOwn(state);
  if (!(plaintext instanceof Uint8Array)) throw new MlsError("invalid_argument", "Not bytes");
  if (state.iteration >= maxSenderKeyIteration) {
    throw new MlsError("invalid_argument", "The sender key is used up: rotate it");
  }
  const header = headerOf(state);
  if (spent.has(state)) {
    throw new MlsError("invalid_argument", "This sender key state is spent: use the newest");
  }
  spent.add(state);
  const primitives = await senderKeyPrimitives();
  const { key, nonce } = messageKeys(messageSeedOf(state.chainKey));
  const ciphertext = primitives.seal(key, nonce, header, plaintext);
  const signedLength = header.length + ciphertext.length;
  const message = new Uint8Array(signedLength + senderKeySignatureLength);
  message.set(header, 0);
  message.set(ciphertext, header.length);
  message.set(primitives.sign(state.signingSeed, message.subarray(0, signedLength)), signedLength);
  const next: OwnSenderKey = Object.freeze({
    ...state,
    iteration: state.iteration + 1,
    chainKey: nextChainKeyOf(state.chainKey),
  });
  return { state: next, message };
}

/**
 * Verifies and decrypts a sender-key message. The signature is checked before the chain is
 * touched; then a later iteration ratchets forward (keeping the keys of the iterations it skips,
 * up to 2000), an earlier one uses its kept key once. Throws MlsError: `malformed`,
 * `not_for_this_group`, `sender_key_unknown` (another key id), `decrypt_failed` (signature or
 * AEAD), `duplicate` (a replay, a message from before this key was received, one whose key was
 * dropped, or this device's own message given its own key), `too_far_ahead` (over 25 000).
 * @example
 * const { state, plaintext } = await decryptWithSenderKey(held, message);
 * held = state;
 */
export async function decryptWithSenderKey(
  state: SenderKeyState,
  message: Uint8Array,
): Promise<{ state: ReceivedSenderKey; plaintext: Uint8Array }> {
  if (state?.kind !== "own" && state?.kind !== "received") {
    throw new MlsError("invalid_argument", "Not a sender-key state");
  }
  const parsed = parseSenderKeyMessage(message);
  if (parsed === null) throw new MlsError("malformed", "Not a sender-key message");
  if (parsed.groupId !== state.groupId) throw new MlsError("not_for_this_group");
  if (!equalBytes(parsed.keyId, state.keyId)) throw new MlsError("sender_key_unknown");
  const primitives = await senderKeyPrimitives();
  const signed = message.subarray(0, message.length - senderKeySignatureLength);
  if (!primitives.verify(state.signingPublicKey, signed, parsed.signature)) {
    throw new MlsError("decrypt_failed", "The signature does not verify");
  }
  if (state.kind === "own") throw new MlsError("duplicate", "This device's own message");

  const n = parsed.iteration;
  let messageSeed: Uint8Array;
  let chainKey = state.chainKey;
  let iteration = state.iteration;
  let skipped = state.skipped;
  if (n < iteration) {
    const kept = skipped.get(n);
    if (kept === undefined) throw new MlsError("duplicate");
    messageSeed = kept;
    const rest = new Map(skipped);
    rest.delete(n);
    skipped = rest;
  } else {
    if (n - iteration > maxSenderKeyJump) throw new MlsError("too_far_ahead");
    if (n === maxSenderKeyIteration) throw new MlsError("malformed", "No key sends that iteration");
    if (n > iteration) {
      const more = new Map(skipped);
      // Iterations too old to be kept anyway are stepped over without deriving their keys.
      const keepFrom = n - maxSkippedSenderKeys;
      for (; iteration < n; iteration++) {
        if (iteration >= keepFrom) more.set(iteration, messageSeedOf(chainKey));
        chainKey = nextChainKeyOf(chainKey);
      }
      for (const old of more.keys()) {
        if (more.size <= maxSkippedSenderKeys) break;
        more.delete(old);
      }
      skipped = more;
    }
    messageSeed = messageSeedOf(chainKey);
    chainKey = nextChainKeyOf(chainKey);
    iteration = n + 1;
  }
  const { key, nonce } = messageKeys(messageSeed);
  const plaintext = primitives.open(key, nonce, parsed.header, parsed.ciphertext);
  if (plaintext === undefined) throw new MlsError("decrypt_failed");
  const next: ReceivedSenderKey = Object.freeze({ ...state, iteration, chainKey, skipped });
  return { state: next, plaintext };
}

/**
 * The distribution message of an own key, for each member over its pairwise MLS group: version
 * (1), group id (u8 length, UTF-8), key id (16), iteration (u32), chain key (32), signing public
 * key (32): 86 bytes and the group id. It opens every message from its iteration on, none before.
 */
export function distributionOf(state: OwnSenderKey): Uint8Array {
  checkOwn(state);
  if (spent.has(state)) {
    throw new MlsError("invalid_argument", "This sender key state is spent: use the newest");
  }
  const w = new Writer();
  w.u8(distributionVersion);
  writeFields(w, state);
  return w.done();
}

/**
 * A member's state from a distribution message. It does not say who sent it: accept it only
 * from a pairwise MLS group with an admin device of the community that owns `groupId`, and
 * keep the state already held for the same key id if it is at a later iteration.
 */
export function readDistribution(bytes: Uint8Array): ReceivedSenderKey {
  const r = new Reader(bytes, "Not a sender-key distribution");
  if (r.u8() !== distributionVersion) r.fail();
  const fields = readFields(r);
  r.end();
  return Object.freeze({ kind: "received", ...fields, skipped: noSkipped });
}

/**
 * Either kind of state as compact bytes, private keys included: store it encrypted at rest.
 * Version 1: 0x01, kind (1 own, 2 received), the distribution's fields, then for an own key
 * its signing seed (32) and creation time (u64 ms); for a received key the count of skipped
 * keys (u16) and each one's iteration (u32) and key (32).
 */
export function serializeSenderKey(state: SenderKeyState): Uint8Array {
  if (state?.kind !== "own" && state?.kind !== "received") {
    throw new MlsError("invalid_argument", "Not a sender-key state");
  }
  const w = new Writer();
  w.u8(stateFormatVersion);
  w.u8(state.kind === "own" ? ownKind : receivedKind);
  writeFields(w, state);
  if (state.kind === "own") {
    w.bytes(state.signingSeed);
    w.u64(state.createdAt);
  } else {
    w.u16(state.skipped.size);
    for (const [iteration, seed] of state.skipped) {
      w.u32(iteration);
      w.bytes(seed);
    }
  }
  return w.done();
}

/** Reads a state written by serializeSenderKey; `malformed` for anything else. */
export function restoreSenderKey(bytes: Uint8Array): SenderKeyState {
  const r = new Reader(bytes, "Not a serialised sender key");
  if (r.u8() !== stateFormatVersion) r.fail();
  const kind = r.u8();
  const fields = readFields(r);
  if (kind === ownKind) {
    const signingSeed = r.take(32);
    const createdAt = r.u64();
    r.end();
    if (!equalBytes(ed25519.getPublicKey(signingSeed), fields.signingPublicKey)) r.fail();
    return Object.freeze({ kind: "own", ...fields, signingSeed, createdAt });
  }
  if (kind !== receivedKind) r.fail();
  const count = r.u16();
  if (count > maxSkippedSenderKeys) r.fail();
  const skipped = new Map<number, Uint8Array>();
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const iteration = r.u32();
    // Ascending and behind the chain, as decryptWithSenderKey keeps them.
    if (iteration <= previous || iteration >= fields.iteration) r.fail();
    skipped.set(iteration, r.take(chainKeyLength));
    previous = iteration;
  }
  r.end();
  return Object.freeze({ kind: "received", ...fields, skipped });
}

/**
 * Whether an own key is due for periodic rotation: 10 000 messages sent, or 7 days old.
 * (A removal from the group always calls for a new key, whatever this says.)
 */
export function shouldRotateSenderKey(state: OwnSenderKey, now: number = Date.now()): boolean {
  checkOwn(state);
  return (
    state.iteration >= senderKeyRotation.maxMessages ||
    now - state.createdAt >= senderKeyRotation.maxAgeMs
  );
}

// Signal's sender-key chain: a message's key material, and the next chain key.
function messageSeedOf(chainKey: Uint8Array): Uint8Array {
  return hmac(sha256, chainKey, messageSeedInput);
}

function nextChainKeyOf(chainKey: Uint8Array): Uint8Array {
  return hmac(sha256, chainKey, chainStepInput);
}

/** AES-256-GCM key and nonce of one message, from its key material. */
function messageKeys(messageSeed: Uint8Array) {
  const okm = hkdf(sha256, messageSeed, undefined, messageKeyInfo, 32 + 12);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

function checkGroupId(groupId: string): void {
  const length = typeof groupId === "string" ? utf8.encode(groupId).length : 0;
  if (length < 1 || length > maxSenderKeyGroupIdBytes) {
    throw new MlsError("invalid_argument", "A group id is 1 to 64 bytes of UTF-8");
  }
}

function headerOf(state: OwnSenderKey): Uint8Array {
  try {
    return encodeSenderKeyHeader(state);
  } catch (err) {
    throw new MlsError("invalid_argument", "Not a well-formed sender key", { cause: err });
  }
}

function checkOwn(state: OwnSenderKey): void {
  if (state?.kind !== "own") throw new MlsError("invalid_argument", "Not an own sender key");
}

function writeFields(w: Writer, state: SenderKeyFields): void {
  const groupId = utf8.encode(state.groupId);
  w.u8(groupId.length);
  w.bytes(groupId);
  w.bytes(state.keyId);
  w.u32(state.iteration);
  w.bytes(state.chainKey);
  w.bytes(state.signingPublicKey);
}

function readFields(r: Reader): SenderKeyFields {
  const length = r.u8();
  if (length < 1 || length > maxSenderKeyGroupIdBytes) r.fail();
  let groupId: string;
  try {
    groupId = fromUtf8.decode(r.take(length));
  } catch {
    return r.fail();
  }
  const keyId = r.take(senderKeyIdLength);
  const iteration = r.u32();
  const chainKey = r.take(chainKeyLength);
  const signingPublicKey = r.take(publicKeyLength);
  if (!ed25519.utils.isValidPublicKey(signingPublicKey, false)) r.fail();
  return { groupId, keyId, iteration, chainKey, signingPublicKey };
}

class Writer {
  #parts: Uint8Array[] = [];
  #length = 0;
  u8(n: number) {
    this.bytes(Uint8Array.of(n));
  }
  u16(n: number) {
    this.bytes(Uint8Array.of(n >>> 8, n & 0xff));
  }
  u32(n: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    this.bytes(b);
  }
  u64(n: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    this.bytes(b);
  }
  bytes(b: Uint8Array) {
    this.#parts.push(b);
    this.#length += b.length;
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Reads bytes front to back; every shortfall or leftover is MlsError("malformed"). */
class Reader {
  #at = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  constructor(bytes: Uint8Array, what: string) {
    if (!(bytes instanceof Uint8Array)) throw new MlsError("malformed", what);
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }
  fail(): never {
    throw new MlsError("malformed", this.#what);
  }
  #need(n: number): number {
    const at = this.#at;
    if (at + n > this.#bytes.length) this.fail();
    this.#at += n;
    return at;
  }
  u8(): number {
    return this.#view.getUint8(this.#need(1));
  }
  u16(): number {
    return this.#view.getUint16(this.#need(2));
  }
  u32(): number {
    return this.#view.getUint32(this.#need(4));
  }
  u64(): number {
    const value = this.#view.getBigUint64(this.#need(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail();
    return Number(value);
  }
  /** A copy, so a state never shares memory with the buffer it was read from. */
  take(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#bytes.slice(at, at + n);
  }
  end(): void {
    if (this.#at !== this.#bytes.length) this.fail();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
