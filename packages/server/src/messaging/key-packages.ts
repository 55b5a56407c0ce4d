import type {
  ClaimKeyPackagesResponse,
  KeyPackageStock,
  UploadKeyPackagesRequest,
} from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { Mailbox } from "./mailbox.js";
import { inspectMls, mlsBytes } from "./mls-wire.js";

/** Below this many one-time key packages a device is told to upload more. */
export const keyPackagesLowWatermark = 10;

/**
 * MLS key packages: each device keeps a stock on the server; adding someone
 * to a group claims one package per device, once.
 */
export class KeyPackages {
  constructor(
    private readonly database: Database,
    private readonly profiles: ProfileReader,
    private readonly mailbox: Mailbox,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  async upload(auth: AuthContext, request: UploadKeyPackagesRequest): Promise<KeyPackageStock> {
    const decode = (encoded: string) => {
      const bytes = mlsBytes(encoded);
      let framing: ReturnType<typeof inspectMls>;
      try {
        framing = inspectMls(bytes);
      } catch {
        throw new VeilError("key_package_invalid");
      }
      // A device uploads packages for itself only: the credential names it.
      if (framing.wireformat !== "mls_key_package" || framing.credentialId !== auth.deviceId) {
        throw new VeilError("key_package_invalid");
      }
      return bytes;
    };
    const oneTime = request.keyPackages.map(decode);
    const lastResort = request.lastResort === undefined ? null : decode(request.lastResort);
    const now = this.now();
    await this.database.transaction(async (tx) => {
      for (const data of oneTime) {
        await tx.db
          .insertInto("key_packages")
          .values({
            id: newId("k"),
            device_id: auth.deviceId,
            data,
            last_resort: 0,
            created_at: now,
          })
          .execute();
      }
      // A newly linked device is announced once it can be added: at its first key packages.
      const link = await tx.db
        .updateTable("device_links")
        .set({ announced: 1 })
        .where("device_id", "=", auth.deviceId)
        .where("announced", "=", 0)
        .executeTakeFirst();
      if (link.numUpdatedRows > 0n) await this.announce(tx, auth.userId, auth.deviceId);
      if (lastResort) {
        await tx.db
          .deleteFrom("key_packages")
          .where("device_id", "=", auth.deviceId)
          .where("last_resort", "=", 1)
          .execute();
        await tx.db
          .insertInto("key_packages")
          .values({
            id: newId("k"),
            device_id: auth.deviceId,
            data: lastResort,
            last_resort: 1,
            created_at: now,
          })
          .execute();
      }
    });
    return this.stock(auth.deviceId);
  }

  async stock(deviceId: string, db: Db = this.db): Promise<KeyPackageStock> {
    const rows = await db
      .selectFrom("key_packages")
      .select(["last_resort", (eb) => eb.fn.countAll<number>().as("n")])
      .where("device_id", "=", deviceId)
      .groupBy("last_resort")
      .execute();
    return {
      oneTime: Number(rows.find((r) => r.last_resort === 0)?.n ?? 0),
      lastResort: rows.some((r) => r.last_resort === 1),
    };
  }

  /**
   * One key package for every device of each user (the caller's own other
   * devices included), one-time packages first. Users the caller may not
   * see answer as if they did not exist.
   */
  async claim(
    auth: AuthContext,
    userIds: string[],
    deviceIds?: string[],
  ): Promise<ClaimKeyPackagesResponse> {
    const wanted = [...new Set(userIds)];
    const others = wanted.filter((id) => id !== auth.userId);
    const visible = await this.profiles.visible(auth.userId, others);
    if (others.some((id) => !visible.has(id))) throw new VeilError("user_not_found");
    const result = await this.database.transaction(async (tx) => {
      const devices = await tx.db
        .selectFrom("devices")
        .select(["id", "user_id"])
        .where("user_id", "in", wanted)
        .where("id", "!=", auth.deviceId)
        .$if(deviceIds !== undefined, (q) => q.where("id", "in", deviceIds ?? []))
        .orderBy("created_at")
        .execute();
      const claimed: ClaimKeyPackagesResponse["devices"] = [];
      for (const device of devices) {
        const kp = await tx.db
          .selectFrom("key_packages")
          .select(["id", "data", "last_resort"])
          .where("device_id", "=", device.id)
          .orderBy("last_resort")
          .orderBy("created_at")
          .limit(1)
          .executeTakeFirst();
        if (!kp) continue;
        if (kp.last_resort === 0) {
          await tx.db.deleteFrom("key_packages").where("id", "=", kp.id).execute();
          const { oneTime } = await this.stock(device.id, tx.db);
          if (oneTime === keyPackagesLowWatermark - 1 || oneTime === 0) {
            await this.mailbox.notify(tx, device.id, { kind: "key_packages_low" });
          }
        }
        claimed.push({
          userId: device.user_id,
          deviceId: device.id,
          keyPackage: Buffer.from(kp.data).toString("base64url"),
        });
      }
      // All or nothing: a user without a package leaves everyone's packages unclaimed.
      for (const userId of deviceIds ? [] : others) {
        if (!claimed.some((d) => d.userId === userId))
          throw new VeilError("key_packages_unavailable");
      }
      if (deviceIds && claimed.length === 0) throw new VeilError("key_packages_unavailable");
      return claimed;
    });
    return { devices: result };
  }

  /** A new device joined the account: the user's other devices add it to their groups. */
  private async announce(tx: Tx, userId: string, deviceId: string): Promise<void> {
    const others = await tx.db
      .selectFrom("devices")
      .select("id")
      .where("user_id", "=", userId)
      .where("id", "!=", deviceId)
      .execute();
    for (const other of others)
      await this.mailbox.notify(tx, other.id, { kind: "device_linked", device_ref: deviceId });
  }
}
