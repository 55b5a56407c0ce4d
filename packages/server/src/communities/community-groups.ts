import type { DirectoryEntry, GroupSummary } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { CommunityLimits } from "../config.js";
import { VeilError } from "../errors.js";
import type { Delivery } from "../messaging/delivery.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import { type Communities, type Community, isAdminRole, type Standing } from "./communities.js";

/**
 * A community's groups: the directory (names, descriptions and sizes, never
 * members), new groups, linking a group (or suggesting it to the admins when
 * only admins add groups), unlinking, and the groups' limit.
 */
export class CommunityGroups {
  constructor(
    private readonly database: Database,
    private readonly communities: Communities,
    private readonly delivery: Delivery,
    private readonly profiles: ProfileReader,
    private readonly limits: CommunityLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** The directory: each group's name, description and size; never who is in it. */
  async directory(auth: AuthContext, communityId: string): Promise<DirectoryEntry[]> {
    await this.communities.standing(auth, communityId);
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

  /** Whether a group has members who are not in the community. */
  private async hasOutsiders(db: Db, communityId: string, groupId: string): Promise<boolean> {
    const outsider = await db
      .selectFrom("group_members")
      .select("user_id")
      .where("group_id", "=", groupId)
      .where((eb) =>
        eb(
          "user_id",
          "not in",
          eb
            .selectFrom("community_members")
            .select("user_id")
            .where("community_id", "=", communityId),
        ),
      )
      .limit(1)
      .executeTakeFirst();
    return outsider !== undefined;
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
    await this.communities.lock(tx, community.id);
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
    await this.communities.admit(
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
    const standing = await this.communities.standing(auth, communityId);
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
      const standing = await this.communities.standing(auth, communityId, tx.db);
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
      // A member's link would let the group's outsiders in without an admin's
      // approval: while the community approves new members, it is a suggestion.
      const bringsOutsiders =
        !isAdminRole(standing.role) &&
        standing.community.approve_members === 1 &&
        (await this.hasOutsiders(tx.db, communityId, groupId));
      if (this.mayAddGroups(standing) && !bringsOutsiders) {
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

  /**
   * Takes a group out (a community admin, or an admin of the group); it
   * carries on alone. Requests to join it came through the community's
   * directory: they end with the link, and with them what they showed.
   */
  async unlinkGroup(auth: AuthContext, communityId: string, groupId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const standing = await this.communities.standing(auth, communityId, tx.db);
      const group = await tx.db
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
      await tx.db
        .updateTable("groups")
        .set({ community_id: null })
        .where("id", "=", groupId)
        .execute();
      await tx.db.deleteFrom("join_requests").where("target_id", "=", groupId).execute();
    });
  }

  async suggestions(auth: AuthContext, communityId: string) {
    await this.communities.asAdmin(auth, communityId);
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
      const { community } = await this.communities.asAdmin(auth, communityId, tx.db);
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
