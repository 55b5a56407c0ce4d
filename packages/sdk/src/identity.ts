import { ed25519 } from "@noble/curves/ed25519.js";
import { challengeSigningPrefix, linkSigningPrefix } from "@veil/protocol";
import { concatBytes, exactBuffer, fromBase64Url, toBase64Url, utf8 } from "./encoding.js";
import { VeilError } from "./errors.js";

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410), for WebCrypto's importKey.
const pkcs8Prefix = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * A device's Ed25519 key. It authenticates the device to the server (signed
 * challenges), approves new devices, and signs the device's MLS leaves, so a
 * device has one identity key everywhere (what safety numbers are made of).
 * Signing uses WebCrypto where it supports Ed25519 and @noble/curves elsewhere.
 */
export class DeviceIdentity {
  readonly publicKey: Uint8Array;
  #seed: Uint8Array;
  #webKey: Promise<CryptoKey | null> | undefined;

  private constructor(seed: Uint8Array) {
    if (seed.length !== 32) throw new VeilError("invalid_argument", "An Ed25519 seed is 32 bytes");
    this.#seed = seed.slice();
    this.publicKey = ed25519.getPublicKey(this.#seed);
  }

  static generate(): DeviceIdentity {
    return new DeviceIdentity(ed25519.utils.randomSecretKey());
  }

  static fromSeed(seed: Uint8Array): DeviceIdentity {
    return new DeviceIdentity(seed);
  }

  /** The raw public key, base64url: what the server stores. */
  get publicKeyBase64(): string {
    return toBase64Url(this.publicKey);
  }

  /** The private seed, for the store only. */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  /** For @veil/crypto: MLS leaves signed with this key. */
  mlsSignatureKey(): { publicKey: Uint8Array; privateKey: Uint8Array } {
    return { publicKey: this.publicKey, privateKey: this.#seed.slice() };
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const key = await this.webKey();
    if (key) {
      try {
        return new Uint8Array(await crypto.subtle.sign("Ed25519", key, exactBuffer(message)));
      } catch {
        // fall through to noble
      }
    }
    return ed25519.sign(message, this.#seed);
  }

  /** The proof of possession the server asks for: `veil/auth/v1\n` + the raw challenge. */
  async signChallenge(challenge: string): Promise<string> {
    const raw = fromBase64Url(challenge);
    if (!raw) throw new VeilError("bad_response", "The challenge is not base64url");
    return toBase64Url(await this.sign(concatBytes(utf8(challengeSigningPrefix), raw)));
  }

  /** An approval of a new device: `veil/link/v1\n` + the new device's raw public key. */
  async signLinkApproval(newPublicKey: string): Promise<string> {
    const raw = fromBase64Url(newPublicKey);
    if (raw?.length !== 32) throw new VeilError("link_invalid", "Not an Ed25519 public key");
    return toBase64Url(await this.sign(concatBytes(utf8(linkSigningPrefix), raw)));
  }

  private webKey(): Promise<CryptoKey | null> {
    this.#webKey ??= (async () => {
      if (typeof crypto === "undefined" || !crypto.subtle) return null;
      try {
        return await crypto.subtle.importKey(
          "pkcs8",
          exactBuffer(concatBytes(pkcs8Prefix, this.#seed)),
          { name: "Ed25519" },
          false,
          ["sign"],
        );
      } catch {
        return null; // this WebCrypto has no Ed25519
      }
    })();
    return this.#webKey;
  }
}

/** Verifies an Ed25519 signature (used by tests and by callers checking approvals). */
export function verifySignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
