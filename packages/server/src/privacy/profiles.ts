import type { VisibleProfile } from "@veil/protocol";
import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";
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

/** The facts the account tables establish between a viewer and a subject. */
function accountRelations(
  viewerId: string,
  subject: Subject,
  facts: {
    viewerHas: boolean;
    hasViewer: boolean;
    blockedBy: boolean;
    discoveredPhone: string | undefined;
  },
): Relations {
  return {
    ...noRelations,
    self: viewerId === subject.id,
    viewerHasSubjectAsContact: facts.viewerHas,
    subjectHasViewerAsContact: facts.hasViewer,
    blockedBySubject: facts.blockedBy,
    // Finding S by a number counts only while S still has that number.
    foundByPhone: subject.phone !== null && facts.discoveredPhone === subject.phone,
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
      });
    }
    return result;
  }

  /** The facts relating `viewerId` to each subject. Later domains add their own facts here. */
  async relations(
    viewerId: string,
    subjects: ReadonlyMap<string, Subject>,
  ): Promise<Map<string, Relations>> {
    const ids = [...subjects.keys()];
    const result = new Map<string, Relations>();
    if (ids.length === 0) return result;
    const [mine, theirs, blocks, found] = await Promise.all([
      this.db
        .selectFrom("contacts")
        .select("contact_id")
        .where("owner_id", "=", viewerId)
        .where("contact_id", "in", ids)
        .execute(),
      this.db
        .selectFrom("contacts")
        .select("owner_id")
        .where("contact_id", "=", viewerId)
        .where("owner_id", "in", ids)
        .execute(),
      this.db
        .selectFrom("blocks")
        .select("blocker_id")
        .where("blocked_id", "=", viewerId)
        .where("blocker_id", "in", ids)
        .execute(),
      this.db
        .selectFrom("phone_discoveries")
        .select(["subject_id", "phone"])
        .where("viewer_id", "=", viewerId)
        .where("subject_id", "in", ids)
        .execute(),
    ]);
    const discovered = new Map(found.map((f) => [f.subject_id, f.phone]));
    const viewerHas = new Set(mine.map((r) => r.contact_id));
    const hasViewer = new Set(theirs.map((r) => r.owner_id));
    const blockedBy = new Set(blocks.map((r) => r.blocker_id));
    for (const [id, subject] of subjects) {
      result.set(
        id,
        accountRelations(viewerId, subject, {
          viewerHas: viewerHas.has(id),
          hasViewer: hasViewer.has(id),
          blockedBy: blockedBy.has(id),
          discoveredPhone: discovered.get(id),
        }),
      );
    }
    return result;
  }

  /**
   * What each of many viewers sees of one subject, in a fixed number of
   * queries whatever the number of viewers (the gateway's fan-out path).
   */
  async viewsOf(
    subjectId: string,
    viewerIds: readonly string[],
  ): Promise<Map<string, VisibleProfile>> {
    const result = new Map<string, VisibleProfile>();
    const subject = (await this.subjects([subjectId])).get(subjectId);
    if (!subject) return result;
    for (const viewers of chunks([...new Set(viewerIds)])) {
      await this.viewsOfBatch(subject, viewers, result);
    }
    return result;
  }

  private async viewsOfBatch(
    subject: Subject,
    viewers: string[],
    result: Map<string, VisibleProfile>,
  ): Promise<void> {
    const subjectId = subject.id;
    const [theyHave, subjectHas, blocked, found] = await Promise.all([
      this.db
        .selectFrom("contacts")
        .select("owner_id as id")
        .where("contact_id", "=", subjectId)
        .where("owner_id", "in", viewers)
        .execute(),
      this.db
        .selectFrom("contacts")
        .select("contact_id as id")
        .where("owner_id", "=", subjectId)
        .where("contact_id", "in", viewers)
        .execute(),
      this.db
        .selectFrom("blocks")
        .select("blocked_id as id")
        .where("blocker_id", "=", subjectId)
        .where("blocked_id", "in", viewers)
        .execute(),
      this.db
        .selectFrom("phone_discoveries")
        .select(["viewer_id as id", "phone"])
        .where("subject_id", "=", subjectId)
        .where("viewer_id", "in", viewers)
        .execute(),
    ]);
    const set = (rows: Array<{ id: string }>) => new Set(rows.map((r) => r.id));
    const discovered = new Map(found.map((f) => [f.id, f.phone]));
    const [viewerHas, hasViewer, blockedBy] = [set(theyHave), set(subjectHas), set(blocked)];
    for (const viewerId of viewers) {
      const profile = visibleProfile(
        subject,
        accountRelations(viewerId, subject, {
          viewerHas: viewerHas.has(viewerId),
          hasViewer: hasViewer.has(viewerId),
          blockedBy: blockedBy.has(viewerId),
          discoveredPhone: discovered.get(viewerId),
        }),
      );
      if (profile) result.set(viewerId, profile);
    }
  }

  /** What `viewerId` sees of each subject it may see; invisible ones are absent. */
  async visible(viewerId: string, ids: readonly string[]): Promise<Map<string, VisibleProfile>> {
    const result = new Map<string, VisibleProfile>();
    for (const batch of chunks([...new Set(ids)])) {
      const subjects = await this.subjects(batch);
      const relations = await this.relations(viewerId, subjects);
      for (const [id, subject] of subjects) {
        const profile = visibleProfile(subject, relations.get(id) ?? noRelations);
        if (profile) result.set(id, profile);
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
    const [contacts, reverse, discoveries] = await Promise.all([
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
    ]);
    return [...new Set([...contacts, ...reverse, ...discoveries].map((r) => r.id))];
  }

  /** The watchers who see something of `subjectId` right now, through the policy. */
  async viewersOf(subjectId: string): Promise<string[]> {
    const candidates = await this.watchers(subjectId);
    const seen = await Promise.all(
      candidates.map(async (viewer) =>
        (await this.visible(viewer, [subjectId])).has(subjectId) ? viewer : null,
      ),
    );
    return seen.filter((v): v is string => v !== null);
  }
}
