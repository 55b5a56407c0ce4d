import { createHash, randomBytes } from "node:crypto";

/** Opaque random ids: a type prefix and 128 random bits, never derived from user data. */
export const newId = (
  prefix:
    | "u"
    | "d"
    | "s"
    | "c"
    | "v"
    | "p"
    | "g"
    | "k"
    | "w"
    | "h"
    // moderation: a case, report, hold, note, strike, appeal
    | "mc"
    | "mr"
    | "mh"
    | "mn"
    | "ms"
    | "ma",
): string => `${prefix}_${randomBytes(16).toString("base64url")}`;

/**
 * An invite link's code: 144 random bits, base64url, never starting with `-`
 * or `_` (people paste codes into shells, where a leading `-` reads as an option).
 */
export function newInviteCode(): string {
  for (;;) {
    const code = randomBytes(18).toString("base64url");
    if (/^[A-Za-z0-9]/.test(code)) return code;
  }
}

/** A bearer token: 256 random bits. Only its hash is stored. */
export const newToken = (): string => `vt_${randomBytes(32).toString("base64url")}`;

export const sha256 = (value: string | Buffer): string =>
  createHash("sha256").update(value).digest("base64url");
