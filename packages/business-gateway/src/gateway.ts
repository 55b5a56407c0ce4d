import fs from "node:fs";
import path from "node:path";
import { VeilClient } from "@veil/sdk";
import { FileStore, nodeWebSocket } from "@veil/sdk/node";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { BusinessEndpoint } from "./business-endpoint.js";
import type { GatewayConfig } from "./config.js";
import { buildHttpApi } from "./http-api.js";
import { derivePhoneNumberId } from "./ids.js";
import { Inbox } from "./inbox/index.js";
import { insightsHook } from "./insights.js";
import { MediaStore } from "./media/media-store.js";
import { type Database, openPostgres, openSqlite } from "./store/database.js";
import { registerWebRoutes } from "./web.js";
import { DeliveryWorker } from "./webhooks/delivery-worker.js";
import { defaultRetryPolicy, type RetryPolicy } from "./webhooks/retry-policy.js";
import { WebhookSigner } from "./webhooks/signing.js";

/** What tests (and embedders) may replace; everything else comes from the config. */
export interface GatewayOverrides {
  logger?: Logger;
  retryPolicy?: Partial<RetryPolicy>;
  /** How often the delivery worker looks for due retries (1 s). */
  pollMs?: number;
  /**
   * Registers the business's account on first run (default: the configured
   * name and username). Tests register with a phone code from their verifier.
   */
  register?: (client: VeilClient) => Promise<void>;
  /** Extra options for the SDK client (reconnect delays in tests). */
  client?: { reconnect?: { minDelayMs: number; maxDelayMs: number }; keyPackageTarget?: number };
}

export interface Gateway {
  readonly database: Database;
  readonly client: VeilClient;
  readonly endpoint: BusinessEndpoint;
  readonly worker: DeliveryWorker;
  /** The team inbox (its intent model feeds the insights). */
  readonly inbox: Inbox;
  readonly phoneNumberId: string;
  readonly http: FastifyInstance;
  /** Listens on the configured host and port; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The composition root: opens the database (PostgreSQL or SQLite from the
 * config), the business's Veil device (the SDK's file store in the data dir,
 * registering on first run), the delivery worker and the HTTP API.
 */
export async function createGateway(
  config: GatewayConfig,
  overrides: GatewayOverrides = {},
): Promise<Gateway> {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  fs.mkdirSync(config.dataDir, { recursive: true });
  const database = config.databaseUrl
    ? await openPostgres(config.databaseUrl, config.databaseSchema)
    : openSqlite(path.join(config.dataDir, "gateway.sqlite"));
  let client: VeilClient | undefined;
  try {
    await database.migrate();
    const store = await FileStore.open(path.join(config.dataDir, "device"));
    const sdkLogger = logger.child({ component: "sdk" });
    client = await VeilClient.open({
      serverUrl: config.serverUrl,
      store,
      webSocket: nodeWebSocket,
      logger: {
        debug: (fields, message) => sdkLogger.debug(fields, message),
        warn: (fields, message) => sdkLogger.warn(fields, message),
      },
      ...(overrides.client ?? {}),
    });
    if (!client.registered) {
      if (overrides.register) await overrides.register(client);
      else
        await client.register({
          name: config.businessName,
          ...(config.businessUsername ? { username: config.businessUsername } : {}),
          deviceName: "business-gateway",
        });
      logger.info({ userId: client.userId }, "registered the business's account");
    }
    const userId = client.userId as string;
    const phoneNumberId = config.phoneNumberId ?? derivePhoneNumberId(userId);
    const policy: RetryPolicy = { ...defaultRetryPolicy, ...overrides.retryPolicy };
    const worker = new DeliveryWorker(database, new WebhookSigner(config.appSecret), policy, {
      pollMs: overrides.pollMs ?? 1000,
      allowPrivate: config.allowPrivateWebhooks,
      logger: logger.child({ component: "webhooks" }),
    });
    const inbox = await Inbox.open(database, config.adminKey);
    const endpoint = new BusinessEndpoint(
      client,
      database,
      { display_phone_number: phoneNumberId, phone_number_id: phoneNumberId },
      {
        logger: logger.child({ component: "endpoint" }),
        onEnqueued: () => worker.wake(),
        hooks: {
          stored: inbox.stored,
          insights: insightsHook(database, () => inbox.getIntentModel()),
        },
        media: new MediaStore(database, path.join(config.dataDir, "media")),
      },
    );
    // Listen before connecting, so what the catch-up brings is stored too.
    endpoint.attach();
    await client.start();
    await endpoint.reconcile();
    worker.start();
    const http = await buildHttpApi({
      database,
      endpoint,
      worker,
      inbox,
      phoneNumberId,
      adminKey: config.adminKey,
      verifyToken: config.verifyToken,
      allowPrivateWebhooks: config.allowPrivateWebhooks,
      handshakeTimeoutMs: policy.timeoutMs,
      rateLimitPerMinute: config.rateLimitPerMinute,
      logger,
    });
    await registerWebRoutes(http, { dir: config.webDir });
    const veil = client;
    let closed: Promise<void> | null = null;
    return {
      database,
      client: veil,
      endpoint,
      worker,
      inbox,
      phoneNumberId,
      http,
      async listen() {
        return http.listen({ host: config.host, port: config.port });
      },
      close() {
        closed ??= (async () => {
          await http.close();
          await worker.stop();
          await veil.stop();
          await endpoint.drain();
          endpoint.detach();
          await veil.close();
          await database.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    await client?.close().catch(() => undefined);
    await database.close();
    throw error;
  }
}
