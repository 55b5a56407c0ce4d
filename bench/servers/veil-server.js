// The Veil server under test, built from packages/server/dist exactly as
// `veil serve` builds it, plus a control channel for the harness.
import SqliteDriver from "better-sqlite3";
import pg from "pg";
import { buildServer, createContext, loadConfig } from "../../packages/server/dist/index.js";
import { serveControl } from "./control.js";

// SQLite only, while the harness asks for it: the time spent running each SQL
// statement (better-sqlite3 runs them synchronously on the server's main
// thread: reading rows, and the WAL write at commit, are included).
let timing = null;
let statementPrototype = null;
function timed(key, started) {
  const entry = timing.get(key) ?? { calls: 0, us: 0 };
  entry.calls++;
  entry.us += Number(process.hrtime.bigint() - started) / 1000;
  timing.set(key, entry);
}
// Counts SQL statements run (transaction control included), and times them
// while asked to: every statement better-sqlite3 runs goes through one of
// these methods, whether Veil prepared it afresh or took it from its cache.
// PostgreSQL: every query goes through a pooled pg.Client.
let statements = 0;
function countStatements(statement) {
  if (statementPrototype) return;
  statementPrototype = Object.getPrototypeOf(statement);
  for (const method of ["all", "get", "run", "iterate"]) {
    const original = statementPrototype[method];
    statementPrototype[method] = function countedStatement(...args) {
      statements++;
      if (!timing) return original.apply(this, args);
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        timed(this.source, started);
      }
    };
  }
}

const prepare = SqliteDriver.prototype.prepare;
SqliteDriver.prototype.prepare = function countedPrepare(...args) {
  if (!timing) {
    const statement = prepare.apply(this, args);
    countStatements(statement);
    return statement;
  }
  const started = process.hrtime.bigint();
  const statement = prepare.apply(this, args);
  timed("(prepare, all statements)", started);
  countStatements(statement);
  return statement;
};

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
  statements++;
  return query.apply(this, args);
};

// Phone verification codes go to the harness instead of the log.
const codes = new Map();
const verifier = {
  async send({ verificationId, code }) {
    codes.set(verificationId, code);
  },
};

const config = loadConfig();
const context = await createContext(config, { verifier });
await context.database.migrate();
const server = await buildServer(context);
const url = await server.listen();

serveControl({
  code: ({ verificationId }) => codes.get(verificationId) ?? null,
  stats: () => ({
    statements,
    connections: server.gateway.size,
    database: config.databaseUrl ? "postgres" : "sqlite",
  }),
  "sql-timing-start": () => {
    timing = new Map();
  },
  "sql-timing-stop": () => {
    const result = [...(timing ?? [])].map(([sql, entry]) => ({ sql, ...entry }));
    timing = null;
    return result.sort((a, b) => b.us - a.us);
  },
  async close() {
    await server.close();
    setImmediate(() => process.exit(0));
  },
});
process.send?.({ type: "listening", url });
