import type { BusinessCard, VisibleProfile } from "@veil/protocol";
import type { Selectable } from "kysely";
import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";
import type { BusinessProfilesTable } from "../store/schema/business-profiles.js";
import { noRelations, type Relations, type Subject, visibleProfile } from "./policy.js";

/** A device counts as online only if its node refreshed it within this time. */
export const presenceStaleMs = 90_000;

/** Keeps IN-lists well under SQLite's and PostgreSQL's bound-parameter limits. */
const batchSize = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}

/** The business profile as anyone sees it, from its row (contact fields only when set). */
export function businessCardOf(row: Selectable<BusinessProfilesTable>): BusinessCard {
  const contact: BusinessCard["contact"] = {};
  if (row.email !== null) contact.email = row.email;
  if (row.website !== null) contact.website = row.website;
  if (row.address !== null) contact.address = row.address;
  return {
    name: row.name,
    verified: row.verified === 1,
    description: row.description,
    category: row.category,
    contact,
  };
}

/**
 * The database side of the privacy module: loads subjects and the facts
 * relating them to a viewer, then asks the pure policy what the viewer sees.
 */
export class ProfileReader {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async subjects(ids: readonly string[]): Promise<Map<string, Subject>> {
    const result = new Map<string, Subject>();
    if (ids.length === 0) return result;
    const unique = [...new Set(ids)];
    const users = await this.db.selectFrom("users").selectAll().where("id", "in", unique).execute();
    const devices = await this.db
      .selectFrom("devices")
      .select(["user_id", "online_since", "last_seen_at"])
      .where("user_id", "in", unique)
      .execute();
    const businesses = new Map(
      (
        await this.db
          .selectFrom("business_profiles")
          .selectAll()
          .where("user_id", "in", unique)
          .execute()
      ).map((b) => [b.user_id, businessCardOf(b)]),
    );
    const now = this.now();
    for (const u of users) {
      const own = devices.filter((d) => d.user_id === u.id);
      const lastSeen = Math.max(0, ...own.map((d) => d.last_seen_at ?? 0));
      const online = own.some(
        (d) => d.online_since !== null && (d.last_seen_at ?? 0) > now - presenceStaleMs,
      );
      result.set(u.id, {
        id: u.id,
        name: u.name,
        phone: u.phone,
        username: u.username,
        photo: u.photo_id,
        about: u.about,
        presence: { online, lastSeenAt: lastSeen > 0 ? new Date(lastSeen).toISOString() : null },
        privacy: {
          phone: u.privacy_phone,
          photo: u.privacy_photo,
          about: u.privacy_about,
          presence: u.privacy_presence,
          discoverableByPhone: u.discoverable_by_phone === 1,
        },
        business: businesses.get(u.id) ?? null,
      });
    }
    return result;
  }

