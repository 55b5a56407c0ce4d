import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto";
import { challengeSigningPrefix } from "@veil/protocol";
import { VeilError } from "../errors.js";
import { newId } from "../ids.js";
import type { Db } from "../store/database.js";

const challengeTtlMs = 5 * 60_000;

/** Parses a base64url raw Ed25519 public key, or fails with `public_key_invalid`. */
export function parsePublicKey(publicKey: string): KeyObject {
  const raw = Buffer.from(publicKey, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== publicKey) {
    throw new VeilError("public_key_invalid");
  }
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey }, format: "jwk" });
  } catch {
    throw new VeilError("public_key_invalid");
  }
}

/** Issues a one-time challenge for a device to sign. */
export async function issueChallenge(db: Db, now: number) {
  const challengeId = newId("c");
  const challenge = randomBytes(32).toString("base64url");
  const expiresAt = now + challengeTtlMs;
  await db
    .insertInto("auth_challenges")
    .values({ id: challengeId, challenge, expires_at: expiresAt })
    .execute();
  return { challengeId, challenge, expiresAt };
}

/**
 * Consumes the challenge and checks the device's Ed25519 signature over
 * `challengeSigningPrefix + challenge bytes`. A challenge is good for one try.
 */
export async function verifyDeviceProof(
  db: Db,
  proof: { publicKey: string; challengeId: string; signature: string },
  now: number,
): Promise<void> {
  const key = parsePublicKey(proof.publicKey);
  const row = await db
    .deleteFrom("auth_challenges")
    .where("id", "=", proof.challengeId)
    .returning(["challenge", "expires_at"])
    .executeTakeFirst();
  if (!row || row.expires_at < now) throw new VeilError("challenge_invalid");
  const message = Buffer.concat([
    Buffer.from(challengeSigningPrefix, "utf8"),
    Buffer.from(row.challenge, "base64url"),
  ]);
  const signature = Buffer.from(proof.signature, "base64url");
  if (signature.length !== 64 || !verify(null, message, key, signature)) {
    throw new VeilError("signature_invalid");
  }
}

/** Drops challenges that expired unused. */
export async function pruneChallenges(db: Db, now: number): Promise<void> {
  await db.deleteFrom("auth_challenges").where("expires_at", "<", now).execute();
}
