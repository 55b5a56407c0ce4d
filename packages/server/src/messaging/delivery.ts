import {
  type Appended,
  type CommitRequest,
  type CreateGroupRequest,
  type GroupSummary,
  type LogPage,
  parseSenderKeyMessage,
  type SendMessageRequest,
} from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import type { CommunityLimits } from "../config.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { GroupLogTable } from "../store/schema/group-log.js";
import { maxPage, toLogEntry } from "./entries.js";
import type { GroupMembership } from "./group-membership.js";
import type { Mailbox } from "./mailbox.js";
import { inspectMls, mlsBytes } from "./mls-wire.js";

/** A device's standing in a group, as the hot paths need it. */
export type Membership = Pick<
  GroupSummary,
  "id" | "kind" | "epoch" | "lastSeq" | "joinedSeq" | "peerUserId" | "sendPolicy" | "communityId"
> & {
  /** A group admin; in an announcement group, a community admin. */
  isAdmin: boolean;
};

/**
 * What the groups need from the domains that build on them, communities and
 * moderation (set in the composition root, so messaging imports neither).
 */
export interface GroupHooks {
  /**
   * Users a commit brought into a community's group become members of the
   * community (and of its announcement group), in the commit's transaction.
   */
  joinedCommunityGroup(tx: Tx, communityId: string, userIds: string[]): Promise<void>;
  /**
   * Before `userId` starts a chat with `peerIds` (a new direct chat, or adding
   * people to a group; `chatKey` names it, so each chat counts once): those
   * who do not have the user as a contact count against the account's daily
   * limit of chats with strangers. Throws `rate_limited` past it.
   */
  startingChat(userId: string, chatKey: string, peerIds: string[]): Promise<void>;
}

/** Log entries up to this size (base64url characters) travel inside the bus event. */
const inlineEntryLimit = 64 * 1024;

/**
 * The MLS delivery service's groups. It stores and orders ciphertext, never
 * reads it: commits accepted only for the current epoch (so the group cannot
 * fork), each message stored once in the group's log for every member device
 * to read from its own cursor, admins and settings, and the groups' side of a
 * device leaving its account. Key packages (`KeyPackages`) and per-device
 * mailboxes (`Mailbox`) live beside it. A write is acknowledged after it commits.
 */
export class Delivery {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly mailbox: Mailbox,
    private readonly members: GroupMembership,
    private readonly limits: Pick<CommunityLimits, "groupMembers">,
    private readonly hooks: GroupHooks,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  // --- groups ---------------------------------------------------------------

  /**
   * The group and this device's place in it, in one query (the hot path of
   * every send and read); `group_not_found` when the device is not a member,
   * exactly as for a group that does not exist.
   */
  async membership(auth: AuthContext, groupId: string): Promise<Membership> {
    const row = await this.db
      .selectFrom("groups as g")
      .innerJoin("group_members as m", (join) =>
        join.onRef("m.group_id", "=", "g.id").on("m.device_id", "=", auth.deviceId),
      )
      .leftJoin("direct_chats as d", "d.group_id", "g.id")
      .leftJoin("group_admins as a", (join) =>
        join.onRef("a.group_id", "=", "g.id").on("a.user_id", "=", auth.userId),
      )
      .leftJoin("community_members as c", (join) =>
        join.onRef("c.community_id", "=", "g.community_id").on("c.user_id", "=", auth.userId),
      )
      .select([
        "g.id",
        "g.kind",
        "g.epoch",
        "g.last_seq",
        "g.send_policy",
        "g.community_id",
        "m.joined_seq",
        "d.user_low",
        "d.user_high",
        "a.user_id as admin",
        "c.role as community_role",
      ])
      .where("g.id", "=", groupId)
      .executeTakeFirst();
    if (!row) throw new VeilError("group_not_found");
    const peer = row.user_low === auth.userId ? row.user_high : row.user_low;
    return {
      id: row.id,
      kind: row.kind,
      epoch: row.epoch,
      lastSeq: row.last_seq,
      joinedSeq: row.joined_seq,
      sendPolicy: row.send_policy,
      communityId: row.community_id,
      isAdmin:
        row.kind === "announcement"
          ? row.community_role === "owner" || row.community_role === "admin"
          : row.admin !== null,
      ...(peer ? { peerUserId: peer } : {}),
    };
  }