  /**
   * The relations between every viewer and every subject given, in four
   * queries. One side is a single id in practice: one viewer reading many
   * profiles, or one subject fanned out to many viewers. Later domains add
   * their own facts (groups, communities, channels) here.
   */
  async relationsBetween(
    viewers: readonly string[],
    subjects: readonly Subject[],
  ): Promise<(viewerId: string, subject: Subject) => Relations> {
    const subjectIds = subjects.map((s) => s.id);
    const pair = (viewer: string, subject: string) => `${viewer} ${subject}`;
    if (viewers.length === 0 || subjectIds.length === 0) return () => noRelations;
    const [viewerHas, hasViewer, blockedBy, found, shared, community, asked, coAdmins, business] =
      await Promise.all([
        this.db
          .selectFrom("contacts")
          .select(["owner_id as viewer", "contact_id as subject"])
          .where("owner_id", "in", viewers)
          .where("contact_id", "in", subjectIds)
          .execute(),
        this.db
          .selectFrom("contacts")
          .select(["contact_id as viewer", "owner_id as subject"])
          .where("contact_id", "in", viewers)
          .where("owner_id", "in", subjectIds)
          .execute(),
        this.db
          .selectFrom("blocks")
          .select(["blocked_id as viewer", "blocker_id as subject"])
          .where("blocked_id", "in", viewers)
          .where("blocker_id", "in", subjectIds)
          .execute(),
        this.db
          .selectFrom("phone_discoveries")
          .select(["viewer_id as viewer", "subject_id as subject", "phone"])
          .where("viewer_id", "in", viewers)
          .where("subject_id", "in", subjectIds)
          .execute(),
        // Co-membership: a 1:1 chat (R2) or an ordinary group (R3).
        this.db
          .selectFrom("group_members as a")
          .innerJoin("group_members as b", "a.group_id", "b.group_id")
          .innerJoin("groups as g", "g.id", "a.group_id")
          .select([
            "a.user_id as viewer",
            "b.user_id as subject",
            "g.kind as kind",
            "g.created_by as creator",
          ])
          .distinct()
          .where("a.user_id", "in", viewers)
          .where("b.user_id", "in", subjectIds)
          .execute(),
        // Community roles (R5, R6); R4 grants nothing, so plain co-membership is not read.
        this.db
          .selectFrom("community_members as a")
          .innerJoin("community_members as b", "a.community_id", "b.community_id")
          .select([
            "a.user_id as viewer",
            "b.user_id as subject",
            "a.role as mine",
            "b.role as theirs",
          ])
          .where("a.user_id", "in", viewers)
          .where("b.user_id", "in", subjectIds)
          .where((eb) =>
            eb.or([eb("a.role", "in", ["owner", "admin"]), eb("b.role", "in", ["owner", "admin"])]),
          )
          .execute(),
        // A request to join, to those who decide it: a group's admins when it
        // approves new members, otherwise all its members (any may add); a
        // community's admins.
        this.db
          .selectFrom("join_requests as r")
          .innerJoin("groups as t", "t.id", "r.target_id")
          .innerJoin("group_members as m", "m.group_id", "r.target_id")
          .leftJoin("group_admins as a", (join) =>
            join.onRef("a.group_id", "=", "m.group_id").onRef("a.user_id", "=", "m.user_id"),
          )
          .select(["m.user_id as viewer", "r.user_id as subject"])
          .where("t.kind", "=", "group")
          .where("r.user_id", "in", subjectIds)
          .where("m.user_id", "in", viewers)
          .where((eb) => eb.or([eb("t.approve_members", "=", 0), eb("a.user_id", "is not", null)]))
          .unionAll(
            this.db
              .selectFrom("join_requests as r")
              .innerJoin("community_members as c", "c.community_id", "r.target_id")
              .select(["c.user_id as viewer", "r.user_id as subject"])
              .where("r.user_id", "in", subjectIds)
              .where("c.user_id", "in", viewers)
              .where("c.role", "in", ["owner", "admin"]),
          )
          .execute(),
        // Admins of one channel (R10); following a channel relates no one (R7, R9).
        this.db
          .selectFrom("channel_admins as a")
          .innerJoin("channel_admins as b", "a.channel_id", "b.channel_id")
          .innerJoin("channels as c", "c.id", "a.channel_id")
          .select(["a.user_id as viewer", "b.user_id as subject"])
          .distinct()
          .where("a.user_id", "in", viewers)
          .where("b.user_id", "in", subjectIds)
          .where("c.status", "!=", "deleted")
          .execute(),
        // Viewers that are businesses: R11 adds a grant for those who wrote to them.
        this.db
          .selectFrom("business_profiles")
          .select("user_id")
          .where("user_id", "in", viewers)
          .execute(),
      ]);
    const pairs = (rows: Array<{ viewer: string; subject: string }>) =>
      new Set(rows.map((r) => pair(r.viewer, r.subject)));
    const [has, had, blocked] = [pairs(viewerHas), pairs(hasViewer), pairs(blockedBy)];
    const discovered = new Map(found.map((f) => [pair(f.viewer, f.subject), f.phone]));
    const direct = pairs(shared.filter((r) => r.kind === "direct"));
    const businesses = new Set(business.map((b) => b.user_id));
    // R11: the customer wrote to the business: it opened the 1:1 chat and both are in it.
    const customers = pairs(
      shared.filter(
        (r) => r.kind === "direct" && r.creator === r.subject && businesses.has(r.viewer),
      ),
    );
    const group = pairs(shared.filter((r) => r.kind === "group"));
    const isAdmin = (role: string) => role === "owner" || role === "admin";
    const channelAdmins = pairs(coAdmins);
    const adminsViewers = pairs(community.filter((r) => isAdmin(r.theirs)));
    const viewerAdmins = pairs(community.filter((r) => isAdmin(r.mine)));
    const requested = pairs(asked);
    return (viewerId, subject) => {
      const key = pair(viewerId, subject.id);
      return {
        ...noRelations,
        self: viewerId === subject.id,
        viewerHasSubjectAsContact: has.has(key),
        subjectHasViewerAsContact: had.has(key),
        blockedBySubject: blocked.has(key),
        directChat: direct.has(key),
        sharedGroup: group.has(key),
        subjectAdminsViewersCommunity: adminsViewers.has(key),
        viewerAdminsSubjectsCommunity: viewerAdmins.has(key),
        askedToJoinViewersSpace: requested.has(key),
        coChannelAdmins: channelAdmins.has(key),
        customerOfViewerBusiness: customers.has(key),
        // Finding S by a number counts only while S still has that number.
        foundByPhone: subject.phone !== null && discovered.get(key) === subject.phone,
      };
    };
  }

