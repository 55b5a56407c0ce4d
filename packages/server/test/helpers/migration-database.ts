import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Migrator } from "kysely";
import type { Database } from "../../src/store/database.js";
import { migrations } from "../../src/store/migrations/index.js";
import { openPostgres } from "../../src/store/postgres.js";
import { openSqlite } from "../../src/store/sqlite.js";
import { type Backend, dropSchema, freshSchema, postgresUrl } from "./backends.js";

/**
 * An empty database of `backend` with a migrator over every migration, for the
 * N-1 to N tests: migrate to N-1, write rows in that shape, migrate to N.
 * `close` closes it and removes it (the file, or the schema).
 */
export async function migrationDatabase(
  backend: Backend,
): Promise<{ database: Database; migrator: Migrator; close: () => Promise<void> }> {
  let database: Database;
  let cleanup: () => Promise<void>;
  let schema: string | undefined;
  if (backend === "sqlite") {
    const dir = mkdtempSync(path.join(tmpdir(), "veil-migration-"));
    database = openSqlite(path.join(dir, "veil.sqlite"));
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = freshSchema();
    schema = name;
    database = await openPostgres(postgresUrl, name);
    cleanup = () => dropSchema(name);
  }
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  return {
    database,
    migrator,
    close: async () => {
      await database.close();
      await cleanup();
    },
  };
}
