import fs from "node:fs";
import path from "node:path";
import SqliteDriver from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect } from "kysely";
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
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: cachingStatements(driver) }),
  });
  return new Database(
    db,
    {
      name: "sqlite",
      isUniqueViolation: (error) =>
        error instanceof SqliteDriver.SqliteError &&
        (error.code === "SQLITE_CONSTRAINT_UNIQUE" ||
          error.code === "SQLITE_CONSTRAINT_PRIMARYKEY"),
      rowLocks: false,
      close: async () => {},
    },
    onHookError,
  );
}

const statementCacheSize = 512;

/**
 * Kysely prepares every query afresh; preparing is about half of SQLite's
 * time on the message path. Statements are reusable, so keep the recent ones
 * (the driver runs one query at a time, so sharing them is safe).
 */
function cachingStatements(driver: SqliteDriver.Database): SqliteDatabase {
  const cache = new Map<string, SqliteDriver.Statement>();
  return {
    close: () => driver.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql); // most recently used goes last
      } else {
        statement = driver.prepare(sql);
        if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
