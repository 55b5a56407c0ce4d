import type { Capabilities, KeyPackage, PrivateKeyPackage } from "ts-mls";
import {
  decodeMlsMessage,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  generateKeyPackage as mlsGenerateKeyPackage,
} from "ts-mls";
import { credentialIdentity, credentialIdOf } from "./credentials.js";
import { MlsError } from "./errors.js";
import { type MlsSuite, suiteInternals, suiteNames } from "./suites.js";

/** The `last_resort` KeyPackage extension (RFC 9420 IANA registry, draft-ietf-mls-extensions). */
export const lastResortExtensionType = 0x000a;

/** How long a key package may be used: the SDK replaces them well before. */
export const keyPackageLifetimeSeconds = 90 * 24 * 3600;
/** Tolerated clock skew between the device that makes a key package and the one that adds it. */
const clockSkewSeconds = 3600;

export interface KeyPackageBundle {
  /** The encoded MLSMessage (mls_key_package): what the server stores and hands out. */
  publicKeyPackage: Uint8Array;
  /** The private keys of that key package, serialised: it never leaves the device. */
  privateKeyPackage: Uint8Array;
}

export interface KeyPackageOptions {
  /** Marks the device's reusable key package, handed out when its one-time ones run out. */
  lastResort?: boolean;
  /**
   * Sign the leaf with this Ed25519 key instead of a fresh one, for example the device's
   * identity key, so that a credential id can be checked against the device directory.
   */
  signatureKey?: { publicKey: Uint8Array; privateKey: Uint8Array };
}

const capabilities = (): Capabilities => ({
  versions: ["mls10"],
  ciphersuites: [...suiteNames],
  extensions: [lastResortExtensionType],
  proposals: [],
  credentials: ["basic"],
});

/**
 * Makes a key package whose basic credential carries `credentialId` and nothing else.
 * @example
 * const { publicKeyPackage, privateKeyPackage } = await generateKeyPackage(suite, deviceId);
 */
export async function generateKeyPackage(
  suite: MlsSuite,
  credentialId: string,
  options: KeyPackageOptions = {},
): Promise<KeyPackageBundle> {
  const { impl } = suiteInternals(suite);
  const credential = {
    credentialType: "basic" as const,
    identity: credentialIdentity(credentialId),
  };
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lifetime = {
    notBefore: now - BigInt(clockSkewSeconds),
    notAfter: now + BigInt(keyPackageLifetimeSeconds),
  };
  const extensions = options.lastResort
    ? [{ extensionType: lastResortExtensionType, extensionData: new Uint8Array() }]
    : [];
  const { signatureKey } = options;
  if (signatureKey !== undefined && signatureKey.privateKey.length !== 32) {
    throw new MlsError(
      "invalid_argument",
      "signatureKey.privateKey must be a 32-byte Ed25519 seed",
    );
  }
  const { publicPackage, privatePackage } = signatureKey
    ? await generateKeyPackageWithKey(
        credential,
        capabilities(),
        lifetime,
        extensions,
        { signKey: signatureKey.privateKey, publicKey: signatureKey.publicKey },
        impl,
      )
    : await mlsGenerateKeyPackage(credential, capabilities(), lifetime, extensions, impl);
  return {
    publicKeyPackage: encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_key_package",
      keyPackage: publicPackage,
    }),
    privateKeyPackage: encodePrivateKeyPackage(suiteInternals(suite).id, privatePackage),
  };
}

/** The decoded key package in an encoded MLSMessage, or undefined. */
export function decodeKeyPackage(bytes: Uint8Array): KeyPackage | undefined {
  try {
    const decoded = decodeMlsMessage(bytes, 0);
    if (decoded === undefined || decoded[1] !== bytes.length) return undefined;
    const [message] = decoded;
    return message.wireformat === "mls_key_package" ? message.keyPackage : undefined;
  } catch {
    return undefined;
  }
}

/** The credential id in a key package's leaf, if it is a basic credential of ours. */
export function keyPackageCredentialId(kp: KeyPackage): string | undefined {
  const { credential } = kp.leafNode;
  return credential.credentialType === "basic" ? credentialIdOf(credential.identity) : undefined;
}

// Private key package format, version 1:
// 0x01, suite id (uint16), then three (uint16 length, bytes) fields: init, hpke, signature key.
const privateFormatVersion = 1;

function encodePrivateKeyPackage(suiteId: number, p: PrivateKeyPackage): Uint8Array {
  const fields = [p.initPrivateKey, p.hpkePrivateKey, p.signaturePrivateKey];
  const out = new Uint8Array(3 + fields.reduce((n, f) => n + 2 + f.length, 0));
  const view = new DataView(out.buffer);
  out[0] = privateFormatVersion;
  view.setUint16(1, suiteId);
  let offset = 3;
  for (const f of fields) {
    view.setUint16(offset, f.length);
    out.set(f, offset + 2);
    offset += 2 + f.length;
  }
  return out;
}

export function decodePrivateKeyPackage(
  suiteId: number,
  bytes: Uint8Array,
): PrivateKeyPackage | undefined {
  if (bytes.length < 3 || bytes[0] !== privateFormatVersion) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(1) !== suiteId) return undefined;
  const fields: Uint8Array[] = [];
  let offset = 3;
  for (let i = 0; i < 3; i++) {
    if (offset + 2 > bytes.length) return undefined;
    const length = view.getUint16(offset);
    if (offset + 2 + length > bytes.length) return undefined;
    fields.push(bytes.slice(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  const [initPrivateKey, hpkePrivateKey, signaturePrivateKey] = fields;
  if (offset !== bytes.length || !initPrivateKey || !hpkePrivateKey || !signaturePrivateKey) {
    return undefined;
  }
  return { initPrivateKey, hpkePrivateKey, signaturePrivateKey };
}
