import type { MailboxItem } from "@veil/protocol";
import { coalesced } from "./coalesce.js";
import { type ClientContext, reportError } from "./context.js";
import { isVeilError } from "./errors.js";
import type { Groups } from "./groups.js";
import type { KeyPackages } from "./key-packages.js";
import { asJson, MailboxRecord, ns, put } from "./local-state.js";
import type { OwnDevices } from "./own-devices.js";

const mailboxPage = 500;

/** What the mailbox tells the parts that build on groups (set in the composition root). */
export interface MailboxHooks {
  /** This device was put in a community's announcement group. */
  announcementJoined(groupId: string): Promise<void>;
  /** This device was taken out of a group (an announcement group has no commit to say so). */
  removedFromGroup(groupId: string): Promise<void>;
  /** The community whose announcement group this is, if it is one this device is in. */
  communityOf(groupId: string): string | undefined;
}

/**
 * This device's mailbox: welcomes (join), `key_packages_low` (upload more),
 * `device_linked` (bring the user's new device into every group),
 * `remove_device` (commit a departed device's removal), announcement groups
 * joined and left, and requests to join a group this user may answer
 * (`join-request` events). Items are handled in
 * order; the position is stored after each, and the server's copy is
 * acknowledged after each page.
 */
export class Mailbox {
  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly keyPackages: KeyPackages,
    private readonly ownDevices: OwnDevices,
    private readonly hooks: MailboxHooks,
  ) {}

  /** Reads and handles new items. Calls while one runs make it run once more after. */
  readonly sync = coalesced(
    () => this.run(),
    () => this.context.closed(),
  );

  private async run(): Promise<void> {
    const { api, state } = this.context;
    let position = (await state.json(MailboxRecord, ns.device, "mailbox"))?.position ?? 0;
    for (;;) {
      const { items } = await api.mailbox(position);
      const joined: string[] = [];
      for (const item of items) {
        if (item.seq <= position) continue;
        try {
          if (await this.handle(item)) joined.push(item.groupId as string);
        } catch (err) {
          // Network trouble: stop here and come back to this item on the next sync.
          if (isVeilError(err) && err.retryable) throw err;
          reportError(this.context, err, { groupId: item.groupId });
        }
        position = item.seq;
        await state.write([put(ns.device, "mailbox", asJson({ position }))]);
      }
      if (items.length > 0) {
        await api.ackMailbox(position).catch((err: unknown) => {
          this.context.logger.debug({ err: String(err) }, "mailbox not acknowledged");
        });
      }
      // A joined group's log after the commit that added us.
      for (const groupId of joined) await this.groups.sync(groupId);
      if (items.length < mailboxPage) return;
    }
  }

  /** True when the item made this device join a group. */
  private async handle(item: MailboxItem): Promise<boolean> {
    switch (item.kind) {
      case "welcome":
        return this.groups.join(item);
      case "key_packages_low":
        await this.keyPackages.replenish();
        return false;
      case "device_linked":
        if (item.deviceId) await this.ownDevices.linked(item.deviceId);
        return false;
      case "remove_device":
        if (item.groupId && item.deviceId) {
          await this.ownDevices.removeFromGroup(item.groupId, item.deviceId);
        }
        return false;
      case "announcement_joined":
        if (item.groupId) await this.hooks.announcementJoined(item.groupId);
        return false;
      case "removed_from_group":
        if (item.groupId) await this.hooks.removedFromGroup(item.groupId);
        return false;
      case "join_request":
        if (item.groupId) {
          // On a community's announcement group: someone asked to join the community.
          const communityId = this.hooks.communityOf(item.groupId);
          this.context.events.emit(
            "join-request",
            communityId ? { groupId: item.groupId, communityId } : { groupId: item.groupId },
          );
        }
        return false;
      default:
        return false;
    }
  }
}
