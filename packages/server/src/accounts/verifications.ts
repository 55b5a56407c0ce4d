import { randomInt, timingSafeEqual } from "node:crypto";
import { VeilError } from "../errors.js";
import { newId, sha256 } from "../ids.js";
import type { Db } from "../store/database.js";
import type { PhoneVerifier } from "./phone-verifier.js";

const ttlMs = 10 * 60_000;
const maxAttempts = 5;

/** Starts a verification: a 6-digit code sent to `phone` (E.164). */
export async function startVerification(
  db: Db,
  verifier: PhoneVerifier,
  phone: string,
  now: number,
): Promise<{ verificationId: string; expiresAt: number }> {
  const verificationId = newId("v");
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  const expiresAt = now + ttlMs;
  await db
    .insertInto("phone_verifications")
    .values({
      id: verificationId,
      phone,
      code_hash: sha256(`${verificationId}:${code}`),
      attempts: 0,
      expires_at: expiresAt,
    })
    .execute();
  await verifier.send({ verificationId, phone, code });
  return { verificationId, expiresAt };
}

/**
 * Checks a code and returns the verified number; `claimVerification` then
 * consumes it inside the caller's transaction. Wrong codes count (outside any
 * transaction, so a rollback cannot undo them); after five it is void.
 */
export async function checkVerification(
  db: Db,
  verificationId: string,
  code: string,
  now: number,
): Promise<string> {
  const row = await db
    .selectFrom("phone_verifications")
    .selectAll()
    .where("id", "=", verificationId)
    .executeTakeFirst();
  if (!row || row.expires_at < now || row.attempts >= maxAttempts) {
    throw new VeilError("phone_verification_failed");
  }
  const expected = Buffer.from(row.code_hash);
  const actual = Buffer.from(sha256(`${verificationId}:${code}`));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    await db
      .updateTable("phone_verifications")
      .set({ attempts: row.attempts + 1 })
      .where("id", "=", verificationId)
      .execute();
    throw new VeilError("phone_verification_failed");
  }
  return row.phone;
}

/** Consumes a checked verification; fails if another request consumed it first. */
export async function claimVerification(db: Db, verificationId: string): Promise<void> {
  const deleted = await db
    .deleteFrom("phone_verifications")
    .where("id", "=", verificationId)
    .executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new VeilError("phone_verification_failed");
}

/** Deletes verifications that expired unused: they hold a phone number. */
export async function pruneVerifications(db: Db, now: number): Promise<void> {
  await db.deleteFrom("phone_verifications").where("expires_at", "<", now).execute();
}
