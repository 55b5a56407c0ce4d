import type { Tx } from "../store/database.js";
import type { Mailbox } from "./mailbox.js";

/**
 * Membership changes that the server makes itself, inside the caller's
 * transaction: a device leaving its account, a user leaving a group (the
 * remaining devices are asked to commit the removal, which rotates the MLS
 * group's keys), and the announcement groups, whose membership the server
 * keeps alone (they have no MLS tree: see docs/communities.md).
 */
export class GroupMembership {
  constructor(private readonly mailbox: Mailbox) {}

  /** Takes devices off a group's member list, with their read positions. */
  async dropDevices(tx: Tx, groupId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    for (const table of ["group_members", "device_cursors"] as const) {
      await tx.db
        .deleteFrom(table)
        .where("group_id", "=", groupId)
        .where("device_id", "in", deviceIds)
        .execute();
    }
  }

  /**
   * Devices that left a group's member list: they stop reading and posting at
   * once; in an MLS group the remaining devices are asked to commit their
   * removal (their leaves stay until then, as pending removals).
   */
  private async devicesLeft(
    tx: Tx,
    groupId: string,
    kind: string,
    deviceIds: string[],
  ): Promise<void> {
    await this.dropDevices(tx, groupId, deviceIds);
    if (kind === "announcement") return;
    for (const deviceId of deviceIds) {
      await tx.db
        .insertInto("pending_removals")
        .values({ group_id: groupId, device_id: deviceId })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    const remaining = await tx.db
      .selectFrom("group_members")
      .select("device_id")
      .where("group_id", "=", groupId)
      .execute();
    for (const member of remaining) {
      for (const deviceId of deviceIds) {
        await this.mailbox.notify(tx, member.device_id, {
          kind: "remove_device",
          group_id: groupId,
          device_ref: deviceId,
        });
      }
    }
  }

  /**
   * A user leaves a group (or is let go with its community): all its devices
   * are told, and the group keeps an admin (the longest-standing member).
   */
  async userLeft(tx: Tx, groupId: string, userId: string): Promise<void> {
    const group = await tx.db
      .selectFrom("groups")
      .select("kind")
      .where("id", "=", groupId)
      .executeTakeFirst();
    const devices = await tx.db
      .selectFrom("group_members")
      .select("device_id")
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .execute();
    if (!group || devices.length === 0) return;
    const deviceIds = devices.map((d) => d.device_id);
    for (const deviceId of deviceIds) {
      await this.mailbox.notify(tx, deviceId, { kind: "removed_from_group", group_id: groupId });
    }
    await this.devicesLeft(tx, groupId, group.kind, deviceIds);
    if (group.kind === "group") await this.settleAdmins(tx, groupId);
  }

  /**
   * Admin rights belong to users with a device in the group: those without
   * one lose them, and a group left with members but no admin gets its
   * longest-standing member as admin.
   */
  async settleAdmins(tx: Tx, groupId: string): Promise<void> {
    const present = tx.db
      .selectFrom("group_members")
      .select("user_id")
      .where("group_id", "=", groupId);
    await tx.db
      .deleteFrom("group_admins")
      .where("group_id", "=", groupId)
      .where("user_id", "not in", present)
      .execute();
    const admin = await tx.db
      .selectFrom("group_admins")
      .select("user_id")
      .where("group_id", "=", groupId)
      .executeTakeFirst();
    if (admin) return;
    const next = await tx.db
      .selectFrom("group_members")
      .select("user_id")
      .where("group_id", "=", groupId)
      .orderBy("joined_seq")
      .orderBy("user_id")
      .executeTakeFirst();
    if (next) {
      await tx.db
        .insertInto("group_admins")
        .values({ group_id: groupId, user_id: next.user_id })
        .execute();
    }
  }

  /** An account is being deleted: it leaves its group chats (each keeps an admin). */
  async accountDeleted(tx: Tx, userId: string): Promise<void> {
    const groups = await tx.db
      .selectFrom("group_members as m")
      .innerJoin("groups as g", "g.id", "m.group_id")
      .select("g.id")
      .distinct()
      .where("m.user_id", "=", userId)
      .where("g.kind", "=", "group")
      .execute();
    for (const group of groups) await this.userLeft(tx, group.id, userId);
  }

  /** Puts every device of these users in an announcement group, reading from now on. */
  async joinAnnouncement(tx: Tx, groupId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const group = await tx.db
      .selectFrom("groups")
      .select("last_seq")
      .where("id", "=", groupId)
      .executeTakeFirstOrThrow();
    const devices = await tx.db
      .selectFrom("devices")
      .select(["id", "user_id"])
      .where("user_id", "in", userIds)
      .execute();
    for (const device of devices) {
      const inserted = await tx.db
        .insertInto("group_members")
        .values({
          group_id: groupId,
          device_id: device.id,
          user_id: device.user_id,
          joined_seq: group.last_seq,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) continue;
      await this.mailbox.notify(tx, device.id, {
        kind: "announcement_joined",
        group_id: groupId,
        joined_seq: group.last_seq,
      });
    }
  }

  /** A device joined an account: it joins the account's announcement groups. */
  async deviceAdded(tx: Tx, userId: string): Promise<void> {
    const groups = await tx.db
      .selectFrom("community_members as m")
      .innerJoin("communities as c", "c.id", "m.community_id")
      .select("c.announcement_group_id as id")
      .where("m.user_id", "=", userId)
      .execute();
    for (const group of groups) await this.joinAnnouncement(tx, group.id, [userId]);
  }

  /**
   * A device left its account: it stops reading and posting at once, and the
   * remaining member devices of each of its MLS groups are asked to commit
   * its removal, which rotates the group's keys.
   */
  async deviceRemoved(tx: Tx, deviceId: string): Promise<void> {
    const memberships = await tx.db
      .selectFrom("group_members as m")
      .innerJoin("groups as g", "g.id", "m.group_id")
      .select(["m.group_id", "g.kind"])
      .where("m.device_id", "=", deviceId)
      .execute();
    for (const { group_id, kind } of memberships) {
      await this.devicesLeft(tx, group_id, kind, [deviceId]);
    }
    await tx.db.deleteFrom("key_packages").where("device_id", "=", deviceId).execute();
  }
}
