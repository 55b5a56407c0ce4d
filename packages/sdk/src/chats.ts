import { safetyNumber } from "@veil/crypto";
import type { GroupKind, GroupSummary } from "@veil/protocol";
import type { ClientContext } from "./context.js";
import type { DeviceKeyRegistry } from "./device-keys.js";
import { concatBytes } from "./encoding.js";
import { VeilError } from "./errors.js";
import type { Groups } from "./groups.js";
import type { GroupMeta } from "./local-state.js";
import type { Mailbox } from "./mailbox.js";
import { type ClaimedPackage, planAdd, planRemove } from "./membership.js";

/** A chat as this device sees it. */
export interface ChatInfo {
  groupId: string;
  kind: GroupKind;
  /** The other person of a direct chat. */
  peerUserId: string | null;
  /** False until this device has joined (another member's device adds it). */
  joined: boolean;
  /** False once this device was removed. */
  active: boolean;
}

/**
 * Creating chats and changing who is in them. Every device of every member is
 * an MLS member, the user's own other devices included.
 */
export class Chats {
  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly mailbox: Mailbox,
    private readonly registry: DeviceKeyRegistry,
  ) {}

  /**
   * The direct chat with a user: created (with every device of both users) if
   * new; if the peer made it first, this device joins when the peer's device
   * adds it (`joined` is false until then; see `waitForChat`).
   */
  async direct(peerUserId: string): Promise<ChatInfo> {
    const summary = await this.context.api.createGroup({ kind: "direct", peerUserId });
    return this.adopt(summary, [peerUserId, this.context.userId]);
  }

  /** A new group with these users (and every device of theirs and of this user). */
  async group(userIds: string[]): Promise<ChatInfo> {
    const summary = await this.context.api.createGroup({ kind: "group" });
    const others = userIds.filter((u) => u !== this.context.userId);
    return this.adopt(summary, [...new Set([...others, this.context.userId])]);
  }

  async addMembers(groupId: string, userIds: string[]): Promise<void> {
    const users = [...new Set(userIds)];
    if (users.length === 0) return;
    let claimed: ClaimedPackage[] | undefined;
    await this.groups.change(groupId, async (loaded) => {
      claimed ??= (await this.context.api.claimKeyPackages(users)).devices;
      return planAdd(this.groups, loaded, claimed);
    });
  }

  /** Removes every device of these users. */
  async removeMembers(groupId: string, userIds: string[]): Promise<void> {
    const users = new Set(userIds);
    await this.groups.change(groupId, async (loaded) => {
      await this.groups.refreshMembers(loaded.meta);
      const devices = Object.entries(loaded.meta.members)
        .filter(([, userId]) => users.has(userId))
        .map(([deviceId]) => deviceId);
      return planRemove(loaded, devices);
    });
  }

  /** Fresh keys for this device's leaf (post-compromise security). */
  async updateKeys(groupId: string): Promise<void> {
    await this.groups.change(groupId, async (loaded) => {
      const { commit, next } = await loaded.group.update();
      return { commit, next, addDevices: [], removeDevices: [] };
    });
  }

  /** The chats, without key channels (they carry announcement keys, and are never shown). */
  async list(): Promise<ChatInfo[]> {
    return (await this.groups.list()).filter((m) => m.kind !== "keys").map(info);
  }

  async get(groupId: string): Promise<ChatInfo | undefined> {
    const loaded = await this.groups.load(groupId);
    return loaded && loaded.meta.kind !== "keys" ? info(loaded.meta) : undefined;
  }

  /**
   * The 60-digit safety number of the direct chat with `peerUserId`: over the
   * Ed25519 identity keys of each user's devices in the chat's MLS tree (each
   * leaf is signed with its device's identity key), sorted by device id. Both
   * users see the same number; it changes when either adds or removes a device.
   */
  async safetyNumber(peerUserId: string, chatGroupId?: string): Promise<string> {
    const groupId = chatGroupId ?? (await this.findDirect(peerUserId));
    const loaded = groupId ? await this.groups.load(groupId) : undefined;
    if (!loaded?.meta.active) throw new VeilError("chat_pending");
    await this.groups.refreshMembers(loaded.meta).catch(() => undefined);
    const mine: Uint8Array[] = [];
    const theirs: Uint8Array[] = [];
    const leaves = loaded.group
      .members()
      .map((m) => m.credentialId)
      .sort();
    for (const deviceId of leaves) {
      const key = this.registry.keyOf(deviceId);
      if (!key) throw new VeilError("device_key_mismatch", "A member's key was never seen");
      (loaded.meta.members[deviceId] === this.context.userId ? mine : theirs).push(key);
    }
    return safetyNumber({
      localId: this.context.userId,
      localKey: concatBytes(...mine),
      remoteId: peerUserId,
      remoteKey: concatBytes(...theirs),
    });
  }

  private async findDirect(peerUserId: string): Promise<string | undefined> {
    const metas = await this.groups.list();
    return metas.find((m) => m.kind === "direct" && m.peerUserId === peerUserId && m.active)
      ?.groupId;
  }

  /** Takes a group the server answered with: creates its MLS group or waits to join it. */
  async adopt(summary: GroupSummary, users: string[]): Promise<ChatInfo> {
    const groupId = summary.id;
    const member = summary.members.some((m) => m.deviceId === this.context.deviceId);
    let loaded = await this.groups.load(groupId);
    if (!loaded && member && summary.lastSeq > 0) {
      // We are in it on the server: the welcome is in the mailbox.
      await this.mailbox.sync();
      loaded = await this.groups.load(groupId);
    }
    if (!loaded && member && summary.lastSeq === 0) loaded = await this.groups.createLocal(summary);
    if (!loaded?.meta.active) {
      return {
        groupId,
        kind: summary.kind,
        peerUserId: summary.peerUserId ?? null,
        joined: false,
        active: true,
      };
    }
    // Every device of these users that is not in yet (idempotent: also completes a past attempt).
    const needsAdding = summary.members.length === 1 || summary.lastSeq === 0;
    if (needsAdding) await this.addMembers(groupId, users);
    return info((await this.groups.load(groupId))?.meta ?? loaded.meta);
  }
}

function info(meta: GroupMeta): ChatInfo {
  return {
    groupId: meta.groupId,
    kind: meta.kind,
    peerUserId: meta.peerUserId,
    joined: true,
    active: meta.active,
  };
}
