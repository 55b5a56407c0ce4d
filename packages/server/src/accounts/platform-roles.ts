import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";

/** Platform-wide roles, granted by the operator with `veil admin`. */
export const platformRoles = ["admin", "moderator"] as const;
export type PlatformRole = (typeof platformRoles)[number];

export function isPlatformRole(value: string): value is PlatformRole {
  return (platformRoles as readonly string[]).includes(value);
}

export async function grantRole(db: Db, userId: string, role: PlatformRole): Promise<void> {
  const result = await db
    .updateTable("users")
    .set({ platform_role: role })
    .where("id", "=", userId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new VeilError("user_not_found");
}

export async function revokeRole(db: Db, userId: string): Promise<void> {
  const result = await db
    .updateTable("users")
    .set({ platform_role: null })
    .where("id", "=", userId)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new VeilError("user_not_found");
}

/** Ids and roles only: the operator's terminal gets no names or numbers. */
export async function listRoles(db: Db): Promise<Array<{ userId: string; role: string }>> {
  const rows = await db
    .selectFrom("users")
    .select(["id", "platform_role"])
    .where("platform_role", "is not", null)
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ userId: r.id, role: r.platform_role ?? "" }));
}
