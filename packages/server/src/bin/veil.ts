#!/usr/bin/env node
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import pino from "pino";
import {
  grantRole,
  isPlatformRole,
  listRoles,
  platformRoles,
  revokeRole,
} from "../accounts/platform-roles.js";
import { Cluster } from "../cluster/cluster.js";
import { ConfigError, loadConfig } from "../config.js";
import { type AppContext, closeContext, createContext } from "../context.js";
import { VeilError } from "../errors.js";
import { buildServer } from "../server.js";

const program = new Command()
  .name("veil")
  .description(
    "Veil: a self-hostable, privacy-first messaging server.\nConfiguration comes from VEIL_* environment variables (see README.md).",
  )
  .version("0.1.0");

/** Runs `work` on a migrated context, closing it after. */
async function withContext<T>(work: (context: AppContext) => Promise<T>): Promise<T> {
  const context = await createContext(loadConfig());
  try {
    await context.database.migrate();
    return await work(context);
  } finally {
    await closeContext(context);
  }
}

program
  .command("serve")
  .description("Run the server (HTTP API, WebSocket gateway, API docs at /docs)")
  .option("-p, --port <port>", "port to listen on (VEIL_PORT, default 8080)")
  .option(
    "-d, --data-dir <dir>",
    "where the embedded database lives (VEIL_DATA_DIR, default ./data)",
  )
  .action(async (options: { port?: string; dataDir?: string }) => {
    if (options.port) process.env.VEIL_PORT = options.port;
    if (options.dataDir) process.env.VEIL_DATA_DIR = options.dataDir;
    const config = loadConfig();
    const context = await createContext(config);
    const applied = await context.database.migrate();
    if (applied.length > 0) context.logger.info({ applied }, "migrations applied");
    const server = await buildServer(context);
    const url = await server.listen();
    context.logger.info(
      { url, database: context.database.dialect, bus: config.busUrl ? "nats" : "memory" },
      "veil is listening",
    );
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      context.logger.info({ signal }, "shutting down");
      const force = setTimeout(() => {
        context.logger.error("shutdown took too long; exiting");
        process.exit(1);
      }, config.shutdownDelayMs + 10_000);
      force.unref();
      server.close().then(
        () => process.exit(0),
        (err) => {
          context.logger.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });

program
  .command("migrate")
  .description("Apply pending database migrations and exit")
  .action(async () => {
    const context = await createContext(loadConfig());
    try {
      const names = await context.database.migrate();
      console.log(names.length > 0 ? `applied: ${names.join(", ")}` : "database is up to date");
    } finally {
      await closeContext(context);
    }
  });

/** What `veil cluster` uses when the environment names no PostgreSQL or NATS. */
const clusterDefaults = {
  VEIL_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
  VEIL_DATABASE_SCHEMA: "veil_cluster",
  VEIL_BUS_URL: "nats://127.0.0.1:4222",
  VEIL_BUS_PREFIX: "veil_cluster",
};

program
  .command("cluster")
  .description(
    "Run a local cluster to try scale-out: N `veil serve` nodes on one PostgreSQL and one NATS, behind a round-robin balancer",
  )
  .option("-n, --nodes <count>", "how many nodes (1 to 16)", "3")
  .option("-p, --port <port>", "the balancer's port; the nodes take the ports after it", "8080")
  .option("--host <host>", "where the balancer listens", "127.0.0.1")
  .option(
    "-d, --data-dir <dir>",
    "the nodes' data directories and shared attachments",
    "data/cluster",
  )
  .action(async (options: { nodes: string; port: string; host: string; dataDir: string }) => {
    const nodes = Number(options.nodes);
    const port = Number(options.port);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) {
      throw new ConfigError(["--nodes: must be a whole number from 1 to 16"]);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535 - nodes) {
      throw new ConfigError([`--port: must be a port with ${nodes} free ports after it`]);
    }
    const env: Record<string, string | undefined> = { ...process.env };
    for (const [name, value] of Object.entries(clusterDefaults)) env[name] ||= value;
    const config = loadConfig(env);
    const logger = pino({ level: config.logLevel, base: { service: "veil-cluster" } });
    // Migrate once here, so the nodes start on an up-to-date schema together.
    const context = await createContext(config, { logger });
    try {
      await context.database.migrate();
    } finally {
      await closeContext(context);
    }
    const cluster = new Cluster({
      nodes,
      host: options.host,
      port,
      dataDir: path.resolve(options.dataDir),
      script: fileURLToPath(import.meta.url),
      env,
      logger,
    });
    const stop = (signal: string) => {
      logger.info({ signal }, "stopping the cluster");
      cluster.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    await cluster.start();
    logger.info({ url: cluster.url, nodes: cluster.status() }, "cluster is ready");
  });

const admin = program
  .command("admin")
  .description("Platform roles: who may moderate and administer this server");

admin
  .command("grant")
  .description(`Grant a platform role (${platformRoles.join(", ")}) to a user id`)
  .argument("<userId>", "the user's id (u_...)")
  .argument("<role>", platformRoles.join(" | "))
  .action(async (userId: string, role: string) => {
    if (!isPlatformRole(role)) throw new Error(`role must be one of: ${platformRoles.join(", ")}`);
    await withContext((c) => grantRole(c.database.db, userId, role));
    console.log(`granted ${role} to ${userId}`);
  });

admin
  .command("revoke")
  .description("Remove a user's platform role")
  .argument("<userId>", "the user's id (u_...)")
  .action(async (userId: string) => {
    await withContext((c) => revokeRole(c.database.db, userId));
    console.log(`revoked the platform role of ${userId}`);
  });

admin
  .command("list")
  .description("List users with a platform role")
  .action(async () => {
    const rows = await withContext((c) => listRoles(c.database.db));
    if (rows.length === 0) console.log("no platform roles granted");
    for (const row of rows) console.log(`${row.userId}\t${row.role}`);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof VeilError) console.error(`error: ${error.code}: ${error.message}`);
  else console.error(error instanceof Error ? `error: ${error.message}` : error);
  process.exitCode = 1;
});
