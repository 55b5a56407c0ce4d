import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { Database } from "./database.js";
import type { Schema } from "./schema/index.js";

const INT8 = 20;
// Times are Unix milliseconds in bigint columns: well inside the safe integer range.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Connects to PostgreSQL, creating `schema` if missing and using it as the
 * search path, so one database can hold several isolated Veil schemas.
 */
export async function openPostgres(
  url: string,
  schema: string,
  onHookError?: (error: unknown) => void,
  onPoolError?: (error: Error) => void,
): Promise<Database> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  try {
    // Create only when missing: CREATE SCHEMA needs a privilege a deployment's role may lack.
    const found = await setup.query(
      "select 1 from information_schema.schemata where schema_name = $1",
      [schema],
    );
    if (found.rowCount === 0) await setup.query(`create schema ${setup.escapeIdentifier(schema)}`);
  } finally {
    await setup.end();
  }
  const searchPath = pg.Client.prototype.escapeIdentifier(schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // A database that does not answer fails the request (storage_unavailable) instead of
    // hanging it. This also bounds the wait for a free connection when all 10 are busy, so
    // it is long enough for a burst to queue: a database that is down refuses at once.
    connectionTimeoutMillis: 30_000,
    types,
    options: `-c search_path=${searchPath}`,
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const database = new Database(
    db,
    {
      name: "postgres",
      migrationSchema: schema,
      isUniqueViolation: (error) =>
        typeof error === "object" &&
        error !== null &&
        (error as { code?: unknown }).code === "23505",
      rowLocks: true,
      close: async () => {},
    },
    onHookError,
  );
  // An idle connection dropped by the server (a restart, a network cut) is an event
  // here, not a crash: the pool opens a new one for the next query.
  pool.on("error", (error) => {
    onPoolError?.(error);
    database.connectionLost();
  });
  // The same while a request holds the connection (between a transaction's queries):
  // the query in flight fails with the error, the pool discards the connection.
  pool.on("connect", (client) => client.on("error", () => {}));
  return database;
}