  /**
   * The caller's device's view of a group it belongs to; `group_not_found`
   * otherwise. An announcement group shows its members only to the
   * community's admins (R6); others see the count (R4).
   */
  async group(
    auth: AuthContext,
    groupId: string,
    db: Db = this.db,
    options: { brief?: boolean } = {},
  ): Promise<GroupSummary> {
    return this.visibleTo(auth, await this.summary(auth, groupId, db, options));
  }

  /**
   * Every other user a summary names goes through the privacy module: one the
   * caller may no longer see is left out (a key channel's peer once their
   * community is gone, a 1:1 peer who never joined and is no longer a contact).
   */
  private async visibleTo(auth: AuthContext, summary: GroupSummary): Promise<GroupSummary> {
    const others = new Set([
      ...summary.members.map((m) => m.userId),
      ...summary.admins,
      ...(summary.peerUserId ? [summary.peerUserId] : []),
    ]);
    others.delete(auth.userId);
    if (others.size === 0) return summary;
    const seen = await this.profiles.visible(auth.userId, [...others]);
    if (seen.size === others.size) return summary;
    const shown = (userId: string) => userId === auth.userId || seen.has(userId);
    const { peerUserId, ...rest } = summary;
    return {
      ...rest,
      ...(peerUserId && shown(peerUserId) ? { peerUserId } : {}),
      members: summary.members.filter((m) => shown(m.userId)),
      admins: summary.admins.filter(shown),
    };
  }

  /** The whole summary, for the delivery service's own checks: never sent as is. */
  private async summary(
    auth: AuthContext,
    groupId: string,
    db: Db,
    { brief = false }: { brief?: boolean } = {},
  ): Promise<GroupSummary> {
    const group = await db
      .selectFrom("groups")
      .selectAll()
      .where("id", "=", groupId)
      .executeTakeFirst();
    const me = group
      ? await db
          .selectFrom("group_members")
          .select("joined_seq")
          .where("group_id", "=", groupId)
          .where("device_id", "=", auth.deviceId)
          .executeTakeFirst()
      : undefined;
    if (!group || !me) throw new VeilError("group_not_found");
    const admins =
      group.kind === "announcement"
        ? await db
            .selectFrom("community_members")
            .select("user_id")
            .where("community_id", "=", group.community_id ?? "")
            .where("role", "in", ["owner", "admin"])
            .orderBy("joined_at")
            .execute()
        : await db
            .selectFrom("group_admins")
            .select("user_id")
            .where("group_id", "=", groupId)
            .execute();
    const adminIds = admins.map((a) => a.user_id);
    // An announcement group lists its members to community admins, and only
    // when asked for that group (the list of all one's groups stays small).
    const listed = group.kind !== "announcement" || (!brief && adminIds.includes(auth.userId));
    const members = listed
      ? await db
          .selectFrom("group_members")
          .select(["device_id", "user_id"])
          .where("group_id", "=", groupId)
          .execute()
      : [];
    const memberCount = listed
      ? new Set(members.map((m) => m.user_id)).size
      : await this.userCount(db, groupId);
    const cursor = await db
      .selectFrom("device_cursors")
      .select("seq")
      .where("device_id", "=", auth.deviceId)
      .where("group_id", "=", groupId)
      .executeTakeFirst();
    const peer = await this.peerOf(db, group.kind, groupId, auth.userId);
    return {
      id: group.id,
      kind: group.kind,
      name: group.name,
      description: group.description,
      communityId: group.community_id,
      memberCount,
      ...(peer ? { peerUserId: peer } : {}),
      epoch: group.epoch,
      lastSeq: group.last_seq,
      cursor: cursor?.seq ?? me.joined_seq,
      joinedSeq: me.joined_seq,
      members: members.map((m) => ({ userId: m.user_id, deviceId: m.device_id })),
      admins: adminIds,
      sendPolicy: group.send_policy,
      infoPolicy: group.info_policy,
      approveMembers: group.approve_members === 1,
    };
  }

