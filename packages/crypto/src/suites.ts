import type { CiphersuiteImpl, ClientConfig, Credential, CryptoProvider } from "ts-mls";
import {
  defaultCryptoProvider,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";
import { credentialIdOf } from "./credentials.js";
import { MlsError } from "./errors.js";
import { fastCryptoProvider } from "./fast-provider.js";

/** The cipher suites Veil uses: the RFC 9420 default, and X-Wing (X25519 + ML-KEM-768). */
export const suiteNames = [
  "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  "MLS_256_XWING_AES256GCM_SHA512_Ed25519",
] as const;
export type SuiteName = (typeof suiteNames)[number];
export const defaultSuiteName: SuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

/** `fast`: node:crypto where available (ts-mls's default elsewhere); `default`: ts-mls's own. */
export type ProviderName = "fast" | "default";

export interface SuiteOptions {
  /**
   * Called for every credential this device meets (in welcomes, commits and key packages it
   * adds), after the credential id itself was checked: return false to refuse the member, for
   * example when the device directory binds that id to another signature key.
   */
  verifyCredential?: (credentialId: string, signaturePublicKey: Uint8Array) => Promise<boolean>;
}

/** A loaded cipher suite: pass it to every MLS function. Opaque; holds no keys. */
export interface MlsSuite {
  readonly name: SuiteName;
  readonly provider: ProviderName;
}

interface SuiteInternals {
  impl: CiphersuiteImpl;
  config: ClientConfig;
  id: number;
}

const internals = new WeakMap<MlsSuite, SuiteInternals>();
const impls = new Map<string, Promise<CiphersuiteImpl>>();
const providers: Record<ProviderName, CryptoProvider> = {
  fast: fastCryptoProvider,
  default: defaultCryptoProvider,
};
const suiteIds: Record<SuiteName, number> = {
  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: 1,
  MLS_256_XWING_AES256GCM_SHA512_Ed25519: 83,
};

/**
 * Loads a cipher suite's implementation (once per suite and provider).
 * @example
 * const suite = await loadSuite(); // suite 1 on the fast provider
 * const pq = await loadSuite("MLS_256_XWING_AES256GCM_SHA512_Ed25519");
 */
export async function loadSuite(
  name: SuiteName = defaultSuiteName,
  provider: ProviderName = "fast",
  options: SuiteOptions = {},
): Promise<MlsSuite> {
  if (!suiteNames.includes(name)) throw new MlsError("unsupported", `Unknown suite ${name}`);
  if (providers[provider] === undefined) {
    throw new MlsError("invalid_argument", `Unknown provider ${provider}`);
  }
  const key = `${name}/${provider}`;
  let pending = impls.get(key);
  if (pending === undefined) {
    pending = getCiphersuiteImpl(getCiphersuiteFromName(name), providers[provider]);
    impls.set(key, pending);
    pending.catch(() => impls.delete(key));
  }
  let impl: CiphersuiteImpl;
  try {
    impl = await pending;
  } catch (err) {
    throw new MlsError("unsupported", `Suite ${name} cannot be loaded here`, { cause: err });
  }
  const suite: MlsSuite = Object.freeze({ name, provider });
  internals.set(suite, { impl, config: clientConfig(options), id: suiteIds[name] });
  return suite;
}

/** The implementation behind a suite; internal to this package. */
export function suiteInternals(suite: MlsSuite): SuiteInternals {
  const found = internals.get(suite);
  if (found === undefined) throw new MlsError("invalid_argument", "Not a suite from loadSuite()");
  return found;
}

/** The suite name for an MLS cipher suite id, if Veil uses it. */
export function suiteNameOf(id: string): SuiteName | undefined {
  return suiteNames.find((n) => n === id);
}

/**
 * ts-mls asks whether two added key packages are the same client by comparing every pair:
 * twenty-five million calls for a commit that adds 5000 devices, half of its time. mls.ts
 * checks that in linear time instead (distinct credential ids and signature keys among the
 * added packages, and against the tree) before ts-mls builds or processes a commit, so the
 * pairwise hook answers false. An added package against a current member keeps ts-mls's
 * test: same signature key, same client.
 */
const linearKeyPackageEquality: ClientConfig["keyPackageEqualityConfig"] = {
  compareKeyPackages: () => false,
  compareKeyPackageToLeafNode: (a, b) =>
    sameBytes(a.leafNode.signaturePublicKey, b.signaturePublicKey),
};

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function clientConfig(options: SuiteOptions): ClientConfig {
  return {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: linearKeyPackageEquality,
    paddingConfig: defaultPaddingConfig,
    authService: {
      async validateCredential(credential: Credential, signaturePublicKey: Uint8Array) {
        // Only basic credentials whose identity is an opaque credential id, never a name or
        // phone number (PRIVACY-MODEL.md, "Inside the cryptography").
        if (credential.credentialType !== "basic") return false;
        const id = credentialIdOf(credential.identity);
        if (id === undefined) return false;
        return options.verifyCredential ? options.verifyCredential(id, signaturePublicKey) : true;
      },
    },
  };
}
