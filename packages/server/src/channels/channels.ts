import { randomBytes } from "node:crypto";
import type {
  ChannelView,
  CreateChannelRequest,
  UpdateChannelRequest,
  VisibleProfile,
} from "@veil/protocol";
import type { Selectable } from "kysely";
import { normalizeUsername } from "../accounts/username.js";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db } from "../store/database.js";
import type { ChannelsTable } from "../store/schema/channels.js";

export type Channel = Selectable<ChannelsTable>;
type Role = "owner" | "admin";

/** The most admins a channel has, the owner and pending invitations included. */
export const maxChannelAdmins = 16;
const adminInviteMs = 7 * 24 * 3600 * 1000;

/**
 * Channels: public one-way broadcasts. Anyone sees a channel as the channel
 * (name, handle, photo, badge, follower count), never its admins (R9) nor its
 * followers (R7). Admins see each other (R10). Suspended and deleted channels
 * answer as missing to everyone but their admins.
 */
export class Channels {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  async create(auth: AuthContext, request: CreateChannelRequest): Promise<ChannelView> {
    const handle = this.handle(request.handle);
    const id = newId("h");
    const now = this.now();
    try {
      await this.database.transaction(async (tx) => {
        await tx.db
          .insertInto("channels")
          .values({
            id,
            handle,
            name: request.name.trim(),
            description: request.description ?? "",
            category: request.category ?? null,
            country: request.country ?? null,
            invite_code: randomBytes(18).toString("base64url"),
            last_post_at: null,
            created_at: now,
          })
          .execute();
        await tx.db
          .insertInto("channel_admins")
          .values({ channel_id: id, user_id: auth.userId, role: "owner", added_at: now })
          .execute();
      });
    } catch (error) {
      if (this.database.isUniqueViolation(error)) throw new VeilError("handle_taken");
      throw error;
    }
    return this.view(auth, id);
  }

  private handle(input: string): string {
    try {
      return normalizeUsername(input);
    } catch {
      throw new VeilError("handle_invalid");
    }
  }

  /** The channel and the caller's admin role; `channel_not_found` if it is not shown to the caller. */
  async standing(
    auth: AuthContext,
    channelId: string,
    db: Db = this.db,
  ): Promise<{ channel: Channel; role: Role | null }> {
    const row = await db
      .selectFrom("channels as c")
      .leftJoin("channel_admins as a", (join) =>
        join.onRef("a.channel_id", "=", "c.id").on("a.user_id", "=", auth.userId),
      )
      .selectAll("c")
      .select("a.role")
      .where("c.id", "=", channelId)
      .executeTakeFirst();
    if (!row) throw new VeilError("channel_not_found");
    const { role, ...channel } = row;
    if (channel.status !== "active" && role === null) throw new VeilError("channel_not_found");
    if (channel.status === "deleted") throw new VeilError("channel_not_found");
    return { channel, role };
  }

  async asAdmin(auth: AuthContext, channelId: string, db: Db = this.db) {
    const standing = await this.standing(auth, channelId, db);
    if (standing.role === null) throw new VeilError("not_channel_admin");
    return standing;
  }

  private async asOwner(auth: AuthContext, channelId: string, db: Db = this.db) {
    const standing = await this.standing(auth, channelId, db);
    if (standing.role !== "owner") throw new VeilError("not_channel_owner");
    return standing;
  }

  async view(auth: AuthContext, channelId: string): Promise<ChannelView> {
    const { channel, role } = await this.standing(auth, channelId);
    return (await this.views(auth, [channel], role === null ? undefined : role))[0] as ChannelView;
  }

