import { type Static, Type } from "@sinclair/typebox";
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
import { asJson, del, KeyDistributionRecord, ns, put, ReceivedKeyRecord } from "./local-state.js";
import { KeyedMutex } from "./mutex.js";
import type { StoreOp } from "./store/store.js";

/** A received sender key and who sent it (authenticated by the key channel's MLS). */
export interface HeldKey {
  key: string;
  senderUserId: string;
  senderDeviceId: string;
  state: ReceivedSenderKey;
}

/**
 * Per announcement group: how fresh this device's admin list is, and whose
 * devices sent it keys. Posts are judged against the admin list
 * (`AnnouncementMeta.admins`); `devices` outlives the keys, so a dismissed
 * admin's device is still known by its user and its posts are refused, not
 * kept waiting for a key that will never be accepted.
 */
export const SenderRoster = Type.Object({
  /** The log position the admin list was read at: it held once this entry was stored. */
  adminsSeq: Type.Integer(),
  /** Devices whose keys this device dropped when their user stopped being an admin: device to user. */
  devices: Type.Record(Type.String(), Type.String()),
});
export type SenderRoster = Static<typeof SenderRoster>;

/** The store namespace of `SenderRoster` records, by announcement group id. */
const rosterNs = "announcement-senders";

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
  private readonly rosters = new Map<string, SenderRoster>();
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

  /** How fresh the group's admin list is, and the devices of former admins. */
  async roster(groupId: string): Promise<SenderRoster> {
    const cached = this.rosters.get(groupId);
    if (cached) return cached;
    const held = (await this.context.state.json(SenderRoster, rosterNs, groupId)) ?? {
      adminsSeq: 0,
      devices: {},
    };
    this.rosters.set(groupId, held);
    return held;
  }

  /**
   * The group's admin list as read at log position `seq` (takes `lock`).
   * When the list `changed`, every key received from a user no longer in it
   * is dropped (their devices stay in the roster), and so is this device's
   * own key if its user is no longer an admin: should it be made one again,
   * it starts a new key that every member gets. Returns the keys dropped.
   */
  adminsRead(
    groupId: string,
    admins: readonly string[],
    seq: number,
    changed: boolean,
  ): Promise<number> {
    return this.lock.run(groupId, async () => {
      const roster = await this.roster(groupId);
      const dropped = changed
        ? (
            await this.context.state.listJson(ReceivedKeyRecord, ns.senderKeys, `${groupId}/`)
          ).filter((k) => !admins.includes(k.value.senderUserId))
        : [];
      const next: SenderRoster = {
        adminsSeq: Math.max(roster.adminsSeq, seq),
        devices: { ...roster.devices },
      };
      for (const { value } of dropped) next.devices[value.senderDeviceId] = value.senderUserId;
      const ops: StoreOp[] = [
        ...dropped.map((k) => del(ns.senderKeys, k.key)),
        put(rosterNs, groupId, asJson(next)),
      ];
      const dismissed = changed && !admins.includes(this.context.userId);
      if (dismissed) ops.push(del(ns.ownSenderKeys, groupId), del(ns.keyDistribution, groupId));
      await this.context.state.write(ops);
      this.rosters.set(groupId, next);
      if (dismissed) this.own.delete(groupId);
      return dropped.length;
    });
  }
}
