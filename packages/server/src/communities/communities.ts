import type {
  CommunityRole,
  CommunityView,
  CreateCommunityRequest,
  UpdateCommunityRequest,
  VisibleProfile,
} from "@veil/protocol";
import type { Selectable } from "kysely";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import type { CommunityLimits } from "../config.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import { imageType } from "../media/image-type.js";
import type { GroupMembership } from "../messaging/group-membership.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { CommunitiesTable } from "../store/schema/communities.js";

export type Community = Selectable<CommunitiesTable>;

export const isAdminRole = (role: CommunityRole | undefined) =>
  role === "owner" || role === "admin";

/** A community and the caller's role in it. */
export interface Standing {
  community: Community;
  role: CommunityRole;
}

/**
 * Communities: related groups under an owner and admins, with one
 * announcement group that every member is in. Members are never listed to
 * members (R4); admins see them (R6) and members see admins (R5). Anything
 * the caller may not see answers exactly as if it did not exist.
 */
export class Communities {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly members: GroupMembership,
    private readonly profiles: ProfileReader,
    private readonly limits: CommunityLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  // --- the community ----------------------------------------------------------

  async create(auth: AuthContext, request: CreateCommunityRequest): Promise<CommunityView> {
    const now = this.now();
    const id = newId("c");
    const announcementId = newId("g");
    const name = request.name.trim();
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("groups")
        .values({
          id: announcementId,
          kind: "announcement",
          epoch: 0,
          last_seq: 0,
          created_by: auth.userId,
          created_at: now,
          name,
          community_id: id,
          send_policy: "admins",
        })
        .execute();
      await tx.db
        .insertInto("communities")
        .values({
          id,
          name,
          description: request.description ?? "",
          owner_id: auth.userId,
          announcement_group_id: announcementId,
          photo: null,
          photo_type: null,
          deactivated_at: null,
          created_at: now,
        })
        .execute();
      await tx.db
        .insertInto("community_members")
        .values({ community_id: id, user_id: auth.userId, role: "owner", joined_at: now })
        .execute();
      await this.members.joinAnnouncement(tx, announcementId, [auth.userId]);
    });
    return this.view(auth, id);
  }

  /** The caller's standing, or `community_not_found` for a non-member (as if it did not exist). */
  async standing(auth: AuthContext, communityId: string, db: Db = this.db) {
    const row = await db
      .selectFrom("communities as c")
      .innerJoin("community_members as m", "m.community_id", "c.id")
      .selectAll("c")
      .select("m.role")
      .where("c.id", "=", communityId)
      .where("m.user_id", "=", auth.userId)
      .where("c.deactivated_at", "is", null)
      .executeTakeFirst();
    if (!row) throw new VeilError("community_not_found");
    const { role, ...community } = row;
    return { community, role } satisfies Standing;
  }

  async asAdmin(auth: AuthContext, communityId: string, db: Db = this.db) {
    const standing = await this.standing(auth, communityId, db);
    if (!isAdminRole(standing.role)) throw new VeilError("not_community_admin");
    return standing;
  }

  async asOwner(auth: AuthContext, communityId: string, db: Db = this.db) {
    const standing = await this.standing(auth, communityId, db);
    if (standing.role !== "owner") throw new VeilError("not_community_owner");
    return standing;
  }

  async view(auth: AuthContext, communityId: string): Promise<CommunityView> {
    const { community, role } = await this.standing(auth, communityId);
    const [count, groups, admins] = await Promise.all([
      this.memberCount(this.db, communityId),
      this.db
        .selectFrom("groups")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("community_id", "=", communityId)
        .where("kind", "=", "group")
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom("community_members")
        .select(["user_id", "role"])
        .where("community_id", "=", communityId)
        .where("role", "in", ["owner", "admin"])
        .orderBy("joined_at")
        .execute(),
    ]);
    admins.sort((a, b) => (a.role === "owner" ? -1 : b.role === "owner" ? 1 : 0));
    const seen = await this.profiles.visible(
      auth.userId,
      admins.map((a) => a.user_id),
    );
    return {
      id: community.id,
      name: community.name,
      description: community.description,
      photo: community.photo ? `/v1/communities/${community.id}/photo` : null,
      role,
      memberCount: count,
      groupCount: Number(groups.n),
      announcementGroupId: community.announcement_group_id,
      approveMembers: community.approve_members === 1,
      groupAddPolicy: community.group_add_policy,
      admins: admins
        .map((a) => seen.get(a.user_id))
        .filter((p): p is VisibleProfile => p !== undefined),
      limits: {
        groups: this.limits.groups,
        groupMembers: this.limits.groupMembers,
        announcementMembers: this.limits.announcementMembers,
      },
      createdAt: new Date(community.created_at).toISOString(),
    };
  }

  async list(auth: AuthContext): Promise<CommunityView[]> {
    const rows = await this.db
      .selectFrom("community_members as m")
      .innerJoin("communities as c", "c.id", "m.community_id")
      .select("c.id")
      .where("m.user_id", "=", auth.userId)
      .where("c.deactivated_at", "is", null)
      .orderBy("c.created_at")
      .execute();
    return Promise.all(rows.map((r) => this.view(auth, r.id)));
  }

  async memberCount(db: Db, communityId: string): Promise<number> {
    const row = await db
      .selectFrom("community_members")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("community_id", "=", communityId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async update(
    auth: AuthContext,
    communityId: string,
    request: UpdateCommunityRequest,
  ): Promise<CommunityView> {
    const { community } = await this.asAdmin(auth, communityId);
    const name = request.name?.trim();
    await this.database.transaction(async (tx) => {
      await tx.db
        .updateTable("communities")
        .set({
          ...(name === undefined ? {} : { name }),
          ...(request.description === undefined ? {} : { description: request.description }),
          ...(request.approveMembers === undefined
            ? {}
            : { approve_members: request.approveMembers ? 1 : 0 }),
          ...(request.groupAddPolicy === undefined
            ? {}
            : { group_add_policy: request.groupAddPolicy }),
        })
        .where("id", "=", communityId)
        .execute();
      if (name !== undefined) {
        await tx.db
          .updateTable("groups")
          .set({ name })
          .where("id", "=", community.announcement_group_id)
          .execute();
      }
    });
    return this.view(auth, communityId);
  }

  async setPhoto(auth: AuthContext, communityId: string, bytes: Buffer): Promise<CommunityView> {
    await this.asAdmin(auth, communityId);
    const contentType = imageType(bytes);
    if (!contentType) throw new VeilError("photo_invalid");
    await this.db
      .updateTable("communities")
      .set({ photo: bytes, photo_type: contentType })
      .where("id", "=", communityId)
      .execute();
    return this.view(auth, communityId);
  }

  async removePhoto(auth: AuthContext, communityId: string): Promise<CommunityView> {
    await this.asAdmin(auth, communityId);
    await this.db
      .updateTable("communities")
      .set({ photo: null, photo_type: null })
      .where("id", "=", communityId)
      .execute();
    return this.view(auth, communityId);
  }

  async photo(auth: AuthContext, communityId: string) {
    const { community } = await this.standing(auth, communityId);
    if (!community.photo || !community.photo_type) throw new VeilError("photo_not_found");
    return { bytes: community.photo, contentType: community.photo_type };
  }

  /**
   * The owner closes the community: its groups carry on as standalone groups,
   * the announcement group ends, and its members no longer relate through it.
   */
  async deactivate(auth: AuthContext, communityId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community } = await this.asOwner(auth, communityId, tx.db);
      await this.close(tx, community);
    });
  }

  private async close(tx: Tx, community: Community): Promise<void> {
    const communityId = community.id;
    const everyone = await tx.db
      .selectFrom("community_members")
      .select("user_id")
      .where("community_id", "=", communityId)
      .execute();
    for (const { user_id } of everyone) {
      await this.members.userLeft(tx, community.announcement_group_id, user_id);
    }
    // Requests to join its groups came through the community: they end with it.
    const groups = tx.db
      .selectFrom("groups")
      .select("id")
      .where("community_id", "=", communityId)
      .where("kind", "=", "group");
    await tx.db.deleteFrom("join_requests").where("target_id", "in", groups).execute();
    await tx.db
      .updateTable("groups")
      .set({ community_id: null })
      .where("community_id", "=", communityId)
      .where("kind", "=", "group")
      .execute();
    await tx.db.deleteFrom("community_members").where("community_id", "=", communityId).execute();
    await tx.db.deleteFrom("community_invites").where("community_id", "=", communityId).execute();
    await tx.db.deleteFrom("group_suggestions").where("community_id", "=", communityId).execute();
    await tx.db.deleteFrom("join_requests").where("target_id", "=", communityId).execute();
    await tx.db
      .updateTable("communities")
      .set({ deactivated_at: this.now() })
      .where("id", "=", communityId)
      .execute();
  }

  /**
   * An account is being deleted: it leaves each of its communities. A
   * community it owned passes to its longest-standing admin, or else member;
   * one left with nobody is deactivated.
   */
  async accountDeleted(tx: Tx, userId: string): Promise<void> {
    const memberships = await tx.db
      .selectFrom("community_members as m")
      .innerJoin("communities as c", "c.id", "m.community_id")
      .selectAll("c")
      .select("m.role")
      .where("m.user_id", "=", userId)
      .where("c.deactivated_at", "is", null)
      .execute();
    for (const { role, ...community } of memberships) {
      if (role === "owner") {
        const heir = await tx.db
          .selectFrom("community_members")
          .select("user_id")
          .where("community_id", "=", community.id)
          .where("user_id", "!=", userId)
          .orderBy((eb) => eb.case().when("role", "=", "admin").then(0).else(1).end())
          .orderBy("joined_at")
          .orderBy("user_id")
          .executeTakeFirst();
        if (!heir) {
          await this.close(tx, community);
          continue;
        }
        await tx.db
          .updateTable("community_members")
          .set({ role: "owner" })
          .where("community_id", "=", community.id)
          .where("user_id", "=", heir.user_id)
          .execute();
        await tx.db
          .updateTable("communities")
          .set({ owner_id: heir.user_id })
          .where("id", "=", community.id)
          .execute();
      }
      await this.letGo(tx, community, userId);
    }
  }

  // --- roles ------------------------------------------------------------------

  /** The target's role, or `user_not_found` when the target is not a member. */
  private async roleOf(db: Db, communityId: string, userId: string): Promise<CommunityRole> {
    const row = await db
      .selectFrom("community_members")
      .select("role")
      .where("community_id", "=", communityId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw new VeilError("user_not_found");
    return row.role;
  }

  /** The owner makes a member an admin, or takes it back. */
  async setAdmin(
    auth: AuthContext,
    communityId: string,
    userId: string,
    admin: boolean,
  ): Promise<CommunityView> {
    await this.database.transaction(async (tx) => {
      await this.asOwner(auth, communityId, tx.db);
      const role = await this.roleOf(tx.db, communityId, userId);
      if (role === "owner") throw new VeilError("not_community_owner");
      await tx.db
        .updateTable("community_members")
        .set({ role: admin ? "admin" : "member" })
        .where("community_id", "=", communityId)
        .where("user_id", "=", userId)
        .execute();
      this.changed(tx, [userId]);
    });
    return this.view(auth, communityId);
  }

  /** The owner hands the community to another member and stays on as an admin. */
  async transferOwnership(
    auth: AuthContext,
    communityId: string,
    userId: string,
  ): Promise<CommunityView> {
    await this.database.transaction(async (tx) => {
      await this.asOwner(auth, communityId, tx.db);
      if (userId === auth.userId) return;
      await this.roleOf(tx.db, communityId, userId);
      const set = (user: string, role: CommunityRole) =>
        tx.db
          .updateTable("community_members")
          .set({ role })
          .where("community_id", "=", communityId)
          .where("user_id", "=", user)
          .execute();
      await set(userId, "owner");
      await set(auth.userId, "admin");
      this.changed(tx, [userId]);
      await tx.db
        .updateTable("communities")
        .set({ owner_id: userId })
        .where("id", "=", communityId)
        .execute();
    });
    return this.view(auth, communityId);
  }

  // --- members ------------------------------------------------------------------

  /** Every member, with what R6 shows an admin: id, name, phone, photo if allowed. */
  async memberList(auth: AuthContext, communityId: string) {
    await this.asAdmin(auth, communityId);
    const rows = await this.db
      .selectFrom("community_members")
      .select(["user_id", "role", "joined_at"])
      .where("community_id", "=", communityId)
      .orderBy("joined_at")
      .execute();
    const seen = await this.profiles.visible(
      auth.userId,
      rows.map((r) => r.user_id),
    );
    return rows.flatMap((r) => {
      const profile = seen.get(r.user_id);
      return profile
        ? [{ profile, role: r.role, joinedAt: new Date(r.joined_at).toISOString() }]
        : [];
    });
  }

  /**
   * Makes users members (and puts their devices in the announcement group),
   * within the community's member limit. Already-members are left as they are.
   */
  async admit(tx: Tx, community: Community, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.lock(tx, community.id);
    const existing = await tx.db
      .selectFrom("community_members")
      .select("user_id")
      .where("community_id", "=", community.id)
      .where("user_id", "in", userIds)
      .execute();
    const have = new Set(existing.map((e) => e.user_id));
    const fresh = [...new Set(userIds)].filter((u) => !have.has(u));
    if (fresh.length === 0) return;
    const count = await this.memberCount(tx.db, community.id);
    if (count + fresh.length > this.limits.announcementMembers)
      throw new VeilError("community_member_limit");
    const now = this.now();
    await tx.db
      .insertInto("community_members")
      .values(
        fresh.map((u) => ({
          community_id: community.id,
          user_id: u,
          role: "member" as const,
          joined_at: now,
        })),
      )
      .execute();
    await tx.db
      .deleteFrom("join_requests")
      .where("target_id", "=", community.id)
      .where("user_id", "in", fresh)
      .execute();
    await this.members.joinAnnouncement(tx, community.announcement_group_id, fresh);
    this.changed(tx, fresh);
  }

  /**
   * Holds the community's row until the transaction ends, so that a limit
   * counted next (members, groups) cannot be overshot by concurrent joins or
   * links counting the same rows (PostgreSQL's row lock; SQLite runs one
   * transaction at a time and needs none).
   */
  async lock(tx: Tx, communityId: string): Promise<void> {
    await tx.db
      .selectFrom("communities")
      .select("id")
      .where("id", "=", communityId)
      .$call((q) => this.database.forUpdate(q))
      .executeTakeFirst();
  }

  /**
   * Who may see these users has changed (a new member shows to the admins, a
   * new admin to the members): once committed, their viewers hear it as they
   * do for any profile change, each through the privacy module.
   */
  private changed(tx: Tx, userIds: string[]): void {
    tx.onCommit(async () => {
      for (const userId of userIds) await this.bus.publish({ type: "profile.changed", userId });
    });
  }

  /** Takes a user out of the community, its announcement group and its groups. */
  private async letGo(tx: Tx, community: Community, userId: string): Promise<void> {
    await tx.db
      .deleteFrom("community_members")
      .where("community_id", "=", community.id)
      .where("user_id", "=", userId)
      .execute();
    await this.members.userLeft(tx, community.announcement_group_id, userId);
    const groups = await tx.db
      .selectFrom("groups as g")
      .innerJoin("group_members as m", "m.group_id", "g.id")
      .select("g.id")
      .distinct()
      .where("g.community_id", "=", community.id)
      .where("g.kind", "=", "group")
      .where("m.user_id", "=", userId)
      .execute();
    for (const group of groups) await this.members.userLeft(tx, group.id, userId);
    const communityGroups = tx.db
      .selectFrom("groups")
      .select("id")
      .where("community_id", "=", community.id);
    await tx.db
      .deleteFrom("join_requests")
      .where("user_id", "=", userId)
      .where("target_id", "in", communityGroups)
      .execute();
  }

  /** Leaves the community, with its announcement group and every group of it. */
  async leave(auth: AuthContext, communityId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community, role } = await this.standing(auth, communityId, tx.db);
      if (role === "owner") throw new VeilError("owner_cannot_leave");
      await this.letGo(tx, community, auth.userId);
    });
  }

  /** An admin removes a member (only the owner removes admins; nobody removes the owner). */
  async removeMember(auth: AuthContext, communityId: string, userId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community, role: mine } = await this.asAdmin(auth, communityId, tx.db);
      const theirs = await this.roleOf(tx.db, communityId, userId);
      if (theirs === "owner" || (theirs === "admin" && mine !== "owner"))
        throw new VeilError("not_community_owner");
      await this.letGo(tx, community, userId);
    });
  }

  /** Users who joined one of the community's groups by a commit join the community. */
  async joinedCommunityGroup(tx: Tx, communityId: string, userIds: string[]): Promise<void> {
    const community = await tx.db
      .selectFrom("communities")
      .selectAll()
      .where("id", "=", communityId)
      .executeTakeFirstOrThrow();
    await this.admit(tx, community, userIds);
  }
}
