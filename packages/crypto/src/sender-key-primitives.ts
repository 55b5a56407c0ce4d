import { loadNodeCrypto } from "./fast-provider.js";
import { nobleSenderKeyPrimitives } from "./sender-key-noble.js";
import { nodeSenderKeyPrimitives } from "./sender-key-node.js";
import type { SenderKeyPrimitives } from "./sender-key-port.js";
import type { ProviderName } from "./suites.js";

export type { SenderKeyPrimitives } from "./sender-key-port.js";

let fast: Promise<SenderKeyPrimitives> | undefined;

/**
 * "fast": node:crypto where Node is, noble elsewhere (Ed25519 verification is about 20 times
 * faster on OpenSSL: 64 µs against 1.2 ms). "default": noble everywhere, as in a browser.
 */
export function senderKeyPrimitives(provider: ProviderName = "fast"): Promise<SenderKeyPrimitives> {
  if (provider === "default") return Promise.resolve(nobleSenderKeyPrimitives);
  fast ??= loadNodeCrypto().then((c) =>
    c === undefined ? nobleSenderKeyPrimitives : nodeSenderKeyPrimitives(c),
  );
  return fast;
}
