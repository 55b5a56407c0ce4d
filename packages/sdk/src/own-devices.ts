import { coalesced } from "./coalesce.js";
import { type ClientContext, reportError } from "./context.js";
import { isVeilError, VeilError } from "./errors.js";
import type { Groups } from "./groups.js";
import { asJson, del, ns, PendingDeviceRecord, put } from "./local-state.js";
import { type ClaimedPackage, planAdd, planRemove } from "./membership.js";

/** How long to keep trying to add a new device that has not uploaded key packages yet. */
const giveUpAfterMs = 15 * 60_000;
const maxRetryDelayMs = 10_000;

/**
 * The user's other devices: a newly linked one is added to every group this
 * device is in (it is told by a `device_linked` mailbox item, usually before
 * the new device has signed in and uploaded key packages, so it retries with
 * backoff); a removed one is committed out of a group when the server asks.
 * Other devices of the user race to do the same: `stale_epoch` and "already a
 * member" just mean another device won.
 */
export class OwnDevices {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;

  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
  ) {}

  async linked(deviceId: string): Promise<void> {
    const known = await this.context.state.json(PendingDeviceRecord, ns.pendingDevices, deviceId);
    if (!known) {
      const record: PendingDeviceRecord = { since: Date.now(), done: [] };
      await this.context.state.write([put(ns.pendingDevices, deviceId, asJson(record))]);
    }
    await this.process();
  }

  async removeFromGroup(groupId: string, deviceId: string): Promise<void> {
    try {
      await this.groups.change(groupId, (loaded) => planRemove(loaded, [deviceId]));
    } catch (err) {
      if (isVeilError(err, "group_left") || isVeilError(err, "group_unknown")) return;
      throw err;
    }
  }

  /** Works through the pending new devices; one run at a time. */
  readonly process = coalesced(
    () => this.run(),
    () => this.context.closed(),
  );

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async run(): Promise<void> {
    const pending = await this.context.state.listJson(PendingDeviceRecord, ns.pendingDevices);
    if (pending.length === 0) {
      this.attempt = 0;
      return;
    }
    const active = (await this.groups.list()).filter((g) => g.active).map((g) => g.groupId);
    let waiting = false;
    for (const { key: deviceId, value: record } of pending) {
      const added: string[] = [];
      for (const groupId of active) {
        if (record.done.includes(groupId)) continue;
        const outcome = await this.addTo(groupId, deviceId);
        if (outcome === "waiting") {
          waiting = true;
          break;
        }
        if (outcome === "added") added.push(groupId);
        record.done.push(groupId);
      }
      if (active.every((g) => record.done.includes(g))) {
        await this.context.state.write([del(ns.pendingDevices, deviceId)]);
        this.context.events.emit("device-linked", { deviceId, groups: added });
      } else if (Date.now() - record.since > giveUpAfterMs) {
        await this.context.state.write([del(ns.pendingDevices, deviceId)]);
        reportError(this.context, new VeilError("key_packages_unavailable"));
      } else {
        await this.context.state.write([put(ns.pendingDevices, deviceId, asJson(record))]);
      }
    }
    if (waiting) this.retryLater();
    else this.attempt = 0;
  }

  private async addTo(groupId: string, deviceId: string): Promise<"added" | "present" | "waiting"> {
    const { api, userId } = this.context;
    let claimed: ClaimedPackage[] | undefined;
    try {
      const planned = await this.groups.change(groupId, async (loaded) => {
        if (loaded.group.members().some((m) => m.credentialId === deviceId)) return null;
        // One claim per group, kept across retries: a refused commit never used them.
        claimed ??= (await api.claimKeyPackages([userId])).devices.filter(
          (d) => d.userId === userId,
        );
        if (!claimed.some((c) => c.deviceId === deviceId)) {
          throw new VeilError("key_packages_unavailable");
        }
        return planAdd(this.groups, loaded, claimed);
      });
      return planned ? "added" : "present";
    } catch (err) {
      if (isVeilError(err, "key_packages_unavailable")) return "waiting";
      if (isVeilError(err, "group_left") || isVeilError(err, "group_unknown")) return "present";
      if (isVeilError(err) && err.retryable) throw err;
      reportError(this.context, err, { groupId });
      return "present";
    }
  }

  private retryLater(): void {
    if (this.timer || this.context.closed()) return;
    const delay = Math.min(maxRetryDelayMs, 500 * 2 ** this.attempt);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.context.track(this.process().catch((err: unknown) => reportError(this.context, err)));
    }, delay);
  }
}
