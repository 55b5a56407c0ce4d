import fs from "node:fs";
import path from "node:path";
import SqliteDriver from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Database } from "./database.js";
import type { Schema } from "./schema/index.js";

/** Opens (creating if needed) the embedded database: one SQLite file in WAL mode. */
export function openSqlite(file: string, onHookError?: (error: unknown) => void): Database {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const driver = new SqliteDriver(file);
  driver.pragma("journal_mode = WAL");
  driver.pragma("synchronous = NORMAL");
  driver.pragma("foreign_keys = ON");
  driver.pragma("busy_timeout = 5000");
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: driver }) });
  return new Database(
    db,
    {
      name: "sqlite",
      isUniqueViolation: (error) =>
        error instanceof SqliteDriver.SqliteError &&
        (error.code === "SQLITE_CONSTRAINT_UNIQUE" ||
          error.code === "SQLITE_CONSTRAINT_PRIMARYKEY"),
      close: async () => {},
    },
    onHookError,
  );
}
