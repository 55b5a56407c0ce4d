import { type Kysely, Migrator, sql, type Transaction } from "kysely";
import { migrations } from "./migrations/index.js";
import type { Schema } from "./schema/index.js";

export type Db = Kysely<Schema>;

/** A unit of work: queries through `db`, side effects deferred to `onCommit`. */
export interface Tx {
  db: Transaction<Schema>;
  /** Runs `hook` after the transaction commits (never if it rolls back). */
  onCommit(hook: () => void | Promise<void>): void;
}

/** What differs between the backends, as data rather than `if`s in the domains. */
export interface DialectAdapter {
  name: "sqlite" | "postgres";
  /** Where the migration bookkeeping tables live (PostgreSQL: the deployment's schema). */
  migrationSchema?: string;
  isUniqueViolation(error: unknown): boolean;
  /**
   * Whether `SELECT … FOR UPDATE` locks rows. PostgreSQL: yes, and needed
   * under READ COMMITTED; SQLite: no such clause, and none needed (one
   * transaction runs at a time).
   */
  rowLocks: boolean;
  close(): Promise<void>;
}

/**
 * The one database wrapper over SQLite and PostgreSQL: Kysely for queries,
 * transactions with after-commit hooks, and migrations to latest at start.
 */
export class Database {
  private readonly lost = new Set<() => void>();

  constructor(
    readonly db: Db,
    private readonly adapter: DialectAdapter,
    private readonly onHookError: (error: unknown) => void = () => {},
  ) {}

  /** Calls `handler` when a connection to the database server drops (PostgreSQL). */
  onConnectionLost(handler: () => void): () => void {
    this.lost.add(handler);
    return () => this.lost.delete(handler);
  }

  /** Tells the `onConnectionLost` handlers (the backend calls it). */
  connectionLost(): void {
    for (const handler of this.lost) handler();
  }

  get dialect(): DialectAdapter["name"] {
    return this.adapter.name;
  }

  isUniqueViolation(error: unknown): boolean {
    return this.adapter.isUniqueViolation(error);
  }

  /**
   * Locks the rows a select reads until the transaction ends, where the
   * backend has row locks: `tx.db.selectFrom(…).$call((q) => database.forUpdate(q))`.
   */
  forUpdate<Q extends { forUpdate(): Q }>(query: Q): Q {
    return this.adapter.rowLocks ? query.forUpdate() : query;
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks: Array<() => void | Promise<void>> = [];
    const result = await this.db
      .transaction()
      .execute((trx) => work({ db: trx, onCommit: (hook) => hooks.push(hook) }));
    for (const hook of hooks) {
      try {
        await hook();
      } catch (error) {
        this.onHookError(error);
      }
    }
    return result;
  }

  /** Applies every pending migration; returns the names applied now. */
  async migrate(): Promise<string[]> {
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
      const { error, results } = await migrator.migrateToLatest();
      if (error && attempt < 10 && otherSchemaDropped(error, this.adapter.migrationSchema)) {
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        continue;
      }
      if (error) throw error;
      return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  private closed: Promise<void> | null = null;

  /** Closes the connections; calling it again waits for the first close. */
  close(): Promise<void> {
    this.closed ??= this.db.destroy().then(() => this.adapter.close());
    return this.closed;
  }
}

/** PostgreSQL's invalid_schema_name, about a schema other than ours. */
function otherSchemaDropped(error: unknown, ours: string | undefined): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "3F000" && typeof message === "string" && !message.includes(`"${ours}"`);
}
