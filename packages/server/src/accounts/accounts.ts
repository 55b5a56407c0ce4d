import {
  defaultPrivacySettings,
  type OwnProfile,
  type PhoneProof,
  type RegisterRequest,
  type UpdatePrivacyRequest,
  type UpdateProfileRequest,
  type VisibleProfile,
} from "@veil/protocol";
import type { DeviceLifecycle } from "../auth/device-links.js";
import { verifyDeviceProof } from "../auth/device-proof.js";
import { type AuthContext, createSession, insertDevice } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { newId, sha256 } from "../ids.js";
import { enforceLimits } from "../limits/fixed-window.js";
import { imageType } from "../media/image-type.js";
import { phoneLookupProfile } from "../privacy/policy.js";
import { businessCardOf, type ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { UsersTable } from "../store/schema/users.js";
import { normalizePhone } from "./phone.js";
import type { PhoneVerifier } from "./phone-verifier.js";
import { normalizeUsername } from "./username.js";
import { checkVerification, claimVerification, startVerification } from "./verifications.js";

export interface AccountLimits {
  lookupLimitPerAccount: number;
  lookupLimitPerAddress: number;
  verificationLimitPerAddress: number;
}

const hourMs = 60 * 60_000;

function ownProfile(u: UsersTable): OwnProfile {
  return {
    id: u.id,
    name: u.name,
    phone: u.phone,
    username: u.username,
    photo: u.photo_id,
    about: u.about,
    privacy: {
      phone: u.privacy_phone,
      photo: u.privacy_photo,
      about: u.privacy_about,
      presence: u.privacy_presence,
      discoverableByPhone: u.discoverable_by_phone === 1,
    },
    createdAt: new Date(u.created_at).toISOString(),
    platformRole:
      u.platform_role === "admin" || u.platform_role === "moderator" ? u.platform_role : null,
  };
}

/**
 * Accounts: registration, the own profile and privacy settings, phone
 * numbers, photos, contacts, blocking, lookup and deletion. Reads of other
 * users go through the privacy module (`ProfileReader`).
 */
export class Accounts {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly verifier: PhoneVerifier,
    private readonly profiles: ProfileReader,
    private readonly limits: AccountLimits,
    private readonly lifecycle: DeviceLifecycle,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** Tells every node, after commit, that what others see of `userId` may have changed. */
  private changed(tx: Tx, userId: string): void {
    tx.onCommit(() => this.bus.publish({ type: "profile.changed", userId }));
  }

  private async uniqueOr<T>(
    work: () => Promise<T>,
    code: "phone_taken" | "username_taken" | "device_key_taken",
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (this.database.isUniqueViolation(error)) throw new VeilError(code);
      throw error;
    }
  }

  private async assertFree(
    db: Db,
    field: "phone" | "username",
    value: string | null,
    self?: string,
  ) {
    if (value === null) return;
    const taken = await db
      .selectFrom("users")
      .select("id")
      .where(field, "=", value)
      .executeTakeFirst();
    if (taken && taken.id !== self)
      throw new VeilError(field === "phone" ? "phone_taken" : "username_taken");
  }

  async startPhoneVerification(phoneInput: string, address: string) {
    const phone = normalizePhone(phoneInput);
    const now = this.now();
    // The per-number key is a hash: the counters table never holds a phone number.
    await enforceLimits(
      this.db,
      [
        { key: `verify:addr:${address}`, limit: this.limits.verificationLimitPerAddress },
        { key: `verify:phone:${sha256(phone)}`, limit: 5 },
      ],
      hourMs,
      now,
    );
    return startVerification(this.db, this.verifier, phone, now);
  }

  async register(request: RegisterRequest) {
    const now = this.now();
    const username = request.username === undefined ? null : normalizeUsername(request.username);
    const phone = request.phone
      ? await checkVerification(this.db, request.phone.verificationId, request.phone.code, now)
      : null;
    await verifyDeviceProof(this.db, request.device, now);
    return this.database.transaction(async (tx) => {
      await this.assertFree(tx.db, "phone", phone);
      await this.assertFree(tx.db, "username", username);
      const taken = await tx.db
        .selectFrom("devices")
        .select("id")
        .where("public_key", "=", request.device.publicKey)
        .executeTakeFirst();
      if (taken) throw new VeilError("device_key_taken");
      if (request.phone) await claimVerification(tx.db, request.phone.verificationId);
      const user: UsersTable = {
        id: newId("u"),
        name: request.name.trim(),
        phone,
        username,
        about: "",
        photo_id: null,
        privacy_phone: defaultPrivacySettings.phone,
        privacy_photo: defaultPrivacySettings.photo,
        privacy_about: defaultPrivacySettings.about,
        privacy_presence: defaultPrivacySettings.presence,
        discoverable_by_phone: defaultPrivacySettings.discoverableByPhone ? 1 : 0,
        platform_role: null,
        created_at: now,
        updated_at: now,
      };
      await this.uniqueOr(() => tx.db.insertInto("users").values(user).execute(), "phone_taken");
      const deviceId = await this.uniqueOr(
        () => insertDevice(tx.db, user.id, request.device, now),
        "device_key_taken",
      );
      const session = await createSession(tx.db, user.id, deviceId, now);
      return { user: ownProfile(user), deviceId, session };
    });
  }

  async me(userId: string): Promise<OwnProfile> {
    const user = await this.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", userId)
      .executeTakeFirst();
    if (!user) throw new VeilError("unauthenticated");
    const business = await this.db
      .selectFrom("business_profiles")
      .selectAll()
      .where("user_id", "=", userId)
      .executeTakeFirst();
    const own = ownProfile(user);
    // A client shows the account as a business when this is present.
    if (business) own.business = { userId, ...businessCardOf(business) };
    return own;
  }

  /** Writes the user's row inside `tx`. Never read through `this.db` inside a transaction. */
  private async writeUser(tx: Tx, userId: string, set: Partial<UsersTable>): Promise<void> {
    await tx.db
      .updateTable("users")
      .set({ ...set, updated_at: this.now() })
      .where("id", "=", userId)
      .execute();
    this.changed(tx, userId);
  }

  private async updateUser(userId: string, set: Partial<UsersTable>): Promise<OwnProfile> {
    await this.database.transaction((tx) => this.writeUser(tx, userId, set));
    return this.me(userId);
  }

  async updateProfile(userId: string, patch: UpdateProfileRequest): Promise<OwnProfile> {
    const set: Partial<UsersTable> = {};
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.about !== undefined) set.about = patch.about;
    if (patch.username !== undefined) {
      set.username = patch.username === null ? null : normalizeUsername(patch.username);
      await this.assertFree(this.db, "username", set.username, userId);
    }
    return this.uniqueOr(() => this.updateUser(userId, set), "username_taken");
  }

  async updatePrivacy(userId: string, patch: UpdatePrivacyRequest): Promise<OwnProfile> {
    const set: Partial<UsersTable> = {};
    if (patch.phone) set.privacy_phone = patch.phone;
    if (patch.photo) set.privacy_photo = patch.photo;
    if (patch.about) set.privacy_about = patch.about;
    if (patch.presence) set.privacy_presence = patch.presence;
    if (patch.discoverableByPhone !== undefined)
      set.discoverable_by_phone = patch.discoverableByPhone ? 1 : 0;
    return this.updateUser(userId, set);
  }

  async setPhone(userId: string, proof: PhoneProof): Promise<OwnProfile> {
    const phone = await checkVerification(this.db, proof.verificationId, proof.code, this.now());
    await this.assertFree(this.db, "phone", phone, userId);
    await this.uniqueOr(
      () =>
        this.database.transaction(async (tx) => {
          await claimVerification(tx.db, proof.verificationId);
          await this.writeUser(tx, userId, { phone });
        }),
      "phone_taken",
    );
    return this.me(userId);
  }

  async removePhone(userId: string): Promise<OwnProfile> {
    return this.updateUser(userId, { phone: null });
  }

  async setPhoto(userId: string, bytes: Buffer): Promise<OwnProfile> {
    const contentType = imageType(bytes);
    if (!contentType) throw new VeilError("photo_invalid");
    const id = newId("p");
    await this.database.transaction(async (tx) => {
      await tx.db.deleteFrom("photos").where("user_id", "=", userId).execute();
      await tx.db
        .insertInto("photos")
        .values({ id, user_id: userId, content_type: contentType, bytes, created_at: this.now() })
        .execute();
      await this.writeUser(tx, userId, { photo_id: id });
    });
    return this.me(userId);
  }

  async removePhoto(userId: string): Promise<OwnProfile> {
    await this.database.transaction(async (tx) => {
      await tx.db.deleteFrom("photos").where("user_id", "=", userId).execute();
      await this.writeUser(tx, userId, { photo_id: null });
    });
    return this.me(userId);
  }

  /** The subject's photo, only if the viewer may see it (else exactly as if there were none). */
  async photo(viewerId: string, subjectId: string) {
    const visible = (await this.profiles.visible(viewerId, [subjectId])).get(subjectId);
    if (!visible?.photo) throw new VeilError("photo_not_found");
    const photo = await this.db
      .selectFrom("photos")
      .select(["content_type", "bytes"])
      .where("id", "=", visible.photo)
      .executeTakeFirst();
    if (!photo) throw new VeilError("photo_not_found");
    return { contentType: photo.content_type, bytes: Buffer.from(photo.bytes) };
  }

  /**
   * Looks a user up by exact phone number (R13). Rate limited per account and
   * per client address; a miss, an undiscoverable number and a user who
   * cannot be shown all answer `user_not_found`.
   */
  async lookupByPhone(
    auth: AuthContext,
    phoneInput: string,
    address: string,
  ): Promise<VisibleProfile> {
    const now = this.now();
    await enforceLimits(
      this.db,
      [
        { key: `lookup:user:${auth.userId}`, limit: this.limits.lookupLimitPerAccount },
        { key: `lookup:addr:${address}`, limit: this.limits.lookupLimitPerAddress },
      ],
      hourMs,
      now,
    );
    const phone = normalizePhone(phoneInput);
    const row = await this.db
      .selectFrom("users")
      .select(["id", "discoverable_by_phone"])
      .where("phone", "=", phone)
      .executeTakeFirst();
    if (!row || row.id === auth.userId) {
      if (row) return this.profiles.one(auth.userId, row.id);
      throw new VeilError("user_not_found");
    }
    if (row.discoverable_by_phone !== 1) throw new VeilError("user_not_found");
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("phone_discoveries")
        .values({ viewer_id: auth.userId, subject_id: row.id, phone, created_at: now })
        .onConflict((oc) =>
          oc.columns(["viewer_id", "subject_id"]).doUpdateSet({ phone, created_at: now }),
        )
        .execute();
    });
    const subject = (await this.profiles.subjects([row.id])).get(row.id);
    if (!subject) throw new VeilError("user_not_found");
    const relation = await this.profiles.relationsBetween([auth.userId], [subject]);
    // R13 answers the lookup itself; the discovery (R2) counts from the next read on.
    const profile = phoneLookupProfile(subject, {
      ...relation(auth.userId, subject),
      foundByPhone: false,
    });
    if (!profile) throw new VeilError("user_not_found");
    return profile;
  }

  async contacts(viewerId: string): Promise<VisibleProfile[]> {
    const rows = await this.db
      .selectFrom("contacts")
      .select("contact_id")
      .where("owner_id", "=", viewerId)
      .orderBy("created_at")
      .execute();
    const visible = await this.profiles.visible(
      viewerId,
      rows.map((r) => r.contact_id),
    );
    return rows.flatMap((r) => visible.get(r.contact_id) ?? []);
  }

  /** Adds a contact the viewer can already see, or finds one by phone number first. */
  async addContact(
    auth: AuthContext,
    target: { userId: string } | { phone: string },
    address: string,
  ) {
    const subjectId =
      "userId" in target
        ? (await this.profiles.one(auth.userId, target.userId)).id
        : (await this.lookupByPhone(auth, target.phone, address)).id;
    if (subjectId === auth.userId) throw new VeilError("contact_self");
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("contacts")
        .values({ owner_id: auth.userId, contact_id: subjectId, created_at: this.now() })
        .onConflict((oc) => oc.doNothing())
        .execute();
      // Having the subject as a contact can widen what the *subject* sees of the viewer.
      this.changed(tx, auth.userId);
    });
    return this.profiles.one(auth.userId, subjectId);
  }

  async removeContact(viewerId: string, subjectId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const result = await tx.db
        .deleteFrom("contacts")
        .where("owner_id", "=", viewerId)
        .where("contact_id", "=", subjectId)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new VeilError("user_not_found");
      this.changed(tx, viewerId);
    });
  }

  async blocks(viewerId: string): Promise<VisibleProfile[]> {
    const rows = await this.db
      .selectFrom("blocks")
      .select("blocked_id")
      .where("blocker_id", "=", viewerId)
      .orderBy("created_at")
      .execute();
    const visible = await this.profiles.visible(
      viewerId,
      rows.map((r) => r.blocked_id),
    );
    // A blocked user the viewer can no longer see is left out, exactly as if it did not
    // exist (invariant 1); the block still holds and DELETE /v1/blocks/:id still lifts it.
    return rows.flatMap((r) => visible.get(r.blocked_id) ?? []);
  }

  /** Blocks a user the viewer can see. */
  async block(viewerId: string, subjectId: string): Promise<void> {
    if (subjectId === viewerId) throw new VeilError("block_self");
    await this.profiles.one(viewerId, subjectId);
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("blocks")
        .values({ blocker_id: viewerId, blocked_id: subjectId, created_at: this.now() })
        .onConflict((oc) => oc.doNothing())
        .execute();
      this.changed(tx, viewerId);
    });
  }

  async unblock(viewerId: string, subjectId: string): Promise<void> {
    await this.database.transaction(async (tx) => {
      const result = await tx.db
        .deleteFrom("blocks")
        .where("blocker_id", "=", viewerId)
        .where("blocked_id", "=", subjectId)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new VeilError("user_not_found");
      this.changed(tx, viewerId);
    });
  }

  /**
   * Deletes the account and its personal data: profile, number, photo,
   * devices, sessions, contacts (both ways), blocks and lookups; live
   * connections are closed on every node.
   */
  async deleteAccount(userId: string): Promise<void> {
    const watchers = await this.profiles.viewersOf(userId);
    return this.database.transaction(async (tx) => {
      const sessions = await tx.db
        .deleteFrom("sessions")
        .where("user_id", "=", userId)
        .returning("id")
        .execute();
      await tx.db
        .deleteFrom("contacts")
        .where((eb) => eb.or([eb("owner_id", "=", userId), eb("contact_id", "=", userId)]))
        .execute();
      await tx.db
        .deleteFrom("blocks")
        .where((eb) => eb.or([eb("blocker_id", "=", userId), eb("blocked_id", "=", userId)]))
        .execute();
      await tx.db
        .deleteFrom("phone_discoveries")
        .where((eb) => eb.or([eb("viewer_id", "=", userId), eb("subject_id", "=", userId)]))
        .execute();
      await tx.db.deleteFrom("photos").where("user_id", "=", userId).execute();
      await tx.db.deleteFrom("business_profiles").where("user_id", "=", userId).execute();
      const devices = await tx.db
        .selectFrom("devices")
        .select("id")
        .where("user_id", "=", userId)
        .execute();
      await this.lifecycle.accountDeleted(tx, userId);
      for (const device of devices) await this.lifecycle.removed(tx, device.id);
      await tx.db.deleteFrom("devices").where("user_id", "=", userId).execute();
      await tx.db.deleteFrom("users").where("id", "=", userId).execute();
      tx.onCommit(async () => {
        await this.bus.publish({ type: "sessions.revoked", sessionIds: sessions.map((s) => s.id) });
        await this.bus.publish({ type: "user.deleted", userId, watchers });
      });
    });
  }
}
