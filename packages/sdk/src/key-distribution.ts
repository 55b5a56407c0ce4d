import {
  createSenderKey,
  distributionOf,
  type OwnSenderKey,
  shouldRotateSenderKey,
} from "@veil/crypto";
import type { GroupSummary } from "@veil/protocol";
import type { ClientContext } from "./context.js";
import { toBase64Url, toHex } from "./encoding.js";
import type { Envelope } from "./envelope.js";
import { isVeilError } from "./errors.js";
import type { Groups } from "./groups.js";
import type { KeyChannels } from "./key-channels.js";
import type { KeyDistributionRecord } from "./local-state.js";
import type { Messaging } from "./messaging.js";
import { settleAll } from "./pool.js";
import type { SenderKeyStore } from "./sender-key-store.js";

type SenderKeyEnvelope = Extract<Envelope, { type: "sender_key" }>;

/**
 * An admin device's side of announcement keys: before each post, its current
 * sender key in the hands of every member device the server lists, over key
 * channels, and a new key first whenever a device left since the last post.
 * It remembers which devices hold the current key, so a post to a community
 * where nobody came or went costs no key message at all.
 */
export class KeyDistribution {
  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly messaging: Messaging,
    private readonly channels: KeyChannels,
    private readonly keys: SenderKeyStore,
    private readonly options: { concurrency: number },
  ) {}

  /**
   * This device's key, held by every member device the server lists. A new
   * key when a device left since the last post (so it cannot read what
   * follows) or when the key is due for rotation; then the key to each device
   * that lacks it, over the key channels.
   */
  async prepare(summary: GroupSummary): Promise<void> {
    const groupId = summary.id;
    const members: Record<string, string> = {};
    for (const m of summary.members) members[m.deviceId] = m.userId;
    let state = await this.keys.ownKey(groupId);
    let record = await this.keys.distribution(groupId);
    const departed = record ? Object.keys(record.members).some((d) => !(d in members)) : false;
    if (
      !state ||
      !record ||
      record.keyId !== toHex(state.keyId) ||
      departed ||
      shouldRotateSenderKey(state)
    ) {
      state = await createSenderKey(groupId);
      record = { keyId: toHex(state.keyId), members, delivered: [] };
      await this.keys.saveOwn(groupId, state, record);
      this.context.logger.debug({ groupId, rotated: departed }, "new sender key");
    }
    const holders = new Set(record.delivered);
    const needed = new Map<string, string[]>();
    for (const [deviceId, userId] of Object.entries(members)) {
      if (deviceId === this.context.deviceId || holders.has(deviceId)) continue;
      needed.set(userId, [...(needed.get(userId) ?? []), deviceId]);
    }
    const reached =
      needed.size > 0 ? await this.sendKey(groupId, state, needed) : new Set<string>();
    const next: KeyDistributionRecord = {
      keyId: record.keyId,
      members,
      delivered: [
        ...holders,
        ...[...reached].filter(
          (d) => d in members && !holders.has(d) && d !== this.context.deviceId,
        ),
      ],
    };
    await this.keys.saveDistribution(groupId, next);
  }

  /** Sends the key over each member's key channel; the devices it reached. */
  private async sendKey(
    groupId: string,
    state: OwnSenderKey,
    needed: ReadonlyMap<string, string[]>,
  ): Promise<Set<string>> {
    const distribution = toBase64Url(distributionOf(state));
    const peers = [...needed.keys()].filter((u) => u !== this.context.userId);
    const ready = await this.channels.ensure(peers, needed);
    const targets = [...ready.values()];
    // This user's other devices are in each of its key channels: any one reaches them.
    if (targets.length === 0 && needed.has(this.context.userId)) {
      const any = (await this.channels.known()).values().next().value;
      if (any) targets.push(any);
    }
    const reached = new Set<string>();
    const results = await settleAll(targets, this.options.concurrency, async (channelId) => {
      const before = await this.treeOf(channelId);
      const sent = await this.messaging.send(
        channelId,
        (id, ts): SenderKeyEnvelope => ({
          v: 1,
          type: "sender_key",
          id,
          ts,
          announcementGroupId: groupId,
          distribution,
        }),
      );
      if (sent.status !== "sent") return;
      const after = await this.treeOf(channelId);
      for (const d of before) if (after.has(d)) reached.add(d);
    });
    for (const r of results) {
      if (r.status === "fulfilled") continue;
      if (isVeilError(r.reason) && r.reason.retryable) throw r.reason;
      this.context.logger.warn(
        { groupId, code: isVeilError(r.reason) ? r.reason.code : "unexpected" },
        "sender key not sent",
      );
    }
    this.context.logger.debug(
      { groupId, users: needed.size, channels: targets.length, devices: reached.size },
      "sender key distributed",
    );
    return reached;
  }

  private async treeOf(channelId: string): Promise<Set<string>> {
    const loaded = await this.groups.load(channelId);
    return new Set(loaded?.group.members().map((m) => m.credentialId) ?? []);
  }
}
