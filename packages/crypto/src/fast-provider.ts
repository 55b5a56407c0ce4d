import type { Ciphersuite, CiphersuiteImpl, CryptoProvider } from "ts-mls";
import { defaultCryptoProvider } from "ts-mls";
import { nodeCiphersuiteImpl } from "./node-suite.js";

type NodeCryptoModule = typeof import("node:crypto");

let nodeCrypto: Promise<NodeCryptoModule | undefined> | undefined;

/** node:crypto when running on Node, undefined elsewhere (a browser, a worker without it). */
export function loadNodeCrypto(): Promise<NodeCryptoModule | undefined> {
  nodeCrypto ??= (async () => {
    const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
    if (!isNode) return undefined;
    try {
      return await import("node:crypto");
    } catch {
      return undefined;
    }
  })();
  return nodeCrypto;
}

/**
 * A CryptoProvider for ts-mls that runs its primitives synchronously on node:crypto (OpenSSL)
 * where Node is available, and is ts-mls's default provider (WebCrypto and noble) elsewhere.
 * Keys and messages are the same bytes either way: a state written by one provider is read by
 * the other.
 * @example
 * const impl = await getCiphersuiteImpl(getCiphersuiteFromName(name), fastCryptoProvider);
 */
export const fastCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs: Ciphersuite): Promise<CiphersuiteImpl> {
    const c = await loadNodeCrypto();
    if (c === undefined) return defaultCryptoProvider.getCiphersuiteImpl(cs);
    return nodeCiphersuiteImpl(c, cs, () => defaultCryptoProvider.getCiphersuiteImpl(cs));
  },
};

/** Whether `fastCryptoProvider` found node:crypto here (false in browsers). */
export async function fastProviderUsesNodeCrypto(): Promise<boolean> {
  return (await loadNodeCrypto()) !== undefined;
}
