import type {
  GroupInfoRequest,
  GroupSettingsRequest,
  GroupSummary,
  JoinRequest,
} from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database } from "../store/database.js";
import type { Delivery, Membership } from "./delivery.js";
import type { GroupMembership } from "./group-membership.js";
import type { Mailbox } from "./mailbox.js";

/**
 * Requests to join, as the one who decides sees them: the asker's id, name
 * and photo if allowed (the privacy module grants them), oldest first.
 */
export async function toJoinRequests(
  profiles: ProfileReader,
  viewerId: string,
  rows: Array<{ user_id: string; created_at: number }>,
): Promise<JoinRequest[]> {
  const seen = await profiles.visible(
    viewerId,
    rows.map((r) => r.user_id),
  );
  return rows.flatMap((r) => {
    const profile = seen.get(r.user_id);
    if (!profile) return [];
    return [
      {
        userId: r.user_id,
        ...(profile.name === undefined ? {} : { name: profile.name }),
        ...(profile.photo === undefined ? {} : { photo: profile.photo }),
        createdAt: new Date(r.created_at).toISOString(),
      },
    ];
  });
}

/**
 * Running a group: admins, settings, name and description, requests to
 * join, and leaving. Adding and removing members are MLS commits (see
 * `Delivery.commit`); this is everything around them.
 */
export class GroupAdmin {
  constructor(
    private readonly database: Database,
    private readonly delivery: Delivery,
    private readonly members: GroupMembership,
    private readonly mailbox: Mailbox,
    private readonly profiles: ProfileReader,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.database.db;
  }

  private async asAdmin(auth: AuthContext, groupId: string): Promise<Membership> {
    const summary = await this.delivery.membership(auth, groupId);
    if (summary.kind !== "group" || !summary.isAdmin) throw new VeilError("not_group_admin");
    return summary;
  }

