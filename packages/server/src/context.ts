import path from "node:path";
import pino, { type Logger } from "pino";
import { ConsoleVerifier, type PhoneVerifier } from "./accounts/phone-verifier.js";
import type { Bus } from "./bus/bus.js";
import { MemoryBus } from "./bus/memory.js";
import { NatsBus } from "./bus/nats.js";
import type { Config } from "./config.js";
import { type BlobStore, FileBlobStore } from "./media/blob-store.js";
import { Screening } from "./moderation/screening.js";
import { Metrics } from "./ops/metrics.js";
import type { Database } from "./store/database.js";
import { openPostgres } from "./store/postgres.js";
import { openSqlite } from "./store/sqlite.js";

/** Everything the server is made of, with the backends chosen. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  bus: Bus;
  verifier: PhoneVerifier;
  blobs: BlobStore;
  metrics: Metrics;
  /** The automated content checks every channel change passes before it is published. */
  screening: Screening;
  now: () => number;
}

export interface ContextOverrides {
  logger?: Logger;
  verifier?: PhoneVerifier;
  /** The NATS subject prefix; deployments (and test suites) sharing a server keep apart by it. */
  busPrefix?: string;
  /** Content checks with other thresholds or lists than the configuration's. */
  screening?: Screening;
  now?: () => number;
}

/** Paths never logged: tokens, and the bodies that hold names and numbers. */
const redact = ["req.headers.authorization", "req.headers.cookie"];

/**
 * The composition root: the one place that turns configuration into
 * backends. SQLite or PostgreSQL, in-process bus or NATS, and the verifier.
 */
export async function createContext(
  config: Config,
  overrides: ContextOverrides = {},
): Promise<AppContext> {
  const logger =
    overrides.logger ??
    pino({
      level: config.logLevel,
      redact,
      base: { service: "veil", ...(config.nodeName ? { node: config.nodeName } : {}) },
    });
  const onHookError = (err: unknown) => logger.error({ err }, "after-commit hook failed");
  const database = config.databaseUrl
    ? await openPostgres(config.databaseUrl, config.databaseSchema, onHookError, (err) =>
        logger.warn({ code: (err as { code?: unknown }).code }, "database connection lost"),
      )
    : openSqlite(path.join(config.dataDir, "veil.sqlite"), onHookError);
  let bus: Bus;
  try {
    bus = config.busUrl
      ? await NatsBus.connect(config.busUrl, overrides.busPrefix ?? config.busPrefix)
      : new MemoryBus();
  } catch (error) {
    await database.close();
    throw error;
  }
  const verifier: PhoneVerifier =
    overrides.verifier ?? new ConsoleVerifier(logger.child({ component: "phone-verifier" }));
  return {
    config,
    logger,
    database,
    bus,
    verifier,
    blobs: new FileBlobStore(path.join(config.blobDir ?? path.join(config.dataDir, "blobs"))),
    metrics: new Metrics(),
    screening:
      overrides.screening ??
      new Screening({
        holdAt: config.moderation.holdAt,
        rejectAt: config.moderation.rejectAt,
        imageBlocklist: config.moderation.imageBlocklist,
      }),
    now: overrides.now ?? Date.now,
  };
}

export async function closeContext(context: AppContext): Promise<void> {
  await context.bus.close();
  await context.database.close();
}
