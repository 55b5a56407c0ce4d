import type { Invite, InvitePreview, JoinRequest, JoinResult } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import { newInviteCode } from "../ids.js";
import { toJoinRequests } from "../messaging/group-admin.js";
import type { Mailbox } from "../messaging/mailbox.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { Communities, Community } from "./communities.js";

const defaultInviteSeconds = 7 * 24 * 3600;

/**
 * Joining a community: invite links (created, listed and revoked by admins;
 * unknown, revoked and expired links answer alike) and, when the community
 * approves new members, the queue of requests.
 */
export class CommunityInvites {
  constructor(
    private readonly database: Database,
    private readonly communities: Communities,
    private readonly profiles: ProfileReader,
    private readonly mailbox: Mailbox,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  async createInvite(
    auth: AuthContext,
    communityId: string,
    expiresInSeconds = defaultInviteSeconds,
  ): Promise<Invite> {
    await this.communities.asAdmin(auth, communityId);
    const now = this.now();
    const code = newInviteCode();
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
    await this.communities.asAdmin(auth, communityId);
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
    await this.communities.asAdmin(auth, communityId);
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
      memberCount: await this.communities.memberCount(this.db, community.id),
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
        const asked = await tx.db
          .insertInto("join_requests")
          .values({ target_id: community.id, user_id: auth.userId, created_at: this.now() })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(asked.numInsertedOrUpdatedRows ?? 0n) > 0) await this.tellAdmins(tx, community);
        return { status: "pending" as const, communityId: community.id };
      }
      await this.communities.admit(tx, community, [auth.userId]);
      return { status: "joined" as const, communityId: community.id };
    });
  }

  /** A `join_request` item, on the announcement group, to every device of every admin. */
  private async tellAdmins(tx: Tx, community: Community): Promise<void> {
    const devices = await tx.db
      .selectFrom("community_members as m")
      .innerJoin("devices as d", "d.user_id", "m.user_id")
      .select("d.id")
      .where("m.community_id", "=", community.id)
      .where("m.role", "in", ["owner", "admin"])
      .execute();
    for (const device of devices) {
      await this.mailbox.notify(tx, device.id, {
        kind: "join_request",
        group_id: community.announcement_group_id,
      });
    }
  }

  async requests(auth: AuthContext, communityId: string): Promise<JoinRequest[]> {
    await this.communities.asAdmin(auth, communityId);
    const rows = await this.db
      .selectFrom("join_requests")
      .select(["user_id", "created_at"])
      .where("target_id", "=", communityId)
      .orderBy("created_at")
      .execute();
    return toJoinRequests(this.profiles, auth.userId, rows);
  }

  async answerRequest(
    auth: AuthContext,
    communityId: string,
    userId: string,
    approve: boolean,
  ): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { community } = await this.communities.asAdmin(auth, communityId, tx.db);
      const request = await tx.db
        .selectFrom("join_requests")
        .select("user_id")
        .where("target_id", "=", communityId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (!request) throw new VeilError("request_not_found");
      if (approve) await this.communities.admit(tx, community, [userId]);
      else {
        await tx.db
          .deleteFrom("join_requests")
          .where("target_id", "=", communityId)
          .where("user_id", "=", userId)
          .execute();
      }
    });
  }
}
