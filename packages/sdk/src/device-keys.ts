import { fromBase64Url, toBase64Url } from "./encoding.js";
import type { LocalState } from "./local-state.js";
import { ns, put } from "./local-state.js";
import type { StoreOp } from "./store/store.js";

/**
 * The Ed25519 key each device signs its MLS leaves with, learnt the first time
 * a group shows it and held to afterwards (trust on first use): a device id
 * that comes back with another key is refused. Safety numbers are made of
 * these keys. Keys met during one MLS operation stay tentative until the
 * operation succeeds, and are kept only for devices left in the group.
 */
export class DeviceKeyRegistry {
  private readonly known = new Map<string, string>();
  private tentative = new Map<string, string>();
  private unsaved: StoreOp[] = [];
  /** Set when the last operation met a device whose key changed. */
  conflict: string | null = null;

  constructor(private readonly state: LocalState) {}

  async load(ownDeviceId: string, ownKey: Uint8Array): Promise<void> {
    for (const { key, value } of await this.state.store.list(ns.deviceKeys)) {
      if (typeof value === "string") this.known.set(key, value);
    }
    this.known.set(ownDeviceId, toBase64Url(ownKey));
  }

  /** For `loadSuite({ verifyCredential })`. */
  readonly verify = async (credentialId: string, signatureKey: Uint8Array): Promise<boolean> => {
    const key = toBase64Url(signatureKey);
    const known = this.known.get(credentialId) ?? this.tentative.get(credentialId);
    if (known !== undefined && known !== key) {
      this.conflict = credentialId;
      return false;
    }
    this.tentative.set(credentialId, key);
    return true;
  };

  begin(): void {
    this.tentative = new Map();
    this.conflict = null;
  }

  /** The operation succeeded: keep the keys of these members. */
  accept(memberIds: Iterable<string>): void {
    for (const id of memberIds) {
      const key = this.tentative.get(id);
      if (key === undefined || this.known.has(id)) continue;
      this.known.set(id, key);
      this.unsaved.push(put(ns.deviceKeys, id, key));
    }
    this.tentative = new Map();
  }

  discard(): void {
    this.tentative = new Map();
  }

  /** Store operations for keys learnt since the last call: write them with the group. */
  drain(): StoreOp[] {
    const ops = this.unsaved;
    this.unsaved = [];
    return ops;
  }

  keyOf(deviceId: string): Uint8Array | undefined {
    const key = this.known.get(deviceId);
    return key === undefined ? undefined : fromBase64Url(key);
  }
}
