// The public byte layout of a sender-key message (an announcement encrypted with an admin
// device's sender key). No crypto and no imports: the delivery service checks the header with
// it, and @veil/crypto builds and reads messages with it.
//
//   u8      version (1)
//   u8      group id length (1..64), then the group id in UTF-8 (the server's group id)
//   16      key id (random, names the sender key)
//   u32     iteration, big-endian (the position in the sender key's hash chain)
//   ...     AES-GCM ciphertext, its 16-byte tag at the end
//   64      Ed25519 signature over every byte before it
//
// The header is everything before the ciphertext; it is the AEAD's associated data.

export const senderKeyWireVersion = 1;
export const senderKeyIdLength = 16;
export const senderKeyTagLength = 16;
export const senderKeySignatureLength = 64;
export const maxSenderKeyGroupIdBytes = 64;
export const maxSenderKeyIteration = 0xffff_ffff;

export interface SenderKeyHeader {
  /** The server's group id (1 to 64 bytes of UTF-8). */
  groupId: string;
  /** 16 bytes naming the sender key. */
  keyId: Uint8Array;
  /** 0 to 2^32 - 1. */
  iteration: number;
}

/** A sender-key message split into its parts. The byte arrays are views into the input. */
export interface ParsedSenderKeyMessage extends SenderKeyHeader {
  /** Version to iteration: the AEAD's associated data. */
  header: Uint8Array;
  /** AES-GCM output, tag included (at least 16 bytes). */
  ciphertext: Uint8Array;
  /** Ed25519 over header || ciphertext. */
  signature: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
// version, group id length, key id, iteration.
const fixedHeaderBytes = 1 + 1 + senderKeyIdLength + 4;

/**
 * The header bytes of a sender-key message. Throws a TypeError or RangeError on a group id
 * outside 1 to 64 bytes, a key id that is not 16 bytes, or an iteration that is not a u32.
 * @example
 * const header = encodeSenderKeyHeader({ groupId: "g_abc", keyId, iteration: 0 });
 */
export function encodeSenderKeyHeader(header: SenderKeyHeader): Uint8Array {
  const { groupId, keyId, iteration } = header;
  if (typeof groupId !== "string") throw new TypeError("groupId must be a string");
  const id = utf8.encode(groupId);
  if (id.length < 1 || id.length > maxSenderKeyGroupIdBytes) {
    throw new RangeError(`A group id is 1 to ${maxSenderKeyGroupIdBytes} bytes of UTF-8`);
  }
  if (!(keyId instanceof Uint8Array) || keyId.length !== senderKeyIdLength) {
    throw new RangeError(`A key id is ${senderKeyIdLength} bytes`);
  }
  if (!Number.isInteger(iteration) || iteration < 0 || iteration > maxSenderKeyIteration) {
    throw new RangeError("An iteration is an integer from 0 to 2^32 - 1");
  }
  const out = new Uint8Array(fixedHeaderBytes + id.length);
  out[0] = senderKeyWireVersion;
  out[1] = id.length;
  out.set(id, 2);
  out.set(keyId, 2 + id.length);
  new DataView(out.buffer).setUint32(2 + id.length + senderKeyIdLength, iteration);
  return out;
}

/**
 * Splits a sender-key message, or returns null when it is malformed: too short, another
 * version, a group id length outside 1 to 64 or not UTF-8, or a ciphertext shorter than its
 * tag. Never throws. It authenticates nothing: only members holding the sender key can.
 * @example
 * const parsed = parseSenderKeyMessage(body);
 * if (parsed === null || parsed.groupId !== groupId) reject();
 */
export function parseSenderKeyMessage(bytes: Uint8Array): ParsedSenderKeyMessage | null {
  if (!(bytes instanceof Uint8Array)) return null;
  if (bytes.length < fixedHeaderBytes + 1 + senderKeyTagLength + senderKeySignatureLength) {
    return null;
  }
  if (bytes[0] !== senderKeyWireVersion) return null;
  const idLength = bytes[1] ?? 0;
  if (idLength < 1 || idLength > maxSenderKeyGroupIdBytes) return null;
  const headerLength = fixedHeaderBytes + idLength;
  const signatureAt = bytes.length - senderKeySignatureLength;
  if (signatureAt - headerLength < senderKeyTagLength) return null;
  let groupId: string;
  try {
    groupId = fromUtf8.decode(bytes.subarray(2, 2 + idLength));
  } catch {
    return null;
  }
  const iterationAt = 2 + idLength + senderKeyIdLength;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    groupId,
    keyId: bytes.subarray(2 + idLength, iterationAt),
    iteration: view.getUint32(iterationAt),
    header: bytes.subarray(0, headerLength),
    ciphertext: bytes.subarray(headerLength, signatureAt),
    signature: bytes.subarray(signatureAt),
  };
}
