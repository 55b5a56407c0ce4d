import { randomBytes, randomInt, verify } from "node:crypto";
import { type ApproveDeviceLinkRequest, type DeviceProof, linkSigningPrefix } from "@veil/protocol";
import { VeilError } from "../errors.js";
import { newId, sha256 } from "../ids.js";
import type { Database, Db, Tx } from "../store/database.js";
import { parsePublicKey, verifyDeviceProof } from "./device-proof.js";
import { type AuthContext, insertDevice } from "./sessions.js";

const linkTtlMs = 10 * 60_000;

/**
 * What other domains do when a device joins or leaves an account, and when
 * an account is deleted (before its devices go), in the same transaction.
 */
export interface DeviceLifecycle {
  added(tx: Tx, userId: string, deviceId: string): Promise<void>;
  removed(tx: Tx, deviceId: string): Promise<void>;
  accountDeleted(tx: Tx, userId: string): Promise<void>;
}

/**
 * Step 1, on the new device: it proves its key and gets a code to show (as
 * digits, or as a QR code of `veil-link:<code>`), and a secret to poll with.
 */
export async function startDeviceLink(db: Db, proof: DeviceProof, now: number) {
  await verifyDeviceProof(db, proof, now);
  const taken = await db
    .selectFrom("devices")
    .select("id")
    .where("public_key", "=", proof.publicKey)
    .executeTakeFirst();
  if (taken) throw new VeilError("device_key_taken");
  const digits = String(randomInt(0, 100_000_000)).padStart(8, "0");
  const code = `${digits.slice(0, 4)}-${digits.slice(4)}`;
  const secret = randomBytes(24).toString("base64url");
  const linkId = newId("c");
  const expiresAt = now + linkTtlMs;
  await db
    .insertInto("device_links")
    .values({
      id: linkId,
      code,
      secret_hash: sha256(secret),
      public_key: proof.publicKey,
      name: proof.name ?? "Linked device",
      expires_at: expiresAt,
      device_id: null,
      user_id: null,
    })
    .execute();
  return { linkId, secret, code, expiresAt };
}

/**
 * Step 2, on an existing device: it enters the code, shows the new device's
 * name and key fingerprint (`pendingDeviceLink`), and signs the new device's
 * public key with its own key. The new device joins the account; once it has
 * uploaded key packages, the account's other devices are told to bring it
 * into their chats (see `KeyPackages.upload`).
 */
export async function approveDeviceLink(
  database: Database,
  auth: AuthContext,
  request: ApproveDeviceLinkRequest,
  now: number,
  lifecycle: DeviceLifecycle,
) {
  const code = request.code.replace(/-/g, "");
  const formatted = code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : request.code;
  const link = await database.db
    .selectFrom("device_links")
    .selectAll()
    .where("code", "=", formatted)
    .executeTakeFirst();
  if (!link || link.expires_at < now || link.device_id !== null)
    throw new VeilError("link_not_found");
  const approver = await database.db
    .selectFrom("devices")
    .select("public_key")
    .where("id", "=", auth.deviceId)
    .executeTakeFirstOrThrow();
  const message = Buffer.concat([
    Buffer.from(linkSigningPrefix),
    Buffer.from(link.public_key, "base64url"),
  ]);
  const signature = Buffer.from(request.signature, "base64url");
  if (
    signature.length !== 64 ||
    !verify(null, message, parsePublicKey(approver.public_key), signature)
  ) {
    throw new VeilError("signature_invalid");
  }
  return database.transaction(async (tx) => {
    const deviceId = await insertDevice(
      tx.db,
      auth.userId,
      { publicKey: link.public_key, name: link.name },
      now,
    );
    await lifecycle.added(tx, auth.userId, deviceId);
    const claimed = await tx.db
      .updateTable("device_links")
      .set({ device_id: deviceId, user_id: auth.userId })
      .where("id", "=", link.id)
      .where("device_id", "is", null)
      .executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) throw new VeilError("link_not_found");
    return { deviceId, name: link.name, publicKey: link.public_key };
  });
}

/** A link still waiting for approval, by its code (with or without the dash). */
async function pendingLink(db: Db, code: string, now: number) {
  const digits = code.replace(/-/g, "");
  const formatted = digits.length === 8 ? `${digits.slice(0, 4)}-${digits.slice(4)}` : code;
  const link = await db
    .selectFrom("device_links")
    .selectAll()
    .where("code", "=", formatted)
    .executeTakeFirst();
  if (!link || link.expires_at < now || link.device_id !== null)
    throw new VeilError("link_not_found");
  return link;
}

/** What the approving device shows before it signs: the new device's name and key. */
export async function pendingDeviceLink(db: Db, code: string, now: number) {
  const link = await pendingLink(db, code, now);
  return { name: link.name, publicKey: link.public_key };
}

/** Step 3, on the new device: once approved, it signs in with its key as any device does. */
export async function deviceLinkStatus(db: Db, linkId: string, secret: string, now: number) {
  const link = await db
    .selectFrom("device_links")
    .selectAll()
    .where("id", "=", linkId)
    .executeTakeFirst();
  if (
    !link ||
    link.secret_hash !== sha256(secret) ||
    (link.device_id === null && link.expires_at < now)
  ) {
    throw new VeilError("link_not_found");
  }
  return {
    status: link.device_id ? ("approved" as const) : ("pending" as const),
    deviceId: link.device_id,
    userId: link.user_id,
  };
}

/** Drops links that expired unapproved. */
export async function pruneDeviceLinks(db: Db, now: number): Promise<void> {
  await db
    .deleteFrom("device_links")
    .where("expires_at", "<", now - linkTtlMs)
    .execute();
}
