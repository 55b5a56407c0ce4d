import { gcm } from "@noble/ciphers/aes.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { SenderKeyPrimitives } from "./sender-key-port.js";

/** Sender-key primitives in pure JavaScript: runs wherever WebCrypto's random source does. */
export const nobleSenderKeyPrimitives: SenderKeyPrimitives = {
  name: "noble",
  generateSigningKey() {
    const { secretKey, publicKey } = ed25519.keygen();
    return { seed: secretKey, publicKey };
  },
  sign: (seed, message) => ed25519.sign(message, seed),
  verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      // Strict RFC 8032 rules, as OpenSSL applies them, rather than noble's default ZIP 215.
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  seal: (key, nonce, aad, plaintext) => gcm(key, nonce, aad).encrypt(plaintext),
  open(key, nonce, aad, ciphertext) {
    try {
      return gcm(key, nonce, aad).decrypt(ciphertext);
    } catch {
      return undefined;
    }
  },
};
