import { CloudError } from "../cloud-errors.js";
import { randomId } from "../ids.js";
import type { Database, Db } from "../store/database.js";
import { type Actor, audit } from "./audit.js";
import { conflictOnDuplicate } from "./conflicts.js";
import { isPermission } from "./permissions.js";

export interface Role {
  id: string;
  name: string;
  permissions: string[];
  builtin: boolean;
}

type RoleRow = { id: string; name: string; permissions: string; builtin: number };
const toRole = (row: RoleRow): Role => ({
  id: row.id,
  name: row.name,
  permissions: JSON.parse(row.permissions) as string[],
  builtin: row.builtin === 1,
});
const columns = ["id", "name", "permissions", "builtin"] as const;

function checkPermissions(list: readonly string[]): string[] {
  const unknown = list.find((p) => !isPermission(p));
  if (unknown !== undefined)
    throw new CloudError(
      "parameter_invalid",
      `permissions: unknown permission ${unknown.slice(0, 64)}`,
    );
  return [...new Set(list)];
}

export async function getRole(db: Db, id: string): Promise<Role | null> {
  const row = await db
    .selectFrom("inbox_roles")
    .select(columns)
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toRole(row) : null;
}

export async function listRoles(db: Db): Promise<Role[]> {
  const rows = await db
    .selectFrom("inbox_roles")
    .select(columns)
    .orderBy("builtin", "desc")
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toRole);
}

export async function createRole(
  database: Database,
  actor: Actor,
  input: { name: string; permissions: string[] },
): Promise<Role> {
  const granted = checkPermissions(input.permissions);
  const now = Date.now();
  const id = randomId("rol_", 9);
  try {
    await database.transaction(async (tx) => {
      await tx.db
        .insertInto("inbox_roles")
        .values({
          id,
          name: input.name.trim(),
          permissions: JSON.stringify(granted),
          builtin: 0,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await audit(
        tx.db,
        actor,
        "role.created",
        id,
        { name: input.name.trim(), permissions: granted },
        now,
      );
    });
  } catch (error) {
    conflictOnDuplicate(database, error, "a role with this name exists");
  }
  return (await getRole(database.db, id)) as Role;
}

async function customRole(db: Db, id: string): Promise<Role> {
  const role = await getRole(db, id);
  if (!role) throw new CloudError("not_found", "no such role");
  if (role.builtin) throw new CloudError("parameter_invalid", "built-in roles cannot be changed");
  return role;
}

export async function updateRole(
  database: Database,
  actor: Actor,
  id: string,
  changes: { name?: string; permissions?: string[] },
): Promise<Role> {
  await customRole(database.db, id);
  const granted = changes.permissions ? checkPermissions(changes.permissions) : undefined;
  const now = Date.now();
  try {
    await database.transaction(async (tx) => {
      await tx.db
        .updateTable("inbox_roles")
        .set({
          updated_at: now,
          ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
          ...(granted ? { permissions: JSON.stringify(granted) } : {}),
        })
        .where("id", "=", id)
        .execute();
      await audit(
        tx.db,
        actor,
        "role.updated",
        id,
        {
          ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
          ...(granted ? { permissions: granted } : {}),
        },
        now,
      );
    });
  } catch (error) {
    conflictOnDuplicate(database, error, "a role with this name exists");
  }
  return (await getRole(database.db, id)) as Role;
}

/** Deletes a custom role; refused while an agent holds it. */
export async function deleteRole(database: Database, actor: Actor, id: string): Promise<void> {
  await customRole(database.db, id);
  await database.transaction(async (tx) => {
    const holder = await tx.db
      .selectFrom("inbox_agents")
      .select("id")
      .where("role_id", "=", id)
      .executeTakeFirst();
    if (holder) throw new CloudError("conflict", "agents still hold this role");
    await tx.db.deleteFrom("inbox_roles").where("id", "=", id).execute();
    await audit(tx.db, actor, "role.deleted", id);
  });
}
