// The Veil server under test, built from packages/server/dist exactly as
// `veil serve` builds it, plus a control channel for the harness.
import SqliteDriver from "better-sqlite3";
import { buildServer, createContext, loadConfig } from "../../packages/server/dist/index.js";
import { serveControl } from "./control.js";

// Counts SQL statements: Kysely's SQLite driver prepares every query it runs.
let statements = 0;
const prepare = SqliteDriver.prototype.prepare;
SqliteDriver.prototype.prepare = function countedPrepare(...args) {
  statements++;
  return prepare.apply(this, args);
};

// Phone verification codes go to the harness instead of the log.
const codes = new Map();
const verifier = {
  async send({ verificationId, code }) {
    codes.set(verificationId, code);
  },
};

const context = await createContext(loadConfig(), { verifier });
await context.database.migrate();
const server = await buildServer(context);
const url = await server.listen();

serveControl({
  code: ({ verificationId }) => codes.get(verificationId) ?? null,
  stats: () => ({ statements, connections: server.gateway.size }),
  async close() {
    await server.close();
    setImmediate(() => process.exit(0));
  },
});
process.send?.({ type: "listening", url });