  /** Channels as the caller sees them (their following and mute state). */
  async views(auth: AuthContext, channels: Channel[], role?: Role): Promise<ChannelView[]> {
    if (channels.length === 0) return [];
    const ids = channels.map((c) => c.id);
    const [follows, roles] = await Promise.all([
      this.db
        .selectFrom("channel_followers")
        .select(["channel_id", "muted"])
        .where("user_id", "=", auth.userId)
        .where("channel_id", "in", ids)
        .execute(),
      role
        ? Promise.resolve([])
        : this.db
            .selectFrom("channel_admins")
            .select(["channel_id", "role"])
            .where("user_id", "=", auth.userId)
            .where("channel_id", "in", ids)
            .execute(),
    ]);
    const following = new Map(follows.map((f) => [f.channel_id, f.muted === 1]));
    const roleOf = new Map(roles.map((r) => [r.channel_id, r.role]));
    return channels.map((c) => ({
      id: c.id,
      handle: c.handle,
      name: c.name,
      description: c.description,
      category: c.category,
      country: c.country,
      verified: c.verified === 1,
      followerCount: Number(c.follower_count),
      reactionPolicy: c.reaction_policy,
      role: role ?? roleOf.get(c.id) ?? null,
      following: following.has(c.id),
      muted: following.get(c.id) ?? false,
      inviteCode: c.invite_code,
      lastSeq: Number(c.last_seq),
      createdAt: new Date(c.created_at).toISOString(),
    }));
  }

  /** The channel an invite link opens (preview and follow from there). */
  async byInvite(auth: AuthContext, code: string): Promise<ChannelView> {
    const row = await this.db
      .selectFrom("channels")
      .select("id")
      .where("invite_code", "=", code)
      .where("status", "=", "active")
      .executeTakeFirst();
    if (!row) throw new VeilError("channel_not_found");
    return this.view(auth, row.id);
  }

  /** Channels the caller follows or administers. */
  async mine(auth: AuthContext): Promise<ChannelView[]> {
    const rows = await this.db
      .selectFrom("channels")
      .selectAll()
      .where("status", "!=", "deleted")
      .where((eb) =>
        eb.or([
          eb(
            "id",
            "in",
            eb
              .selectFrom("channel_followers")
              .select("channel_id")
              .where("user_id", "=", auth.userId),
          ),
          eb(
            "id",
            "in",
            eb.selectFrom("channel_admins").select("channel_id").where("user_id", "=", auth.userId),
          ),
        ]),
      )
      .orderBy("created_at")
      .execute();
    // A suspended channel stays in its admins' list only.
    const views = await this.views(auth, rows);
    return views.filter((v, i) => rows[i]?.status === "active" || v.role !== null);
  }

  async update(
    auth: AuthContext,
    channelId: string,
    request: UpdateChannelRequest,
  ): Promise<ChannelView> {
    await this.asAdmin(auth, channelId);
    await this.db
      .updateTable("channels")
      .set({
        ...(request.name === undefined ? {} : { name: request.name.trim() }),
        ...(request.description === undefined ? {} : { description: request.description }),
        ...(request.category === undefined ? {} : { category: request.category }),
        ...(request.country === undefined ? {} : { country: request.country }),
        ...(request.reactionPolicy === undefined
          ? {}
          : { reaction_policy: request.reactionPolicy }),
      })
      .where("id", "=", channelId)
      .execute();
    return this.view(auth, channelId);
  }

  /** The owner deletes the channel: it is never listed or shown again. */
  async remove(auth: AuthContext, channelId: string): Promise<void> {
    await this.asOwner(auth, channelId);
    await this.db
      .updateTable("channels")
      .set({ status: "deleted" })
      .where("id", "=", channelId)
      .execute();
  }

  /** A platform admin sets or clears the verified badge. */
  async setVerified(auth: AuthContext, channelId: string, verified: boolean): Promise<void> {
    const caller = await this.db
      .selectFrom("users")
      .select("platform_role")
      .where("id", "=", auth.userId)
      .executeTakeFirst();
    if (caller?.platform_role !== "admin") throw new VeilError("not_platform_admin");
    const result = await this.db
      .updateTable("channels")
      .set({ verified: verified ? 1 : 0 })
      .where("id", "=", channelId)
      .where("status", "!=", "deleted")
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new VeilError("channel_not_found");
  }

  // --- following ----------------------------------------------------------------