  /** The other user of a direct chat or key channel. */
  private async peerOf(
    db: Db,
    kind: GroupSummary["kind"],
    groupId: string,
    userId: string,
  ): Promise<string | undefined> {
    if (kind !== "direct" && kind !== "keys") return undefined;
    const pair = await db
      .selectFrom(kind === "direct" ? "direct_chats" : "key_channels")
      .select(["user_low", "user_high"])
      .where("group_id", "=", groupId)
      .executeTakeFirst();
    if (!pair) return undefined;
    return pair.user_low === userId ? pair.user_high : pair.user_low;
  }

  /** How many users (not devices) are in a group. */
  async userCount(db: Db, groupId: string): Promise<number> {
    const row = await db
      .selectFrom("group_members")
      .select((eb) => eb.fn.count<string>("user_id").distinct().as("n"))
      .where("group_id", "=", groupId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async groups(auth: AuthContext): Promise<GroupSummary[]> {
    const rows = await this.db
      .selectFrom("group_members")
      .select("group_id")
      .where("device_id", "=", auth.deviceId)
      .execute();
    return Promise.all(rows.map((r) => this.group(auth, r.group_id, this.db, { brief: true })));
  }

  /**
   * Creates a group with the caller's device as its only member (epoch 0):
   * the client then creates the MLS group under this id and commits adds.
   * A direct chat (or key channel) with the same peer is created once;
   * asking again returns it, even before this device is in it.
   */
  async createGroup(
    auth: AuthContext,
    request: CreateGroupRequest,
    link?: (tx: Tx, groupId: string) => Promise<void>,
  ): Promise<GroupSummary> {
    const now = this.now();
    const pairTable =
      request.kind === "direct" ? "direct_chats" : request.kind === "keys" ? "key_channels" : null;
    if (request.kind === "direct" || request.kind === "keys") {
      if (request.peerUserId === auth.userId) throw new VeilError("direct_chat_self");
      await this.profiles.one(auth.userId, request.peerUserId);
      if (
        request.kind === "keys" &&
        !(await this.mayOpenKeyChannel(auth.userId, request.peerUserId))
      )
        throw new VeilError("user_not_found");
    }
    const pair =
      request.kind === "group"
        ? null
        : ([auth.userId, request.peerUserId].sort() as [string, string]);
    if (request.kind === "direct" && pair) {
      // Asking again for an existing chat starts nothing new.
      const existing = await this.db
        .selectFrom("direct_chats")
        .select("group_id")
        .where("user_low", "=", pair[0])
        .where("user_high", "=", pair[1])
        .executeTakeFirst();
      if (!existing) {
        await this.hooks.startingChat(auth.userId, `direct:${request.peerUserId}`, [
          request.peerUserId,
        ]);
      }
    }
    const created = await this.database.transaction(async (tx) => {
      if (pair && pairTable) {
        const existing = await tx.db
          .selectFrom(pairTable)
          .select("group_id")
          .where("user_low", "=", pair[0])
          .where("user_high", "=", pair[1])
          .executeTakeFirst();
        if (existing) return { id: existing.group_id, existing: true };
      }
      const id = newId("g");
      await tx.db
        .insertInto("groups")
        .values({
          id,
          kind: request.kind,
          epoch: 0,
          last_seq: 0,
          created_by: auth.userId,
          created_at: now,
          community_id: null,
          ...(request.kind === "group"
            ? { name: request.name ?? "", description: request.description ?? "" }
            : {}),
        })
        .execute();
      await tx.db
        .insertInto("group_members")
        .values({ group_id: id, device_id: auth.deviceId, user_id: auth.userId, joined_seq: 0 })
        .execute();
      if (request.kind === "group") {
        await tx.db
          .insertInto("group_admins")
          .values({ group_id: id, user_id: auth.userId })
          .execute();
        await link?.(tx, id);
      }
      if (pair && pairTable) {
        await tx.db
          .insertInto(pairTable)
          .values({ user_low: pair[0], user_high: pair[1], group_id: id })
          .execute();
      }
      return { id, existing: false };
    });
    if (!created.existing) return this.group(auth, created.id);
    const mine = await this.db
      .selectFrom("group_members")
      .select("device_id")
      .where("group_id", "=", created.id)
      .where("device_id", "=", auth.deviceId)
      .executeTakeFirst();
    if (mine) return { ...(await this.group(auth, created.id)), existing: true };
    // The peer's chat exists and this device is not in it yet (the peer adds it).
    const [group, members] = await Promise.all([
      this.db
        .selectFrom("groups")
        .selectAll()
        .where("id", "=", created.id)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom("group_members")
        .select(["user_id", "device_id"])
        .where("group_id", "=", created.id)
        .execute(),
    ]);
    return {
      id: group.id,
      kind: group.kind,
      name: group.name,
      description: group.description,
      communityId: null,
      memberCount: new Set(members.map((m) => m.user_id)).size,
      ...("peerUserId" in request ? { peerUserId: request.peerUserId } : {}),
      epoch: group.epoch,
      lastSeq: group.last_seq,
      cursor: 0,
      joinedSeq: 0,
      members: members.map((m) => ({ userId: m.user_id, deviceId: m.device_id })),
      admins: [],
      sendPolicy: group.send_policy,
      infoPolicy: group.info_policy,
      approveMembers: false,
      existing: true,
    };
  }

  /** A key channel joins a community admin and a member of that community. */
  private async mayOpenKeyChannel(a: string, b: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("community_members as x")
      .innerJoin("community_members as y", "x.community_id", "y.community_id")
      .select("x.community_id")
      .where("x.user_id", "=", a)
      .where("y.user_id", "=", b)
      .where((eb) =>
        eb.or([eb("x.role", "in", ["owner", "admin"]), eb("y.role", "in", ["owner", "admin"])]),
      )
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Accepts a commit built on the group's current epoch, and only then:
   * appends it to the log, applies the membership change it declares, and
   * puts the welcome in each added device's mailbox.
   */
  async commit(auth: AuthContext, groupId: string, request: CommitRequest): Promise<Appended> {
    const summary = await this.summary(auth, groupId, this.db);
    if (summary.kind === "announcement") throw new VeilError("wrong_group_kind");
    const data = mlsBytes(request.commit);
    const framing = inspectMls(data);
    if (
      (framing.wireformat !== "mls_public_message" &&
        framing.wireformat !== "mls_private_message") ||
      framing.contentType !== "commit"
    ) {
      throw new VeilError("mls_malformed");
    }
    if (framing.groupId !== groupId || framing.epoch !== request.epoch)
      throw new VeilError("mls_wrong_group");
    const welcome = request.welcome === undefined ? null : mlsBytes(request.welcome);
    if (welcome && inspectMls(welcome).wireformat !== "mls_welcome")
      throw new VeilError("mls_malformed");
    const adds = [...new Set(request.addDevices ?? [])];
    const removes = [...new Set(request.removeDevices ?? [])];
    if (adds.length > 0 && !welcome) throw new VeilError("mls_malformed");
    const memberDevices = new Set(summary.members.map((m) => m.deviceId));
    // Devices gone from the account are off the member list already; their leaves remain to remove.
    const pending = new Set(
      (
        await this.db
          .selectFrom("pending_removals")
          .select("device_id")
          .where("group_id", "=", groupId)
          .execute()
      ).map((r) => r.device_id),
    );
    if (
      adds.some((d) => memberDevices.has(d)) ||
      removes.some((d) => !memberDevices.has(d) && !pending.has(d))
    ) {
      throw new VeilError("device_not_member");
    }
    // A public commit shows whom it adds: it must be exactly the devices declared.
    if (framing.wireformat === "mls_public_message") {
      const declared = [...adds].sort().join();
      if ([...framing.addedCredentialIds].sort().join() !== declared)
        throw new VeilError("device_not_member");
    }
    const addedDevices =
      adds.length === 0
        ? []
        : await this.db
            .selectFrom("devices")
            .select(["id", "user_id"])
            .where("id", "in", adds)
            .execute();
    if (addedDevices.length !== adds.length) throw new VeilError("device_not_member");
    const memberUsers = new Set(summary.members.map((m) => m.userId));
    if (summary.kind !== "group") {
      // A direct chat or key channel holds the devices of its two users only.
      const pair = new Set([auth.userId, summary.peerUserId]);
      if (addedDevices.some((d) => !pair.has(d.user_id))) throw new VeilError("device_not_member");
    }
    const newUsers = [...new Set(addedDevices.map((d) => d.user_id))].filter(
      (u) => !memberUsers.has(u),
    );
    if (summary.kind === "group") {
      const isAdmin = summary.admins.includes(auth.userId);
      // Members remove only their own devices (and leaves already gone); admins remove anyone.
      const devicesOf = new Map(summary.members.map((m) => [m.deviceId, m.userId]));
      const removesOthers = removes.some((d) => {
        const owner = devicesOf.get(d);
        return owner !== undefined && owner !== auth.userId;
      });
      if (removesOthers && !isAdmin) throw new VeilError("not_group_admin");
      if (newUsers.some((u) => u !== auth.userId) && summary.approveMembers && !isAdmin)
        throw new VeilError("not_group_admin");
      if (memberUsers.size + newUsers.length > this.limits.groupMembers)
        throw new VeilError("group_member_limit");
      if (summary.communityId)
        await this.checkAdmission(this.db, summary.communityId, auth.userId, newUsers);
    }
    // Permission before freshness: catching up would not make the change allowed.
    if (request.epoch !== summary.epoch) throw new VeilError("stale_epoch");
    if (summary.kind === "group" && newUsers.length > 0) {
      await this.hooks.startingChat(auth.userId, `group:${groupId}`, newUsers);
    }

    return this.database.transaction(async (tx) => {
      const seq = await this.advance(tx, groupId, request.epoch, true);
      await tx.db
        .insertInto("group_log")
        .values(this.logRow(auth, groupId, seq, "commit", request.epoch, null, data, null))
        .execute();
      if (removes.length > 0) {
        await this.members.dropDevices(tx, groupId, removes);
        // A user whose last device went is no longer an admin; the group keeps one.
        if (summary.kind === "group") await this.members.settleAdmins(tx, groupId);
        await tx.db
          .deleteFrom("pending_removals")
          .where("group_id", "=", groupId)
          .where("device_id", "in", removes)
          .execute();
        // A removed device can no longer read the log that says so: tell it directly.
        for (const device of removes.filter((d) => memberDevices.has(d))) {
          await this.mailbox.notify(tx, device, { kind: "removed_from_group", group_id: groupId });
        }
      }
      const welcomeId = welcome ? newId("w") : null;
      if (welcome && welcomeId) {
        await tx.db
          .insertInto("welcomes")
          .values({ id: welcomeId, data: welcome, created_at: this.now() })
          .execute();
      }
      for (const device of addedDevices) {
        await tx.db
          .insertInto("group_members")
          .values({
            group_id: groupId,
            device_id: device.id,
            user_id: device.user_id,
            joined_seq: seq,
          })
          .execute();
        await this.mailbox.notify(tx, device.id, {
          kind: "welcome",
          group_id: groupId,
          welcome_id: welcomeId,
          joined_seq: seq,
        });
      }
      if (newUsers.length > 0) {
        await tx.db
          .deleteFrom("join_requests")
          .where("target_id", "=", groupId)
          .where("user_id", "in", newUsers)
          .execute();
        if (summary.communityId) {
          // Again inside the transaction: someone may have left the community since.
          await this.checkAdmission(tx.db, summary.communityId, auth.userId, newUsers);
          await this.hooks.joinedCommunityGroup(tx, summary.communityId, newUsers);
        }
      }
      tx.onCommit(() => this.bus.publish({ type: "group.appended", groupId, seq }));
      return { seq, epoch: request.epoch + 1, duplicate: false };
    });
  }

  /**
   * Someone added to a community's group joins the community, so they come in
   * only as the community lets people in. While it approves new members,
   * someone outside it comes in only by a community admin's commit and only
   * with a pending request to join the community (the commit answers it);
   * anyone else's add is `approval_required`. Members already in pass.
   */
  private async checkAdmission(
    db: Db,
    communityId: string,
    committerId: string,
    userIds: string[],
  ): Promise<void> {
    if (userIds.length === 0) return;
    const community = await db
      .selectFrom("communities")
      .select("approve_members")
      .where("id", "=", communityId)
      .executeTakeFirst();
    if (community?.approve_members !== 1) return;
    const known = await db
      .selectFrom("community_members")
      .select(["user_id", "role"])
      .where("community_id", "=", communityId)
      .where("user_id", "in", [committerId, ...userIds])
      .execute();
    const inside = new Set(known.map((m) => m.user_id));
    const outsiders = userIds.filter((u) => !inside.has(u));
    if (outsiders.length === 0) return;
    const role = known.find((m) => m.user_id === committerId)?.role;
    if (role !== "owner" && role !== "admin") throw new VeilError("approval_required");
    const asked = await db
      .selectFrom("join_requests")
      .select("user_id")
      .where("target_id", "=", communityId)
      .where("user_id", "in", outsiders)
      .execute();
    if (asked.length !== outsiders.length) throw new VeilError("approval_required");
  }

  /**
   * Checks the public framing of a message for this group: MLS application
   * messages, or in an announcement group sender-key messages (no epochs).
   */
  private applicationFraming(summary: Membership, data: Buffer): { epoch: number } {
    if (summary.kind === "announcement") {
      const message = parseSenderKeyMessage(data);
      if (!message) throw new VeilError("sender_key_malformed");
      if (message.groupId !== summary.id) throw new VeilError("mls_wrong_group");
      return { epoch: summary.epoch };
    }
    const framing = inspectMls(data);
    if (framing.wireformat !== "mls_private_message" || framing.contentType !== "application") {
      throw new VeilError("mls_malformed");
    }
    if (framing.groupId !== summary.id) throw new VeilError("mls_wrong_group");
    return framing;
  }

  /**
   * Only a community's admins post in its announcement group; in a group set
   * to "admins only", members read but do not post.
   */
  checkMaySend(summary: Membership): void {
    if (summary.isAdmin) return;
    if (summary.kind === "announcement") throw new VeilError("not_community_admin");
    if (summary.sendPolicy === "admins") throw new VeilError("not_group_admin");
  }

  private checkEpoch(summary: Membership, epoch: number): void {
    if (epoch !== summary.epoch) {
      throw new VeilError(epoch < summary.epoch ? "stale_epoch" : "mls_wrong_group");
    }
  }

  /** "V's messages to S are not delivered (V is not told)": the 1:1 peer who blocked the sender. */
  private async withheldFrom(auth: AuthContext, summary: Membership): Promise<string | null> {
    if (summary.kind !== "direct" || !summary.peerUserId) return null;
    const blocked = await this.db
      .selectFrom("blocks")
      .select("blocker_id")
      .where("blocker_id", "=", summary.peerUserId)
      .where("blocked_id", "=", auth.userId)
      .executeTakeFirst();
    return blocked ? summary.peerUserId : null;
  }

  /** Appends an application message (ciphertext) for the current epoch. */
  async send(auth: AuthContext, groupId: string, request: SendMessageRequest): Promise<Appended> {
    const summary = await this.membership(auth, groupId);
    this.checkMaySend(summary);
    const data = mlsBytes(request.message);
    const framing = this.applicationFraming(summary, data);
    const duplicate = await this.db
      .selectFrom("group_log")
      .select(["seq", "epoch"])
      .where("group_id", "=", groupId)
      .where("client_id", "=", request.id)
      .executeTakeFirst();
    if (duplicate) return { seq: duplicate.seq, epoch: duplicate.epoch, duplicate: true };
    this.checkEpoch(summary, framing.epoch);
    const withheldFrom = await this.withheldFrom(auth, summary);
    try {
      return await this.database.transaction(async (tx) => {
        const seq = await this.advance(tx, groupId, framing.epoch, false);
        const row = this.logRow(
          auth,
          groupId,
          seq,
          "application",
          framing.epoch,
          request.id,
          data,
          withheldFrom,
        );
        await tx.db.insertInto("group_log").values(row).execute();
        const entry = toLogEntry(row);
        tx.onCommit(() =>
          this.bus.publish({
            type: "group.appended",
            groupId,
            seq,
            ...(entry.data.length <= inlineEntryLimit ? { entry, withheldFrom } : {}),
          }),
        );
        return { seq, epoch: framing.epoch, duplicate: false };
      });
    } catch (error) {
      // A concurrent resend of the same id won the race: answer as a duplicate.
      if (!this.database.isUniqueViolation(error)) throw error;
      const row = await this.db
        .selectFrom("group_log")
        .select(["seq", "epoch"])
        .where("group_id", "=", groupId)
        .where("client_id", "=", request.id)
        .executeTakeFirstOrThrow();
      return { seq: row.seq, epoch: row.epoch, duplicate: true };
    }
  }

  /** Pushes an ephemeral message (a typing indicator) to connected members; nothing is stored. */
  async signal(auth: AuthContext, groupId: string, message: string): Promise<void> {
    const summary = await this.membership(auth, groupId);
    this.checkMaySend(summary);
    const data = mlsBytes(message);
    const framing = this.applicationFraming(summary, data);
    this.checkEpoch(summary, framing.epoch);
    await this.bus.publish({
      type: "group.signal",
      groupId,
      senderDeviceId: auth.deviceId,
      epoch: framing.epoch,
      data: message,
      withheldFrom: await this.withheldFrom(auth, summary),
    });
  }

  /**
   * Takes the next log position, only while the group is still at `epoch`
   * (checked in the same statement, so a concurrent commit cannot slip in
   * between); a commit also moves the group to the next epoch.
   */
  private async advance(
    tx: Tx,
    groupId: string,
    epoch: number,
    bumpEpoch: boolean,
  ): Promise<number> {
    const row = await tx.db
      .updateTable("groups")
      .set((eb) => ({
        last_seq: eb("last_seq", "+", 1),
        ...(bumpEpoch ? { epoch: eb("epoch", "+", 1) } : {}),
      }))
      .where("id", "=", groupId)
      .where("epoch", "=", epoch)
      .returning("last_seq")
      .executeTakeFirst();
    if (!row) throw new VeilError("stale_epoch");
    return row.last_seq;
  }

  private logRow(
    auth: AuthContext,
    groupId: string,
    seq: number,
    kind: "commit" | "application",
    epoch: number,
    clientId: string | null,
    data: Buffer,
    withheldFrom: string | null,
  ): GroupLogTable {
    return {
      group_id: groupId,
      seq,
      kind,
      epoch,
      sender_device_id: auth.deviceId,
      sender_user_id: auth.userId,
      client_id: clientId,
      data,
      withheld_from: withheldFrom,
      created_at: this.now(),
    };
  }

  /** The device's part of the log after `after` (never before it joined). */
  async log(auth: AuthContext, groupId: string, after: number, limit: number): Promise<LogPage> {
    const summary = await this.membership(auth, groupId);
    const rows = await this.db
      .selectFrom("group_log")
      .selectAll()
      .where("group_id", "=", groupId)
      .where("seq", ">", Math.max(after, summary.joinedSeq))
      .where((eb) =>
        eb.or([eb("withheld_from", "is", null), eb("withheld_from", "!=", auth.userId)]),
      )
      .orderBy("seq")
      .limit(Math.min(Math.max(limit, 1), maxPage))
      .execute();
    return { entries: rows.map(toLogEntry), lastSeq: summary.lastSeq };
  }

  async setCursor(auth: AuthContext, groupId: string, seq: number): Promise<void> {
    const summary = await this.membership(auth, groupId);
    const value = Math.min(seq, summary.lastSeq);
    await this.db
      .insertInto("device_cursors")
      .values({ device_id: auth.deviceId, group_id: groupId, seq: value })
      .onConflict((oc) => oc.columns(["device_id", "group_id"]).doUpdateSet({ seq: value }))
      .execute();
  }
}
