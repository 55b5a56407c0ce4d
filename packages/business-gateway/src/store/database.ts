import fs from "node:fs";
import path from "node:path";
import SqliteDriver from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import { migrations } from "./migrations/index.js";
import type { Schema } from "./schema.js";

export type Db = Kysely<Schema>;

/** A unit of work: queries through `db`, side effects deferred to `onCommit`. */
export interface Tx {
  db: Transaction<Schema>;
  onCommit(hook: () => void): void;
}

/** What differs between the backends, as data. */
interface DialectAdapter {
  name: "sqlite" | "postgres";
  migrationSchema?: string;
  isUniqueViolation(error: unknown): boolean;
}

/**
 * The gateway's database over SQLite or PostgreSQL (the same pattern as the
 * server's wrapper): transactions with after-commit hooks, migrations at start.
 */
export class Database {
  constructor(
    readonly db: Db,
    private readonly adapter: DialectAdapter,
  ) {}

  get dialect(): DialectAdapter["name"] {
    return this.adapter.name;
  }

  isUniqueViolation(error: unknown): boolean {
    return this.adapter.isUniqueViolation(error);
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks: Array<() => void> = [];
    const result = await this.db
      .transaction()
      .execute((trx) => work({ db: trx, onCommit: (hook) => hooks.push(hook) }));
    for (const hook of hooks) hook();
    return result;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations },
      ...(this.adapter.migrationSchema
        ? { migrationTableSchema: this.adapter.migrationSchema }
        : {}),
    });
    // Kysely's migrator looks at every schema of the database for its own table; a
    // schema dropped meanwhile (another deployment's, a test's) fails that look with
    // "schema … does not exist" (3F000). Nothing was applied then: look again.
    for (let attempt = 1; ; attempt++) {
      const { error } = await migrator.migrateToLatest();
      if (!error) return;
      const { code, message } = error as { code?: unknown; message?: unknown };
      const ours = `"${this.adapter.migrationSchema}"`;
      const other = code === "3F000" && typeof message === "string" && !message.includes(ours);
      if (!other || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  private closed: Promise<void> | null = null;

  close(): Promise<void> {
    this.closed ??= this.db.destroy();
    return this.closed;
  }
}

/** The embedded database: one SQLite file in WAL mode. */
export function openSqlite(file: string): Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const driver = new SqliteDriver(file);
  driver.pragma("journal_mode = WAL");
  driver.pragma("synchronous = NORMAL");
  driver.pragma("foreign_keys = ON");
  driver.pragma("busy_timeout = 5000");
  return new Database(new Kysely<Schema>({ dialect: new SqliteDialect({ database: driver }) }), {
    name: "sqlite",
    isUniqueViolation: (error) =>
      error instanceof SqliteDriver.SqliteError &&
      (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY"),
  });
}

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** PostgreSQL, in its own schema (created when missing). */
export async function openPostgres(url: string, schema: string): Promise<Database> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  try {
    const found = await setup.query(
      "select 1 from information_schema.schemata where schema_name = $1",
      [schema],
    );
    if (found.rowCount === 0) await setup.query(`create schema ${setup.escapeIdentifier(schema)}`);
  } finally {
    await setup.end();
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types,
    options: `-c search_path=${pg.Client.prototype.escapeIdentifier(schema)}`,
  });
  // A connection the database drops (a restart, a network cut) fails its query, not the
  // process: idle or held, the pool discards it and opens another for the next query.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return new Database(new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), {
    name: "postgres",
    migrationSchema: schema,
    isUniqueViolation: (error) =>
      typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505",
  });
}
