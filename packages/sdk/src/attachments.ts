import { equalBytes, exactBuffer, fromBase64Url, randomBytes, toBase64Url } from "./encoding.js";
import type { AttachmentRef } from "./envelope.js";
import { VeilError } from "./errors.js";

/** A file encrypted for upload: the ciphertext, and what goes into the MLS message. */
export interface EncryptedAttachment {
  ciphertext: Uint8Array;
  ref: Omit<AttachmentRef, "blobId" | "name" | "mime">;
}

/**
 * Encrypts a file with AES-256-GCM under a fresh random key (WebCrypto); the
 * key never reaches the server, only the MLS message that carries it does.
 */
export async function encryptAttachment(plaintext: Uint8Array): Promise<EncryptedAttachment> {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const cryptoKey = await crypto.subtle.importKey("raw", exactBuffer(key), "AES-GCM", false, [
    "encrypt",
  ]);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: exactBuffer(nonce) },
      cryptoKey,
      exactBuffer(plaintext),
    ),
  );
  return {
    ciphertext,
    ref: {
      key: toBase64Url(key),
      nonce: toBase64Url(nonce),
      size: ciphertext.length,
      sha256: await sha256Base64Url(ciphertext),
    },
  };
}

/** Checks the downloaded bytes against the size and hash in the message, then decrypts. */
export async function decryptAttachment(
  ref: AttachmentRef,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const expected = fromBase64Url(ref.sha256);
  const key = fromBase64Url(ref.key);
  const nonce = fromBase64Url(ref.nonce);
  if (!expected || !key || key.length !== 32 || !nonce || nonce.length !== 12) {
    throw new VeilError("attachment_integrity", "The attachment reference is malformed");
  }
  const actual = new Uint8Array(await crypto.subtle.digest("SHA-256", exactBuffer(ciphertext)));
  if (ciphertext.length !== ref.size || !equalBytes(actual, expected)) {
    throw new VeilError("attachment_integrity");
  }
  const cryptoKey = await crypto.subtle.importKey("raw", exactBuffer(key), "AES-GCM", false, [
    "decrypt",
  ]);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: exactBuffer(nonce) },
        cryptoKey,
        exactBuffer(ciphertext),
      ),
    );
  } catch (err) {
    throw new VeilError("attachment_integrity", "The attachment does not decrypt", { cause: err });
  }
}

export async function sha256Base64Url(bytes: Uint8Array): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", exactBuffer(bytes))));
}
