import { randomBytes } from "node:crypto";
import type {
  CommunityRole,
  CommunityView,
  CreateCommunityRequest,
  DirectoryEntry,
  GroupSummary,
  Invite,
  InvitePreview,
  JoinRequest,
  JoinResult,
  UpdateCommunityRequest,
  VisibleProfile,
} from "@veil/protocol";
import type { Selectable } from "kysely";
import type { AuthContext } from "../auth/sessions.js";
import type { CommunityLimits } from "../config.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import { imageType } from "../media/image-type.js";
import type { Delivery } from "../messaging/delivery.js";
import type { GroupMembership } from "../messaging/group-membership.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { CommunitiesTable } from "../store/schema/communities.js";

type Community = Selectable<CommunitiesTable>;

const defaultInviteSeconds = 7 * 24 * 3600;
const isAdminRole = (role: CommunityRole | undefined) => role === "owner" || role === "admin";

/** A community and the caller's role in it. */
interface Standing {
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
    private readonly delivery: Delivery,
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
  private async standing(auth: AuthContext, communityId: string, db: Db = this.db) {
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

  private async asAdmin(auth: AuthContext, communityId: string, db: Db = this.db) {
    const standing = await this.standing(auth, communityId, db);
    if (!isAdminRole(standing.role)) throw new VeilError("not_community_admin");
    return standing;
  }

  private async asOwner(auth: AuthContext, communityId: string, db: Db = this.db) {
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

  private async memberCount(db: Db, communityId: string): Promise<number> {
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
  private async admit(tx: Tx, community: Community, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
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

  // --- invite links and requests to join ------------------------------------------

  async createInvite(
    auth: AuthContext,
    communityId: string,
    expiresInSeconds = defaultInviteSeconds,
  ): Promise<Invite> {
    await this.asAdmin(auth, communityId);
    const now = this.now();
    const code = randomBytes(18).toString("base64url");
    const expiresAt = now + expiresInSeconds * 1000;
    await this.db
      .insertInto("community_invites")
      .values({
        code,
        community_id: communityId,
        created_by: auth.userId,
        expires_at: expiresAt,
        created_at: now,
      })
      .execute();
    return {
      code,
      expiresAt: new Date(expiresAt).toISOString(),
      createdAt: new Date(now).toISOString(),
    };
  }

  async invites(auth: AuthContext, communityId: string): Promise<Invite[]> {
    await this.asAdmin(auth, communityId);
    const rows = await this.db
      .selectFrom("community_invites")
      .selectAll()
      .where("community_id", "=", communityId)
      .where("expires_at", ">", this.now())
      .orderBy("created_at")
      .execute();
    return rows.map((r) => ({
      code: r.code,
      expiresAt: new Date(r.expires_at).toISOString(),
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  async revokeInvite(auth: AuthContext, communityId: string, code: string): Promise<void> {
    await this.asAdmin(auth, communityId);
    const deleted = await this.db
      .deleteFrom("community_invites")
      .where("community_id", "=", communityId)
      .where("code", "=", code)
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw new VeilError("invite_invalid");
  }

  private async inviteTarget(db: Db, code: string): Promise<Community> {
    const row = await db
      .selectFrom("community_invites as i")
      .innerJoin("communities as c", "c.id", "i.community_id")
      .selectAll("c")
      .where("i.code", "=", code)
      .where("i.expires_at", ">", this.now())
      .where("c.deactivated_at", "is", null)
      .executeTakeFirst();
    if (!row) throw new VeilError("invite_invalid");
    return row;
  }

  /** What a link shows before joining: the community, never its members. */
  async preview(code: string): Promise<InvitePreview> {
    const community = await this.inviteTarget(this.db, code);
    return {
      communityId: community.id,
      name: community.name,
      description: community.description,
      memberCount: await this.memberCount(this.db, community.id),
      approveMembers: community.approve_members === 1,
    };
  }

  /** Joins by link, or asks to when the community approves new members. */
  async join(auth: AuthContext, code: string): Promise<JoinResult> {
    return this.database.transaction(async (tx) => {
      const community = await this.inviteTarget(tx.db, code);
      const member = await tx.db
        .selectFrom("community_members")
        .select("role")
        .where("community_id", "=", community.id)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if (member) return { status: "joined" as const, communityId: community.id };
      if (community.approve_members === 1) {
        await tx.db
          .insertInto("join_requests")
          .values({ target_id: community.id, user_id: auth.userId, created_at: this.now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
        return { status: "pending" as const, communityId: community.id };
      }
      await this.admit(tx, community, [auth.userId]);
      return { status: "joined" as const, communityId: community.id };
    });
  }

  async requests(auth: AuthContext, communityId: string): Promise<JoinRequest[]> {
    await this.asAdmin(auth, communityId);
    const rows = await this.db
      .selectFrom("join_requests")
      .select(["user_id", "created_at"])
      .where("target_id", "=", communityId)
      .orderBy("created_at")
      .execute();
    const seen = await this.profiles.visible(
      auth.userId,
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

  async answerRequest(
    auth: AuthContext,
    communityId: string,
    userId: string,
    approve: boolean,
  ): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community } = await this.asAdmin(auth, communityId, tx.db);
      const request = await tx.db
        .selectFrom("join_requests")
        .select("user_id")
        .where("target_id", "=", communityId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (!request) throw new VeilError("request_not_found");
      if (approve) await this.admit(tx, community, [userId]);
      else {
        await tx.db
          .deleteFrom("join_requests")
          .where("target_id", "=", communityId)
          .where("user_id", "=", userId)
          .execute();
      }
    });
  }

  // --- groups -------------------------------------------------------------------

  /** The directory: each group's name, description and size; never who is in it. */
  async directory(auth: AuthContext, communityId: string): Promise<DirectoryEntry[]> {
    await this.standing(auth, communityId);
    const groups = await this.db
      .selectFrom("groups")
      .select(["id", "name", "description"])
      .where("community_id", "=", communityId)
      .where("kind", "=", "group")
      .orderBy("created_at")
      .execute();
    if (groups.length === 0) return [];
    const ids = groups.map((g) => g.id);
    const [sizes, mine, asked] = await Promise.all([
      this.groupSizes(ids),
      this.db
        .selectFrom("group_members")
        .select("group_id")
        .distinct()
        .where("group_id", "in", ids)
        .where("user_id", "=", auth.userId)
        .execute(),
      this.db
        .selectFrom("join_requests")
        .select("target_id")
        .where("target_id", "in", ids)
        .where("user_id", "=", auth.userId)
        .execute(),
    ]);
    const joined = new Set(mine.map((m) => m.group_id));
    const requested = new Set(asked.map((a) => a.target_id));
    return groups.map((g) => ({
      groupId: g.id,
      name: g.name,
      description: g.description,
      size: sizes.get(g.id) ?? 0,
      joined: joined.has(g.id),
      requested: requested.has(g.id),
    }));
  }

  private async groupSizes(groupIds: string[]): Promise<Map<string, number>> {
    if (groupIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom("group_members")
      .select(["group_id", (eb) => eb.fn.count<string>("user_id").distinct().as("n")])
      .where("group_id", "in", groupIds)
      .groupBy("group_id")
      .execute();
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  }

  /** May the caller add groups directly (otherwise it suggests them)? */
  private mayAddGroups(standing: Standing): boolean {
    return isAdminRole(standing.role) || standing.community.group_add_policy === "members";
  }

  private async checkGroupLimit(db: Db, communityId: string): Promise<void> {
    const row = await db
      .selectFrom("groups")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("community_id", "=", communityId)
      .where("kind", "=", "group")
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= this.limits.groups) throw new VeilError("community_group_limit");
  }

  /** Puts a group in the community; its members join the community. */
  private async attach(tx: Tx, community: Community, groupId: string): Promise<void> {
    await this.checkGroupLimit(tx.db, community.id);
    await tx.db
      .updateTable("groups")
      .set({ community_id: community.id })
      .where("id", "=", groupId)
      .execute();
    await tx.db.deleteFrom("group_suggestions").where("group_id", "=", groupId).execute();
    const users = await tx.db
      .selectFrom("group_members")
      .select("user_id")
      .distinct()
      .where("group_id", "=", groupId)
      .execute();
    await this.admit(
      tx,
      community,
      users.map((u) => u.user_id),
    );
  }

  /** A new group inside the community, with the caller as its admin and only member. */
  async createGroup(
    auth: AuthContext,
    communityId: string,
    request: { name: string; description?: string | undefined },
  ): Promise<GroupSummary> {
    const standing = await this.standing(auth, communityId);
    if (!this.mayAddGroups(standing)) throw new VeilError("not_community_admin");
    return this.delivery.createGroup(
      auth,
      { kind: "group", name: request.name.trim(), description: request.description ?? "" },
      (tx, groupId) => this.attach(tx, standing.community, groupId),
    );
  }

  /**
   * Links a group the caller administers into the community, or, when only
   * admins add groups and the caller is not one, suggests it to them.
   */
  async linkGroup(
    auth: AuthContext,
    communityId: string,
    groupId: string,
  ): Promise<"linked" | "suggested"> {
    return this.database.transaction(async (tx) => {
      const standing = await this.standing(auth, communityId, tx.db);
      const group = await tx.db
        .selectFrom("groups as g")
        .innerJoin("group_admins as a", (join) =>
          join.onRef("a.group_id", "=", "g.id").on("a.user_id", "=", auth.userId),
        )
        .select(["g.id", "g.kind", "g.community_id"])
        .where("g.id", "=", groupId)
        .executeTakeFirst();
      if (group?.kind !== "group") throw new VeilError("group_not_found");
      if (group.community_id !== null) throw new VeilError("group_in_community");
      if (this.mayAddGroups(standing)) {
        await this.attach(tx, standing.community, groupId);
        return "linked";
      }
      await this.checkGroupLimit(tx.db, communityId);
      await tx.db
        .insertInto("group_suggestions")
        .values({
          community_id: communityId,
          group_id: groupId,
          suggested_by: auth.userId,
          created_at: this.now(),
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return "suggested";
    });
  }

  /** Takes a group out (a community admin, or an admin of the group); it carries on alone. */
  async unlinkGroup(auth: AuthContext, communityId: string, groupId: string): Promise<void> {
    const standing = await this.standing(auth, communityId);
    const group = await this.db
      .selectFrom("groups as g")
      .leftJoin("group_admins as a", (join) =>
        join.onRef("a.group_id", "=", "g.id").on("a.user_id", "=", auth.userId),
      )
      .select(["g.id", "a.user_id as admin"])
      .where("g.id", "=", groupId)
      .where("g.community_id", "=", communityId)
      .where("g.kind", "=", "group")
      .executeTakeFirst();
    if (!group) throw new VeilError("group_not_found");
    if (!isAdminRole(standing.role) && group.admin === null)
      throw new VeilError("not_community_admin");
    await this.db
      .updateTable("groups")
      .set({ community_id: null })
      .where("id", "=", groupId)
      .execute();
  }

  async suggestions(auth: AuthContext, communityId: string) {
    await this.asAdmin(auth, communityId);
    const rows = await this.db
      .selectFrom("group_suggestions as s")
      .innerJoin("groups as g", "g.id", "s.group_id")
      .select(["g.id", "g.name", "g.description", "s.suggested_by", "s.created_at"])
      .where("s.community_id", "=", communityId)
      .orderBy("s.created_at")
      .execute();
    const [sizes, seen] = await Promise.all([
      this.groupSizes(rows.map((r) => r.id)),
      this.profiles.visible(
        auth.userId,
        rows.map((r) => r.suggested_by),
      ),
    ]);
    return rows.flatMap((r) => {
      const by = seen.get(r.suggested_by);
      if (!by) return [];
      return [
        {
          groupId: r.id,
          name: r.name,
          description: r.description,
          size: sizes.get(r.id) ?? 0,
          suggestedBy: by,
          createdAt: new Date(r.created_at).toISOString(),
        },
      ];
    });
  }

  async answerSuggestion(
    auth: AuthContext,
    communityId: string,
    groupId: string,
    approve: boolean,
  ): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community } = await this.asAdmin(auth, communityId, tx.db);
      const suggestion = await tx.db
        .selectFrom("group_suggestions as s")
        .innerJoin("groups as g", "g.id", "s.group_id")
        .select("g.community_id")
        .where("s.community_id", "=", communityId)
        .where("s.group_id", "=", groupId)
        .executeTakeFirst();
      if (!suggestion) throw new VeilError("request_not_found");
      if (approve) {
        if (suggestion.community_id !== null) throw new VeilError("group_in_community");
        await this.attach(tx, community, groupId);
      } else {
        await tx.db
          .deleteFrom("group_suggestions")
          .where("community_id", "=", communityId)
          .where("group_id", "=", groupId)
          .execute();
      }
    });
  }
}
