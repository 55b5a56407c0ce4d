import type { BusinessProfile, UpdateBusinessRequest, VisibleProfile } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { businessCardOf, type ProfileReader } from "../privacy/profiles.js";
import type { Database, Db } from "../store/database.js";

/** Search answers at most this many businesses unless asked for fewer. */
export const businessSearchLimit = 20;

/** A business profile from what the privacy module let the viewer see of its account. */
function fromVisible(p: VisibleProfile): BusinessProfile | null {
  if (!p.business) return null;
  const profile: BusinessProfile = { userId: p.id, ...p.business };
  if (p.photo !== undefined) profile.photo = p.photo;
  return profile;
}

/**
 * Business accounts: an account becomes a business with a business profile.
 * Reads of a business go through the privacy module like every read of another
 * user: the card and photo come back only when the rules R1-R13 show the
 * account to the viewer (a stranger gets `business_not_found`, search skips it).
 */
export class Businesses {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly profiles: ProfileReader,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** The caller's own business profile, or null when the account is not a business. */
  async own(userId: string): Promise<BusinessProfile | null> {
    const row = await this.db
      .selectFrom("business_profiles")
      .selectAll()
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row ? { userId, ...businessCardOf(row) } : null;
  }

  /**
   * Becomes a business, or changes the business profile. A new name clears
   * the verified badge: a platform admin verified the old one.
   */
  async put(userId: string, request: UpdateBusinessRequest): Promise<BusinessProfile> {
    const now = this.now();
    const name = request.name.trim();
    const contact = {
      email: request.contact?.email ?? null,
      website: request.contact?.website ?? null,
      address: request.contact?.address?.trim() || null,
    };
    await this.database.transaction(async (tx) => {
      const existing = await tx.db
        .selectFrom("business_profiles")
        .select(["name", "verified"])
        .where("user_id", "=", userId)
        .executeTakeFirst();
      const values = {
        name,
        description: request.description ?? "",
        category: request.category,
        ...contact,
        updated_at: now,
      };
      if (existing) {
        await tx.db
          .updateTable("business_profiles")
          .set({ ...values, ...(existing.name === name ? {} : { verified: 0 }) })
          .where("user_id", "=", userId)
          .execute();
      } else {
        await tx.db
          .insertInto("business_profiles")
          .values({ user_id: userId, ...values, created_at: now })
          .execute();
      }
      tx.onCommit(() => this.bus.publish({ type: "profile.changed", userId }));
    });
    const own = await this.own(userId);
    if (!own) throw new VeilError("business_not_found");
    return own;
  }

  /** Stops being a business: the account is shown as a person again. */
  async remove(userId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const result = await tx.db
        .deleteFrom("business_profiles")
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new VeilError("business_not_found");
      tx.onCommit(() => this.bus.publish({ type: "profile.changed", userId }));
    });
  }

  /** A business as `viewerId` sees it; an account that is no business answers `business_not_found`. */
  async one(viewerId: string, userId: string): Promise<BusinessProfile> {
    const visible = (await this.profiles.visible(viewerId, [userId])).get(userId);
    const profile = visible ? fromVisible(visible) : null;
    if (!profile) throw new VeilError("business_not_found");
    return profile;
  }

  /** Businesses whose name contains `q`, case-insensitively: verified ones first, then by name. */
  async search(
    viewerId: string,
    q: string,
    limit = businessSearchLimit,
  ): Promise<BusinessProfile[]> {
    // LIKE wildcards in the query are taken literally by dropping them.
    const needle = q
      .trim()
      .toLowerCase()
      .replace(/[%_\\]/g, "");
    if (needle === "") return [];
    const rows = await this.db
      .selectFrom("business_profiles")
      .select("user_id")
      .where((eb) => eb(eb.fn("lower", ["name"]), "like", `%${needle}%`))
      .orderBy("verified", "desc")
      .orderBy("name")
      .orderBy("user_id")
      .limit(Math.min(Math.max(limit, 1), businessSearchLimit))
      .execute();
    const visible = await this.profiles.visible(
      viewerId,
      rows.map((r) => r.user_id),
    );
    return rows.flatMap((r) => {
      const p = visible.get(r.user_id);
      const profile = p ? fromVisible(p) : null;
      return profile ? [profile] : [];
    });
  }

  /** A platform admin sets or clears the verified badge. */
  async setVerified(auth: AuthContext, userId: string, verified: boolean): Promise<void> {
    const caller = await this.db
      .selectFrom("users")
      .select("platform_role")
      .where("id", "=", auth.userId)
      .executeTakeFirst();
    if (caller?.platform_role !== "admin") throw new VeilError("not_platform_admin");
    await this.database.transaction(async (tx) => {
      const result = await tx.db
        .updateTable("business_profiles")
        .set({ verified: verified ? 1 : 0, updated_at: this.now() })
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new VeilError("business_not_found");
      tx.onCommit(() => this.bus.publish({ type: "profile.changed", userId }));
    });
  }
}