  /**
   * What each of many viewers sees of one subject, in a fixed number of
   * queries per batch of viewers (the gateway's fan-out path).
   */
  async viewsOf(
    subjectId: string,
    viewerIds: readonly string[],
  ): Promise<Map<string, VisibleProfile>> {
    const result = new Map<string, VisibleProfile>();
    const subject = (await this.subjects([subjectId])).get(subjectId);
    if (!subject) return result;
    for (const viewers of chunks([...new Set(viewerIds)])) {
      const relation = await this.relationsBetween(viewers, [subject]);
      for (const viewerId of viewers) {
        const profile = visibleProfile(subject, relation(viewerId, subject));
        if (profile) result.set(viewerId, profile);
      }
    }
    return result;
  }

  /** What `viewerId` sees of each subject it may see; invisible ones are absent. */
  async visible(viewerId: string, ids: readonly string[]): Promise<Map<string, VisibleProfile>> {
    const result = new Map<string, VisibleProfile>();
    for (const batch of chunks([...new Set(ids)])) {
      const subjects = [...(await this.subjects(batch)).values()];
      const relation = await this.relationsBetween([viewerId], subjects);
      for (const subject of subjects) {
        const profile = visibleProfile(subject, relation(viewerId, subject));
        if (profile) result.set(subject.id, profile);
      }
    }
    return result;
  }

  /** One subject, or `user_not_found` exactly as if an invisible subject did not exist. */
  async one(viewerId: string, subjectId: string): Promise<VisibleProfile> {
    const profile = (await this.visible(viewerId, [subjectId])).get(subjectId);
    if (!profile) throw new VeilError("user_not_found");
    return profile;
  }

  /**
   * Users who may see something of `subjectId` through a lasting relation,
   * and so should hear when it changes. Candidates only: each is filtered
   * through the policy before anything is sent.
   */
  async watchers(subjectId: string): Promise<string[]> {
    const [contacts, reverse, discoveries, coMembers, community, coAdmins] = await Promise.all([
      this.db
        .selectFrom("contacts")
        .select("owner_id as id")
        .where("contact_id", "=", subjectId)
        .execute(),
      this.db
        .selectFrom("contacts")
        .select("contact_id as id")
        .where("owner_id", "=", subjectId)
        .execute(),
      this.db
        .selectFrom("phone_discoveries")
        .select("viewer_id as id")
        .where("subject_id", "=", subjectId)
        .execute(),
      this.db
        .selectFrom("group_members as a")
        .innerJoin("group_members as b", "a.group_id", "b.group_id")
        .innerJoin("groups as g", "g.id", "a.group_id")
        .select("b.user_id as id")
        .distinct()
        .where("a.user_id", "=", subjectId)
        .where("g.kind", "in", ["direct", "group"])
        .execute(),
      // R5 and R6: a community's admins see its members, and its members its admins.
      this.db
        .selectFrom("community_members as a")
        .innerJoin("community_members as b", "a.community_id", "b.community_id")
        .select("b.user_id as id")
        .distinct()
        .where("a.user_id", "=", subjectId)
        .where((eb) =>
          eb.or([eb("a.role", "in", ["owner", "admin"]), eb("b.role", "in", ["owner", "admin"])]),
        )
        .execute(),
      // R10: a channel's admins see each other.
      this.db
        .selectFrom("channel_admins as a")
        .innerJoin("channel_admins as b", "a.channel_id", "b.channel_id")
        .select("b.user_id as id")
        .distinct()
        .where("a.user_id", "=", subjectId)
        .execute(),
    ]);
    return [
      ...new Set(
        [...contacts, ...reverse, ...discoveries, ...coMembers, ...community, ...coAdmins].map(
          (r) => r.id,
        ),
      ),
    ];
  }

  /** The watchers who see something of `subjectId` right now, through the policy. */
  async viewersOf(subjectId: string): Promise<string[]> {
    return [...(await this.viewsOf(subjectId, await this.watchers(subjectId))).keys()];
  }
}