  /** Makes a member user an admin, or takes it back (never the last admin). */
  async setAdmin(
    auth: AuthContext,
    groupId: string,
    userId: string,
    admin: boolean,
  ): Promise<GroupSummary> {
    await this.asAdmin(auth, groupId);
    await this.database.transaction(async (tx) => {
      const member = await tx.db
        .selectFrom("group_members")
        .select("user_id")
        .where("group_id", "=", groupId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (!member) throw new VeilError("user_not_found");
      if (admin) {
        await tx.db
          .insertInto("group_admins")
          .values({ group_id: groupId, user_id: userId })
          .onConflict((oc) => oc.doNothing())
          .execute();
        return;
      }
      const admins = await tx.db
        .selectFrom("group_admins")
        .select("user_id")
        .where("group_id", "=", groupId)
        .execute();
      if (admins.length === 1 && admins[0]?.user_id === userId) throw new VeilError("last_admin");
      await tx.db
        .deleteFrom("group_admins")
        .where("group_id", "=", groupId)
        .where("user_id", "=", userId)
        .execute();
    });
    return this.delivery.group(auth, groupId);
  }

  /** Who may send, who may edit the name and description, and whether joining needs approval. */
  async updateSettings(
    auth: AuthContext,
    groupId: string,
    settings: GroupSettingsRequest,
  ): Promise<GroupSummary> {
    await this.asAdmin(auth, groupId);
    await this.db
      .updateTable("groups")
      .set({
        ...(settings.sendPolicy ? { send_policy: settings.sendPolicy } : {}),
        ...(settings.infoPolicy ? { info_policy: settings.infoPolicy } : {}),
        ...(settings.approveMembers === undefined
          ? {}
          : { approve_members: settings.approveMembers ? 1 : 0 }),
      })
      .where("id", "=", groupId)
      .execute();
    return this.delivery.group(auth, groupId);
  }

  /** The name and description: any member, or admins only when the group is set so. */
  async updateInfo(
    auth: AuthContext,
    groupId: string,
    info: GroupInfoRequest,
  ): Promise<GroupSummary> {
    const summary = await this.delivery.membership(auth, groupId);
    if (summary.kind !== "group") throw new VeilError("wrong_group_kind");
    const group = await this.db
      .selectFrom("groups")
      .select("info_policy")
      .where("id", "=", groupId)
      .executeTakeFirstOrThrow();
    if (group.info_policy === "admins" && !summary.isAdmin) throw new VeilError("not_group_admin");
    await this.db
      .updateTable("groups")
      .set({
        ...(info.name === undefined ? {} : { name: info.name.trim() }),
        ...(info.description === undefined ? {} : { description: info.description }),
      })
      .where("id", "=", groupId)
      .execute();
    return this.delivery.group(auth, groupId);
  }

  /** Leaves a group: every device of the caller goes; the others commit the removal. */
  async leave(auth: AuthContext, groupId: string): Promise<void> {
    const summary = await this.delivery.membership(auth, groupId);
    if (summary.kind !== "group") throw new VeilError("wrong_group_kind");
    await this.database.transaction((tx) => this.members.userLeft(tx, groupId, auth.userId));
  }

  /**
   * Asks to join a group of a community the caller belongs to (from the
   * directory). A group the caller may not see answers `group_not_found`.
   * The group's admins (or, without approval, all its members) are told; one
   * of them adds the caller by an MLS commit, which answers the request.
   */
  async requestToJoin(auth: AuthContext, groupId: string): Promise<void> {
    const group = await this.db
      .selectFrom("groups as g")
      .innerJoin("community_members as c", (join) =>
        join.onRef("c.community_id", "=", "g.community_id").on("c.user_id", "=", auth.userId),
      )
      .select(["g.id", "g.approve_members"])
      .where("g.id", "=", groupId)
      .where("g.kind", "=", "group")
      .executeTakeFirst();
    if (!group) throw new VeilError("group_not_found");
    await this.database.transaction(async (tx) => {
      const already = await tx.db
        .selectFrom("group_members")
        .select("user_id")
        .where("group_id", "=", groupId)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if (already) return;
      const inserted = await tx.db
        .insertInto("join_requests")
        .values({ target_id: groupId, user_id: auth.userId, created_at: this.now() })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return;
      const deciders = await tx.db
        .selectFrom("group_members as m")
        .leftJoin("group_admins as a", (join) =>
          join.onRef("a.group_id", "=", "m.group_id").onRef("a.user_id", "=", "m.user_id"),
        )
        .select("m.device_id")
        .where("m.group_id", "=", groupId)
        .$if(group.approve_members === 1, (q) => q.where("a.user_id", "is not", null))
        .execute();
      for (const device of deciders) {
        await this.mailbox.notify(tx, device.device_id, {
          kind: "join_request",
          group_id: groupId,
        });
      }
    });
  }

  /** Pending requests, to those who may answer them (admins; every member without approval). */
  async requests(auth: AuthContext, groupId: string): Promise<JoinRequest[]> {
    const summary = await this.deciderOf(auth, groupId);
    const rows = await this.db
      .selectFrom("join_requests")
      .select(["user_id", "created_at"])
      .where("target_id", "=", summary.id)
      .orderBy("created_at")
      .execute();
    return toJoinRequests(this.profiles, auth.userId, rows);
  }

  /** Declines a request (a decider), or withdraws one's own. */
  async dismissRequest(auth: AuthContext, groupId: string, userId: string): Promise<void> {
    if (userId !== auth.userId) await this.deciderOf(auth, groupId);
    const deleted = await this.db
      .deleteFrom("join_requests")
      .where("target_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw new VeilError("request_not_found");
  }

  private async deciderOf(auth: AuthContext, groupId: string): Promise<Membership> {
    const summary = await this.delivery.membership(auth, groupId);
    if (summary.kind !== "group") throw new VeilError("wrong_group_kind");
    if (summary.isAdmin) return summary;
    const group = await this.db
      .selectFrom("groups")
      .select("approve_members")
      .where("id", "=", groupId)
      .executeTakeFirstOrThrow();
    if (group.approve_members === 1) throw new VeilError("not_group_admin");
    return summary;
  }
}