  /** Follows (or changes mute); the follower gets a pseudonymous handle for this channel. */
  async follow(auth: AuthContext, channelId: string, muted = false): Promise<ChannelView> {
    await this.database.transaction(async (tx) => {
      const { channel } = await this.standing(auth, channelId, tx.db);
      if (channel.status !== "active") throw new VeilError("channel_not_found");
      const existing = await tx.db
        .updateTable("channel_followers")
        .set({ muted: muted ? 1 : 0 })
        .where("channel_id", "=", channelId)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if (existing.numUpdatedRows > 0n) return;
      await tx.db
        .insertInto("channel_followers")
        .values({
          channel_id: channelId,
          user_id: auth.userId,
          handle: `f_${randomBytes(9).toString("base64url")}`,
          muted: muted ? 1 : 0,
          followed_at: this.now(),
        })
        .execute();
      await tx.db
        .updateTable("channels")
        .set((eb) => ({ follower_count: eb("follower_count", "+", 1) }))
        .where("id", "=", channelId)
        .execute();
      tx.onCommit(() =>
        this.bus.publish({
          type: "channel.followed",
          channelId,
          userId: auth.userId,
          following: true,
        }),
      );
    });
    return this.view(auth, channelId);
  }

  async unfollow(auth: AuthContext, channelId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      await this.standing(auth, channelId, tx.db);
      const deleted = await tx.db
        .deleteFrom("channel_followers")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", auth.userId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) > 0) {
        await tx.db
          .updateTable("channels")
          .set((eb) => ({ follower_count: eb("follower_count", "-", 1) }))
          .where("id", "=", channelId)
          .execute();
        tx.onCommit(() =>
          this.bus.publish({
            type: "channel.followed",
            channelId,
            userId: auth.userId,
            following: false,
          }),
        );
      }
    });
  }

  // --- admins -------------------------------------------------------------------

  /** The admins, as co-admins see each other (R10), and pending invitations. */
  async admins(auth: AuthContext, channelId: string) {
    await this.asAdmin(auth, channelId);
    const [rows, invited] = await Promise.all([
      this.db
        .selectFrom("channel_admins")
        .select(["user_id", "role"])
        .where("channel_id", "=", channelId)
        .orderBy("added_at")
        .execute(),
      this.db
        .selectFrom("channel_admin_invites")
        .select(["user_id", "expires_at"])
        .where("channel_id", "=", channelId)
        .where("expires_at", ">", this.now())
        .execute(),
    ]);
    const seen = await this.profiles.visible(
      auth.userId,
      rows.map((r) => r.user_id),
    );
    return {
      admins: rows.flatMap((r) => {
        const profile: VisibleProfile | undefined = seen.get(r.user_id);
        if (!profile) return [];
        const { id, name, phone, photo } = profile;
        return [
          {
            id,
            role: r.role,
            ...(name === undefined ? {} : { name }),
            ...(phone === undefined ? {} : { phone }),
            ...(photo === undefined ? {} : { photo }),
          },
        ];
      }),
      invited: invited.map((i) => ({
        userId: i.user_id,
        expiresAt: new Date(i.expires_at).toISOString(),
      })),
    };
  }

  /** The owner invites someone it can see to administer (16 admins at most, invitations included). */
  async inviteAdmin(auth: AuthContext, channelId: string, userId: string): Promise<void> {
    await this.asOwner(auth, channelId);
    await this.profiles.one(auth.userId, userId);
    await this.database.transaction(async (tx) => {
      await this.asOwner(auth, channelId, tx.db);
      const now = this.now();
      const [admins, pending, already] = await Promise.all([
        tx.db
          .selectFrom("channel_admins")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("channel_id", "=", channelId)
          .executeTakeFirstOrThrow(),
        tx.db
          .selectFrom("channel_admin_invites")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("channel_id", "=", channelId)
          .where("expires_at", ">", now)
          .where("user_id", "!=", userId)
          .executeTakeFirstOrThrow(),
        tx.db
          .selectFrom("channel_admins")
          .select("user_id")
          .where("channel_id", "=", channelId)
          .where("user_id", "=", userId)
          .executeTakeFirst(),
      ]);
      if (already) return;
      if (Number(admins.n) + Number(pending.n) >= maxChannelAdmins)
        throw new VeilError("channel_admin_limit");
      await tx.db
        .insertInto("channel_admin_invites")
        .values({ channel_id: channelId, user_id: userId, expires_at: now + adminInviteMs })
        .onConflict((oc) =>
          oc.columns(["channel_id", "user_id"]).doUpdateSet({ expires_at: now + adminInviteMs }),
        )
        .execute();
    });
  }

  /** The invited user accepts: it becomes an admin. */
  async acceptAdmin(auth: AuthContext, channelId: string): Promise<ChannelView> {
    await this.database.transaction(async (tx) => {
      const deleted = await tx.db
        .deleteFrom("channel_admin_invites")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", auth.userId)
        .where("expires_at", ">", this.now())
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw new VeilError("channel_invite_invalid");
      await tx.db
        .insertInto("channel_admins")
        .values({
          channel_id: channelId,
          user_id: auth.userId,
          role: "admin",
          added_at: this.now(),
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
    return this.view(auth, channelId);
  }

  /** The owner removes an admin (or withdraws an invitation); an admin may step down itself. */
  async removeAdmin(auth: AuthContext, channelId: string, userId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const { role } = await this.asAdmin(auth, channelId, tx.db);
      if (userId !== auth.userId && role !== "owner") throw new VeilError("not_channel_owner");
      const target = await tx.db
        .selectFrom("channel_admins")
        .select("role")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (target?.role === "owner") throw new VeilError("not_channel_owner");
      await tx.db
        .deleteFrom("channel_admin_invites")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", userId)
        .execute();
      if (!target) return;
      await tx.db
        .deleteFrom("channel_admins")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", userId)
        .execute();
    });
  }

  /** The owner hands the channel to another admin and stays on as an admin. */
  async transfer(auth: AuthContext, channelId: string, userId: string): Promise<ChannelView> {
    await this.database.transaction(async (tx) => {
      await this.asOwner(auth, channelId, tx.db);
      if (userId === auth.userId) return;
      const target = await tx.db
        .selectFrom("channel_admins")
        .select("role")
        .where("channel_id", "=", channelId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (!target) throw new VeilError("user_not_found");
      const set = (user: string, role: Role) =>
        tx.db
          .updateTable("channel_admins")
          .set({ role })
          .where("channel_id", "=", channelId)
          .where("user_id", "=", user)
          .execute();
      await set(userId, "owner");
      await set(auth.userId, "admin");
    });
    return this.view(auth, channelId);
  }

  // --- the directory --------------------------------------------------------------

  /** Active channels by name or handle, category and country; new, most active or popular first. */
  async directory(
    auth: AuthContext,
    query: {
      q?: string | undefined;
      category?: string | undefined;
      country?: string | undefined;
      sort?: "new" | "active" | "popular" | undefined;
      limit?: number | undefined;
    },
  ): Promise<ChannelView[]> {
    // "%" would match anything; "_" matches any one character, itself included.
    const q = query.q?.trim().toLowerCase().replace(/[%\\]/g, "");
    let select = this.db.selectFrom("channels").selectAll().where("status", "=", "active");
    if (q) {
      const like = `%${q}%`;
      select = select.where((eb) =>
        eb.or([eb(eb.fn("lower", ["name"]), "like", like), eb("handle", "like", like)]),
      );
    }
    if (query.category) select = select.where("category", "=", query.category);
    if (query.country) select = select.where("country", "=", query.country);
    const sort = query.sort ?? "popular";
    select =
      sort === "new"
        ? select.orderBy("created_at", "desc")
        : sort === "active"
          ? select
              .orderBy("last_post_at", (ob) => ob.desc().nullsLast())
              .orderBy("created_at", "desc")
          : select.orderBy("follower_count", "desc").orderBy("created_at", "desc");
    const rows = await select
      .orderBy("id")
      .limit(Math.min(Math.max(query.limit ?? 50, 1), 100))
      .execute();
    return this.views(auth, rows);
  }
}
