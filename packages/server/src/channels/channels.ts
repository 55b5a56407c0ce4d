import { randomBytes } from "node:crypto";
import type {
  ChannelView,
  CreateChannelRequest,
  HeldItem,
  UpdateChannelRequest,
  VisibleProfile,
} from "@veil/protocol";
import type { Selectable, Updateable } from "kysely";
import { normalizeUsername } from "../accounts/username.js";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { newId, newInviteCode } from "../ids.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { ChannelsTable } from "../store/schema/channels.js";
import type { ContentGate } from "./content-gate.js";

export type Channel = Selectable<ChannelsTable>;
type Role = "owner" | "admin";

/** The most admins a channel has, the owner and pending invitations included. */
export const maxChannelAdmins = 16;
const adminInviteMs = 7 * 24 * 3600 * 1000;

/** Whether a channel is shown at all: deleted to nobody, suspended to its admins and followers. */
function shownTo(channel: Pick<Channel, "status">, admin: boolean, following: boolean): boolean {
  if (channel.status === "active") return true;
  return channel.status === "suspended" && (admin || following);
}

/**
 * Channels: public one-way broadcasts. Anyone sees a channel as the channel
 * (name, handle, photo, badge, follower count), never its admins (R9) nor its
 * followers (R7). Admins see each other (R10). A suspended channel is shown
 * to its admins and followers only (with the reason); a deleted one to nobody.
 */
