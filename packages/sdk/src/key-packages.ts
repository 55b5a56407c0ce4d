import { generateKeyPackage, inspectMessage, type KeyPackageBundle } from "@veil/crypto";
import type { ClientContext } from "./context.js";
import { fromBase64Url, toBase64Url } from "./encoding.js";
import { VeilError } from "./errors.js";
import { del, KeyPackageRecord, ns, put } from "./local-state.js";
import { KeyedMutex } from "./mutex.js";
import type { StoreOp } from "./store/store.js";

const maxPerUpload = 100;

/**
 * This device's MLS key packages: a stock of one-time packages on the server
 * (topped up to `keyPackageTarget`) and one last-resort package; the private
 * halves stay in the store, keyed by KeyPackageRef, until a welcome uses them.
 */
export class KeyPackages {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly context: ClientContext) {}

  /** Tops the server's stock up to the target, and uploads a last-resort package if missing. */
  replenish(): Promise<number> {
    return this.mutex.run("replenish", async () => {
      const { api, keyPackageTarget } = this.context;
      const stock = await api.keyPackageStock();
      let missing = Math.max(0, keyPackageTarget - stock.oneTime);
      let lastResort = !stock.lastResort;
      const uploaded = missing + (lastResort ? 1 : 0);
      while (missing > 0 || lastResort) {
        const count = Math.min(missing, maxPerUpload);
        const bundles = await Promise.all(
          Array.from({ length: count }, () => this.generate(false)),
        );
        const last = lastResort ? await this.generate(true) : undefined;
        // Private halves first: a welcome may come the moment the package is public.
        await this.context.state.write(
          [...bundles, ...(last ? [last] : [])].map((b) => put(ns.keyPackages, b.ref, b.record)),
        );
        await api.uploadKeyPackages({
          keyPackages: bundles.map((b) => b.record.publicKeyPackage),
          ...(last ? { lastResort: last.record.publicKeyPackage } : {}),
        });
        missing -= count;
        lastResort = false;
      }
      if (uploaded > 0) this.context.logger.debug({ uploaded }, "key packages uploaded");
      return uploaded;
    });
  }

  /** A key package that never leaves the device: the creator's own leaf in a new group. */
  fresh(): Promise<KeyPackageBundle> {
    return generateKeyPackage(this.context.suite, this.context.deviceId, {
      signatureKey: this.context.identity.mlsSignatureKey(),
    });
  }

  /** The private package a welcome is addressed to, if this device holds it. */
  async forWelcome(
    refs: readonly string[],
  ): Promise<{ ref: string; bundle: KeyPackageBundle; consume: StoreOp | null } | undefined> {
    for (const ref of refs) {
      const record = await this.context.state.json(KeyPackageRecord, ns.keyPackages, ref);
      if (!record) continue;
      const publicKeyPackage = fromBase64Url(record.publicKeyPackage);
      const privateKeyPackage = fromBase64Url(record.privateKeyPackage);
      if (!publicKeyPackage || !privateKeyPackage) throw new VeilError("store_corrupt");
      return {
        ref,
        bundle: { publicKeyPackage, privateKeyPackage },
        // The last-resort package may be handed out again: keep it.
        consume: record.lastResort ? null : del(ns.keyPackages, ref),
      };
    }
    return undefined;
  }

  private async generate(lastResort: boolean) {
    const bundle = await generateKeyPackage(this.context.suite, this.context.deviceId, {
      lastResort,
      signatureKey: this.context.identity.mlsSignatureKey(),
    });
    const ref = inspectMessage(bundle.publicKeyPackage)?.keyPackageRef;
    if (!ref) throw new VeilError("invalid_argument", "A key package without a reference");
    const record: KeyPackageRecord = {
      publicKeyPackage: toBase64Url(bundle.publicKeyPackage),
      privateKeyPackage: toBase64Url(bundle.privateKeyPackage),
      lastResort,
      createdAt: Date.now(),
    };
    return { ref, record };
  }
}
