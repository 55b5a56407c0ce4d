#!/usr/bin/env node
import { Command } from "commander";
import {
  grantRole,
  isPlatformRole,
  listRoles,
  platformRoles,
  revokeRole,
} from "../accounts/platform-roles.js";
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
