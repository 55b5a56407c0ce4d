import { createHash, randomBytes } from "node:crypto";

/** The Cloud-API-style id of a Veil message: reversible, so replies and reactions find it. */
export const wamidOf = (veilId: string): string =>
  `wamid.${Buffer.from(veilId, "utf8").toString("base64url")}`;

/** The Veil message id behind a `wamid.…`, or null when it is not one of ours. */
export function veilIdOf(wamid: string): string | null {
  if (!wamid.startsWith("wamid.")) return null;
  const body = wamid.slice("wamid.".length);
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(body)) return null;
  return Buffer.from(body, "base64url").toString("utf8");
}

/** The numeric phone-number id the Cloud API paths use, derived from the business's user id. */
export function derivePhoneNumberId(userId: string): string {
  const digest = createHash("sha256").update(`veil-business phone-number-id:${userId}`).digest();
  return (digest.readBigUInt64BE(0) % 10n ** 15n).toString().padStart(15, "1");
}

export const randomId = (prefix: string, bytes = 16): string =>
  `${prefix}${randomBytes(bytes).toString("base64url")}`;

export const sha256Hex = (text: string): string =>
  createHash("sha256").update(text, "utf8").digest("hex");