export class Channels {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly gate: ContentGate,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /**
   * Creates a channel, its name and description checked first. When they are
   * held for review, the channel starts under its handle with no description
   * and takes the name and description once a moderator releases them.
   */
  async create(auth: AuthContext, request: CreateChannelRequest): Promise<ChannelView | HeldItem> {
    const handle = this.handle(request.handle);
    const id = newId("h");
    const now = this.now();
    const name = request.name.trim();
    const description = request.description ?? "";
    const verdict = await this.gate.screen({
      kind: "profile",
      channelId: null,
      name,
      description: description === "" ? undefined : description,
    });
    const held = verdict.action === "hold";
    try {
      const item = await this.database.transaction(async (tx) => {
        await tx.db
          .insertInto("channels")
          .values({
            id,
            handle,
            name: held ? handle : name,
            description: held ? "" : description,
            category: request.category ?? null,
            country: request.country ?? null,
            invite_code: newInviteCode(),
            last_post_at: null,
            created_at: now,
          })
          .execute();
        await tx.db
          .insertInto("channel_admins")
          .values({ channel_id: id, user_id: auth.userId, role: "owner", added_at: now })
          .execute();
        if (verdict.action !== "hold") return null;
        return this.gate.hold(
          tx,
          { kind: "profile", channelId: id, name, description: description || undefined },
          verdict,
        );
      });
      if (item) return item;
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

  /**
   * The channel, the caller's admin role and whether the caller follows it;
   * `channel_not_found` if it is not shown to the caller (deleted; suspended
   * and the caller neither administers nor follows it).
   */
  async standing(
    auth: AuthContext,
    channelId: string,
    db: Db = this.db,
  ): Promise<{ channel: Channel; role: Role | null; following: boolean }> {
    const row = await db
      .selectFrom("channels as c")
      .leftJoin("channel_admins as a", (join) =>
        join.onRef("a.channel_id", "=", "c.id").on("a.user_id", "=", auth.userId),
      )
      .leftJoin("channel_followers as f", (join) =>
        join.onRef("f.channel_id", "=", "c.id").on("f.user_id", "=", auth.userId),
      )
      .selectAll("c")
      .select(["a.role", "f.user_id as follower"])
      .where("c.id", "=", channelId)
      .executeTakeFirst();
    if (!row) throw new VeilError("channel_not_found");
    const { role, follower, ...channel } = row;
    const following = follower !== null;
    if (!shownTo(channel, role !== null, following)) throw new VeilError("channel_not_found");
    return { channel, role, following };
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
    const [follows, roles, invited] = await Promise.all([
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
      this.db
        .selectFrom("channel_admin_invites")
        .select("channel_id")
        .where("user_id", "=", auth.userId)
        .where("channel_id", "in", ids)
        .where("expires_at", ">", this.now())
        .execute(),
    ]);
    const invitedTo = new Set(invited.map((i) => i.channel_id));
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
      hasPhoto: c.photo !== null,
      photoVersion: c.photo,
      status: c.status === "suspended" ? ("suspended" as const) : ("active" as const),
      suspensionReason: c.status === "suspended" ? c.suspension_reason : null,
      adminInvitation: invitedTo.has(c.id),
    }));
  }

  /**
   * The channel a post's link names (`veil://channel/<handle>/<seq>`), as the
   * caller may see it: an unknown, deleted or (to anyone but its admins)
   * suspended channel's handle answers as an unknown one.
   */
  async byHandle(auth: AuthContext, input: string): Promise<ChannelView> {
    let handle: string;
    try {
      handle = normalizeUsername(input);
    } catch {
      throw new VeilError("channel_not_found");
    }
    const row = await this.db
      .selectFrom("channels as c")
      .leftJoin("channel_admins as a", (join) =>
        join.onRef("a.channel_id", "=", "c.id").on("a.user_id", "=", auth.userId),
      )
      .select(["c.id", "c.status", "a.role"])
      .where("c.handle", "=", handle)
      .executeTakeFirst();
    if (!row || row.status === "deleted" || (row.status !== "active" && row.role === null)) {
      throw new VeilError("channel_not_found");
    }
    return this.view(auth, row.id);
  }

  /** The channel an invite link opens (preview and follow from there); never a suspended one. */
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
    // A suspended channel stays in its admins' and followers' lists, with its reason.
    return this.views(auth, rows);
  }

  /** Active channels whose owner invited the caller to administer them, the invitation still open. */
  async invitations(auth: AuthContext): Promise<ChannelView[]> {
    const rows = await this.db
      .selectFrom("channels")
      .selectAll()
      .where("status", "=", "active")
      .where((eb) =>
        eb(
          "id",
          "in",
          eb
            .selectFrom("channel_admin_invites")
            .select("channel_id")
            .where("user_id", "=", auth.userId)
            .where("expires_at", ">", this.now()),
        ),
      )
      .orderBy("created_at")
      .execute();
    return this.views(auth, rows);
  }

  /**
   * Changes the channel (admins). A new name or description is checked
   * first; when held, the rest of the change applies and the old name and
   * description stay until a moderator releases the new ones.
   */
  async update(
    auth: AuthContext,
    channelId: string,
    request: UpdateChannelRequest,
  ): Promise<ChannelView | HeldItem> {
    const { channel } = await this.asAdmin(auth, channelId);
    const name = request.name?.trim();
    const changed = {
      name: name !== undefined && name !== channel.name ? name : undefined,
      description:
        request.description !== undefined && request.description !== channel.description
          ? request.description
          : undefined,
    };
    const verdict =
      changed.name === undefined && changed.description === undefined
        ? ({ action: "publish" } as const)
        : await this.gate.screen({ kind: "profile", channelId, ...changed });
    const held = verdict.action === "hold";
    const set: Updateable<ChannelsTable> = {
      ...(held || name === undefined ? {} : { name }),
      ...(held || request.description === undefined ? {} : { description: request.description }),
      ...(request.category === undefined ? {} : { category: request.category }),
      ...(request.country === undefined ? {} : { country: request.country }),
      ...(request.reactionPolicy === undefined ? {} : { reaction_policy: request.reactionPolicy }),
    };
    const item = await this.database.transaction(async (tx) => {
      if (Object.keys(set).length > 0) {
        await tx.db.updateTable("channels").set(set).where("id", "=", channelId).execute();
      }
      if (verdict.action !== "hold") return null;
      return this.gate.hold(tx, { kind: "profile", channelId, ...changed }, verdict);
    });
    return item ?? this.view(auth, channelId);
  }

  /** Applies a name and description a moderator released (a deleted channel stays as it is). */
  async applyProfile(
    tx: Tx,
    channelId: string,
    change: { name?: string | undefined; description?: string | undefined },
  ): Promise<void> {
    if (change.name === undefined && change.description === undefined) return;
    await tx.db
      .updateTable("channels")
      .set({
        ...(change.name === undefined ? {} : { name: change.name }),
        ...(change.description === undefined ? {} : { description: change.description }),
      })
      .where("id", "=", channelId)
      .where("status", "!=", "deleted")
      .execute();
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
    await this.asPlatformAdmin(auth);
    await this.changeUndeleted(channelId, { verified: verified ? 1 : 0 });
  }

  /**
   * A platform admin suspends the channel, with a reason its admins and
   * followers see: it leaves the directory and search, its invite link stops
   * opening it, it takes no new posts. Suspending again replaces the reason.
   */
  async suspend(auth: AuthContext, channelId: string, reason: string): Promise<void> {
    await this.asPlatformAdmin(auth);
    await this.changeUndeleted(channelId, {
      status: "suspended",
      suspension_reason: reason.trim(),
      suspended_at: this.now(),
      suspended_by: "admin",
    });
  }

  /** A platform admin lifts the suspension (nothing happens to an active channel). */
  async reinstate(auth: AuthContext, channelId: string): Promise<void> {
    await this.asPlatformAdmin(auth);
    await this.changeUndeleted(channelId, {
      status: "active",
      suspension_reason: null,
      suspended_at: null,
      suspended_by: null,
    });
  }

  /**
   * Moderation suspends an active channel that reached its strike threshold,
   * in the decision's transaction: the same suspension a platform admin
   * applies (unlisted, no new posts, invite closed, the reason shown to its
   * admins and followers). False if it was not active (suspended or deleted).
   */
  async suspendForStrikes(tx: Tx, channelId: string, reason: string): Promise<boolean> {
    const result = await tx.db
      .updateTable("channels")
      .set({
        status: "suspended",
        suspension_reason: reason,
        suspended_at: this.now(),
        suspended_by: "strikes",
      })
      .where("id", "=", channelId)
      .where("status", "=", "active")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Lifts a suspension that strikes caused (an appeal brought them under the
   * threshold); a platform admin's own suspension stays. True if reinstated.
   */
  async reinstateAfterStrikes(tx: Tx, channelId: string): Promise<boolean> {
    const result = await tx.db
      .updateTable("channels")
      .set({ status: "active", suspension_reason: null, suspended_at: null, suspended_by: null })
      .where("id", "=", channelId)
      .where("status", "=", "suspended")
      .where("suspended_by", "=", "strikes")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** `not_platform_admin` unless the caller holds the platform's admin role. */
  private async asPlatformAdmin(auth: AuthContext): Promise<void> {
    const caller = await this.db
      .selectFrom("users")
      .select("platform_role")
      .where("id", "=", auth.userId)
      .executeTakeFirst();
    if (caller?.platform_role !== "admin") throw new VeilError("not_platform_admin");
  }

  /** Updates a channel that is not deleted, or `channel_not_found`. */
  private async changeUndeleted(channelId: string, set: Updateable<ChannelsTable>): Promise<void> {
    const result = await this.db
      .updateTable("channels")
      .set(set)
      .where("id", "=", channelId)
      .where("status", "!=", "deleted")
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new VeilError("channel_not_found");
  }

  // --- following ----------------------------------------------------------------

  /**
   * Follows (or changes mute); the follower gets a pseudonymous handle for
   * this channel. Idempotent under concurrency: of overlapping follows by one
   * user, one inserts the row and counts it, the others only set the mute.
   */
  async follow(auth: AuthContext, channelId: string, muted = false): Promise<ChannelView> {
    await this.database.transaction(async (tx) => {
      const { channel, following } = await this.standing(auth, channelId, tx.db);
      // A suspended channel keeps its followers (who may mute it) but gains none.
      if (channel.status !== "active" && !following) throw new VeilError("channel_suspended");
      // The key settles overlapping follows (never a unique violation): on PostgreSQL
      // the later insert waits for the earlier transaction, then does nothing.
      const inserted = await tx.db
        .insertInto("channel_followers")
        .values({
          channel_id: channelId,
          user_id: auth.userId,
          handle: `f_${randomBytes(9).toString("base64url")}`,
          muted: muted ? 1 : 0,
          followed_at: this.now(),
        })
        .onConflict((oc) => oc.columns(["channel_id", "user_id"]).doNothing())
        .returning("user_id")
        .executeTakeFirst();
      if (!inserted) {
        await tx.db
          .updateTable("channel_followers")
          .set({ muted: muted ? 1 : 0 })
          .where("channel_id", "=", channelId)
          .where("user_id", "=", auth.userId)
          .execute();
        return;
      }
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

  /**
   * The admins, as co-admins see each other (R10), and pending invitations:
   * listed (invitee id and name, through the policy) to the owner only, who
   * sent them; other admins get their number alone, since an invitee is no
   * admin yet and no rule shows them to the other admins.
   */
  async admins(auth: AuthContext, channelId: string) {
    const { role } = await this.asAdmin(auth, channelId);
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
        .orderBy("expires_at")
        .orderBy("user_id")
        .execute(),
    ]);
    const owner = role === "owner";
    const seen = await this.profiles.visible(auth.userId, [
      ...rows.map((r) => r.user_id),
      ...(owner ? invited.map((i) => i.user_id) : []),
    ]);
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
      // An invitee the owner can no longer see (a number changed, say) is counted, not listed.
      invited: (owner ? invited : []).flatMap((i) => {
        const profile = seen.get(i.user_id);
        if (!profile) return [];
        return [
          {
            userId: profile.id,
            ...(profile.name === undefined ? {} : { name: profile.name }),
            expiresAt: new Date(i.expires_at).toISOString(),
          },
        ];
      }),
      invitedCount: invited.length,
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
