import type { GroupSummary } from "@veil/protocol";
import type { ClientContext } from "./context.js";
import { isVeilError } from "./errors.js";
import type { Groups } from "./groups.js";
import type { Mailbox } from "./mailbox.js";
import { type ClaimedPackage, planAdd } from "./membership.js";
import { chunks, settleAll } from "./pool.js";

/** The server's limit on users per key package claim. */
const claimBatch = 50;

/**
 * Key channels: one pairwise MLS group per pair of users (a community admin
 * and a member), holding every device of both, that carries announcement
 * sender keys and reactions. Never a chat: it creates no relation between the
 * two and never shows in the chat list. One is reused for every community the
 * two share. Made in bulk: the server groups one at a time (a bounded number
 * at once), key packages claimed 50 users per request, one commit per channel.
 */
export class KeyChannels {
  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly mailbox: Mailbox,
    private readonly concurrency: number,
  ) {}

  /** The key channels this device is in: peer user id to group id. */
  async known(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const meta of await this.groups.list()) {
      if (meta.kind === "keys" && meta.active && meta.peerUserId) {
        out.set(meta.peerUserId, meta.groupId);
      }
    }
    return out;
  }

  /**
   * A key channel with each of `peers`, with their devices in it: those that
   * `devices` names for a peer (as the announcement group lists them), or any
   * the peer has when the channel holds none yet. Returns the channels ready
   * (peer to group id); a peer left out has no key packages, or made the
   * channel and its device has not added this one yet.
   */
  async ensure(
    peers: readonly string[],
    devices: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Promise<Map<string, string>> {
    const { api, logger } = this.context;
    const known = await this.known();
    const ready = new Map<string, string>();
    const fresh = new Set<string>();
    const missing = peers.filter((p) => p !== this.context.userId && !known.has(p));
    for (const p of peers) {
      const groupId = known.get(p);
      if (groupId) ready.set(p, groupId);
    }

    const created = await settleAll(missing, this.concurrency, async (peer) => ({
      peer,
      summary: await api.createGroup({ kind: "keys", peerUserId: peer }),
    }));
    const waitingForWelcome: Array<{ peer: string; groupId: string }> = [];
    for (const outcome of created) {
      if (outcome.status === "rejected") {
        this.skip(outcome.reason);
        continue;
      }
      const { peer, summary } = outcome.value;
      const state = await this.adopt(summary);
      if (state === "created") fresh.add(peer);
      if (state === "created" || state === "ready") ready.set(peer, summary.id);
      if (state === "welcome") waitingForWelcome.push({ peer, groupId: summary.id });
    }
    if (waitingForWelcome.length > 0) {
      await this.mailbox.sync();
      for (const { peer, groupId } of waitingForWelcome) {
        if ((await this.groups.load(groupId))?.meta.active) ready.set(peer, groupId);
      }
    }

    // Which devices each channel still lacks.
    const wanted = new Map<string, string[] | "all">();
    for (const [peer, groupId] of ready) {
      const loaded = await this.groups.load(groupId);
      if (!loaded) continue;
      const inTree = new Set(loaded.group.members().map((m) => m.credentialId));
      const hasPeer = Object.entries(loaded.meta.members).some(
        ([deviceId, userId]) => userId === peer && inTree.has(deviceId),
      );
      if (fresh.has(peer) || !hasPeer) {
        wanted.set(peer, "all");
        continue;
      }
      const absent = (devices.get(peer) ?? []).filter((d) => !inTree.has(d));
      if (absent.length > 0) wanted.set(peer, absent);
    }
    if (wanted.size === 0) return ready;

    const claimed = await this.claim(wanted);
    const own = fresh.size > 0 ? await this.ownOtherDevices() : 0;
    const toAdd = [...wanted.keys()].filter((p) => (claimed.get(p)?.length ?? 0) > 0);
    const results = await settleAll(toAdd, this.concurrency, async (peer) => {
      const groupId = ready.get(peer) as string;
      let packages = claimed.get(peer) ?? [];
      if (fresh.has(peer) && own > 0) packages = [...packages, ...(await this.claimOwn())];
      await this.groups.change(groupId, (loaded) => planAdd(this.groups, loaded, packages), {
        fresh: fresh.has(peer),
      });
    });
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      this.skip(r.reason);
      // A channel without the peer's devices carries nothing to them (yet).
      const peer = toAdd[i] as string;
      if (wanted.get(peer) === "all") ready.delete(peer);
    });
    for (const peer of wanted.keys()) {
      if (wanted.get(peer) === "all" && !toAdd.includes(peer)) ready.delete(peer);
    }
    logger.debug(
      { channels: ready.size, created: fresh.size, added: toAdd.length },
      "key channels ready",
    );
    return ready;
  }

  /** Takes the server's answer for a channel: create it here, wait for a welcome, or use it. */
  private async adopt(summary: GroupSummary): Promise<"created" | "ready" | "welcome" | "absent"> {
    const member = summary.members.some((m) => m.deviceId === this.context.deviceId);
    const loaded = await this.groups.load(summary.id);
    if (loaded?.meta.active) return summary.lastSeq === 0 ? "created" : "ready";
    if (!member) return "absent"; // the peer made it: one of its devices adds ours
    if (summary.lastSeq > 0) return "welcome";
    await this.groups.createLocal(summary);
    return "created";
  }

  /**
   * Key packages for the wanted devices, 50 users per request. A batch that
   * fails because one user has none is claimed again user by user.
   */
  private async claim(
    wanted: ReadonlyMap<string, string[] | "all">,
  ): Promise<Map<string, ClaimedPackage[]>> {
    const out = new Map<string, ClaimedPackage[]>();
    const every = [...wanted].filter(([, d]) => d === "all").map(([p]) => p);
    const some = [...wanted].filter(([, d]) => d !== "all") as Array<[string, string[]]>;
    const batches: Array<{ users: string[]; deviceIds?: string[] }> = [
      ...chunks(every, claimBatch).map((users) => ({ users })),
      ...chunks(some, claimBatch).map((batch) => ({
        users: batch.map(([p]) => p),
        deviceIds: batch.flatMap(([, d]) => d),
      })),
    ];
    const keep = (devices: ClaimedPackage[]) => {
      for (const d of devices) {
        if (d.userId === this.context.userId) continue;
        out.set(d.userId, [...(out.get(d.userId) ?? []), d]);
      }
    };
    const retry: Array<{ users: string[]; deviceIds?: string[] }> = [];
    const first = await settleAll(batches, this.concurrency, async (batch) => {
      try {
        keep((await this.context.api.claimKeyPackages(batch.users, batch.deviceIds)).devices);
      } catch (err) {
        if (!isVeilError(err, "key_packages_unavailable") || batch.users.length === 1) throw err;
        for (const user of batch.users) {
          const mine = wanted.get(user);
          retry.push({ users: [user], ...(mine === "all" ? {} : { deviceIds: mine }) });
        }
      }
    });
    const second = await settleAll(retry, this.concurrency, async (batch) => {
      keep((await this.context.api.claimKeyPackages(batch.users, batch.deviceIds)).devices);
    });
    for (const r of [...first, ...second]) if (r.status === "rejected") this.skip(r.reason);
    return out;
  }

  /** How many other devices this user has (each new channel holds them too). */
  private async ownOtherDevices(): Promise<number> {
    const devices = await this.context.api.devices();
    return devices.filter((d) => d.id !== this.context.deviceId).length;
  }

  /** One key package of each of this user's other devices (one claim per channel). */
  private async claimOwn(): Promise<ClaimedPackage[]> {
    try {
      return (await this.context.api.claimKeyPackages([this.context.userId])).devices;
    } catch (err) {
      this.skip(err);
      return [];
    }
  }

  private skip(err: unknown): void {
    if (isVeilError(err) && err.retryable) throw err;
    this.context.logger.debug(
      { code: isVeilError(err) ? err.code : "unexpected" },
      "key channel skipped",
    );
  }
}
