/**
 * The public-key and AEAD primitives of sender keys, synchronous. Two implementations give
 * the same bytes: node:crypto (OpenSSL) and noble (pure JavaScript, for browsers). Hashing
 * (HMAC, HKDF) is @noble/hashes in both: a few microseconds, not worth a second path.
 */
export interface SenderKeyPrimitives {
  readonly name: "node" | "noble";
  /** A fresh Ed25519 key pair: the 32-byte seed and the 32-byte public key. */
  generateSigningKey(): { seed: Uint8Array; publicKey: Uint8Array };
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** RFC 8032 verification; false for any bad input, never a throw. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** AES-256-GCM with a 12-byte nonce; the output ends with the 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the tag does not authenticate. */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ): Uint8Array | undefined;
}
