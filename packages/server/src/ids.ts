import { createHash, randomBytes } from "node:crypto";

/** Opaque random ids: a type prefix and 128 random bits, never derived from user data. */
export const newId = (prefix: "u" | "d" | "s" | "c" | "v" | "p" | "g" | "k" | "w" | "h"): string =>
  `${prefix}_${randomBytes(16).toString("base64url")}`;

/** A bearer token: 256 random bits. Only its hash is stored. */
export const newToken = (): string => `vt_${randomBytes(32).toString("base64url")}`;

export const sha256 = (value: string | Buffer): string =>
  createHash("sha256").update(value).digest("base64url");
