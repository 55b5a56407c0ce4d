import {
  encryptWithSenderKey,
  type OwnSenderKey,
  type ReceivedSenderKey,
  restoreSenderKey,
  serializeSenderKey,
} from "@veil/crypto";
import type { ClientContext } from "./context.js";
import { fromBase64Url, toBase64Url, toHex } from "./encoding.js";
import { VeilError } from "./errors.js";
import { asJson, KeyDistributionRecord, ns, put, ReceivedKeyRecord } from "./local-state.js";
import { KeyedMutex } from "./mutex.js";
import type { StoreOp } from "./store/store.js";

/** A received sender key and who sent it (authenticated by the key channel's MLS). */
export interface HeldKey {
  key: string;
  senderUserId: string;
  senderDeviceId: string;
  state: ReceivedSenderKey;
}

/** The store key of a received sender key: `<groupId>/<senderDeviceId>/<keyId hex>`. */
export const heldKeyName = (groupId: string, deviceId: string, keyId: Uint8Array | string) =>
  `${groupId}/${deviceId}/${typeof keyId === "string" ? keyId : toHex(keyId)}`;

/**
 * The sender keys of announcement groups in the store: this device's own key
 * per group (newest state kept in memory too: an encrypted-from state is
 * spent), the record of who holds it, and the keys received from admin
 * devices. Received keys are written under `lock` (per group), so a key that
 * arrives twice never rewinds one already used.
 */
export class SenderKeyStore {
  private readonly own = new Map<string, OwnSenderKey>();
  /** Per announcement group: reads and writes of received keys. Takes no other lock inside. */
  readonly lock = new KeyedMutex();

  constructor(private readonly context: ClientContext) {}

  async ownKey(groupId: string): Promise<OwnSenderKey | undefined> {
    const cached = this.own.get(groupId);
    if (cached) return cached;
    const bytes = await this.context.state.bytes(ns.ownSenderKeys, groupId);
    if (!bytes) return undefined;
    const state = restoreSenderKey(bytes);
    if (state.kind !== "own") throw new VeilError("store_corrupt");
    this.own.set(groupId, state);
    return state;
  }

  distribution(groupId: string): Promise<KeyDistributionRecord | undefined> {
    return this.context.state.json(KeyDistributionRecord, ns.keyDistribution, groupId);
  }

  /** Stores a (new) own key with its distribution record, in one batch. */
  async saveOwn(
    groupId: string,
    state: OwnSenderKey,
    record: KeyDistributionRecord,
  ): Promise<void> {
    await this.context.state.write([
      put(ns.ownSenderKeys, groupId, serializeSenderKey(state)),
      put(ns.keyDistribution, groupId, asJson(record)),
    ]);
    this.own.set(groupId, state);
  }

  async saveDistribution(groupId: string, record: KeyDistributionRecord): Promise<void> {
    await this.context.state.write([put(ns.keyDistribution, groupId, asJson(record))]);
  }

  /**
   * Encrypts with the own key; the next state is stored before the message
   * is returned, so a restart never uses a message key twice.
   */
  async encrypt(groupId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const state = await this.ownKey(groupId);
    if (!state) throw new VeilError("group_unknown", "No sender key for this group yet");
    const { state: next, message } = await encryptWithSenderKey(state, plaintext);
    await this.context.state.write([put(ns.ownSenderKeys, groupId, serializeSenderKey(next))]);
    this.own.set(groupId, next);
    return message;
  }

  /** Call with `lock` held for the group. */
  async held(groupId: string, deviceId: string, keyId: Uint8Array): Promise<HeldKey | undefined> {
    const key = heldKeyName(groupId, deviceId, keyId);
    const record = await this.context.state.json(ReceivedKeyRecord, ns.senderKeys, key);
    if (!record) return undefined;
    const bytes = fromBase64Url(record.state);
    const state = bytes ? restoreSenderKey(bytes) : undefined;
    if (state?.kind !== "received") throw new VeilError("store_corrupt");
    return { key, senderUserId: record.senderUserId, senderDeviceId: record.senderDeviceId, state };
  }

  /** The write that keeps a received key's state after a decryption. */
  update(held: HeldKey, state: ReceivedSenderKey): StoreOp {
    const record: ReceivedKeyRecord = {
      senderUserId: held.senderUserId,
      senderDeviceId: held.senderDeviceId,
      state: toBase64Url(serializeSenderKey(state)),
    };
    return put(ns.senderKeys, held.key, asJson(record));
  }

  /**
   * Keeps a key received from an admin device; false when it was held
   * already (the state held may be further along: it is kept).
   */
  receive(
    groupId: string,
    sender: { userId: string; deviceId: string },
    state: ReceivedSenderKey,
  ): Promise<boolean> {
    return this.lock.run(groupId, async () => {
      const key = heldKeyName(groupId, sender.deviceId, state.keyId);
      if ((await this.context.state.store.get(ns.senderKeys, key)) !== undefined) return false;
      const record: ReceivedKeyRecord = {
        senderUserId: sender.userId,
        senderDeviceId: sender.deviceId,
        state: toBase64Url(serializeSenderKey(state)),
      };
      await this.context.state.write([put(ns.senderKeys, key, asJson(record))]);
      return true;
    });
  }
}
