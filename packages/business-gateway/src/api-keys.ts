import { timingSafeEqual } from "node:crypto";
import { CloudError } from "./cloud-errors.js";
import { randomId, sha256Hex } from "./ids.js";
import type { Db } from "./store/database.js";

export const scopes = ["messages:send", "messages:read", "webhooks:manage"] as const;
export type Scope = (typeof scopes)[number];

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

type Row = {
  id: string;
  name: string;
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
};

const info = (row: Row): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  scopes: JSON.parse(row.scopes) as Scope[],
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

/** A new key: the secret is returned once; only its SHA-256 is stored. */
export async function createApiKey(
  db: Db,
  name: string,
  keyScopes: Scope[],
): Promise<ApiKeyInfo & { key: string }> {
  const key = randomId("vbk_", 32);
  const row = {
    id: randomId("key_", 9),
    name,
    key_hash: sha256Hex(key),
    scopes: JSON.stringify([...new Set(keyScopes)]),
    created_at: Date.now(),
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto("api_keys").values(row).execute();
  return { ...info(row), key };
}

export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  const rows = await db.selectFrom("api_keys").selectAll().orderBy("created_at").execute();
  return rows.map(info);
}

/** Revokes a key; false when there is no such key. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable("api_keys")
    .set({ revoked_at: Date.now() })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  const found = await db
    .selectFrom("api_keys")
    .select("id")
    .where("id", "=", id)
    .executeTakeFirst();
  return found !== undefined;
}

/** The bearer token of an Authorization header, or null. */
export function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(sha256Hex(a), "hex");
  const y = Buffer.from(sha256Hex(b), "hex");
  return timingSafeEqual(x, y);
};

/**
 * Checks a request's key: the admin key passes every scope; an API key must be
 * live and hold `scope`. Throws the Cloud API's 190 or 10 otherwise.
 */
export async function authorize(
  db: Db,
  adminKey: string,
  header: string | undefined,
  scope: Scope | "admin",
): Promise<void> {
  const token = bearer(header);
  if (token === null) throw new CloudError("invalid_token", "An access token is required");
  if (sameSecret(token, adminKey)) return;
  const row = await db
    .selectFrom("api_keys")
    .select(["id", "scopes", "revoked_at"])
    .where("key_hash", "=", sha256Hex(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null)
    throw new CloudError("invalid_token", "The access token is not valid");
  const granted = JSON.parse(row.scopes) as string[];
  if (scope === "admin" || !granted.includes(scope))
    throw new CloudError("permission_denied", `The key lacks the ${scope} permission`);
  await db
    .updateTable("api_keys")
    .set({ last_used_at: Date.now() })
    .where("id", "=", row.id)
    .execute();
}
