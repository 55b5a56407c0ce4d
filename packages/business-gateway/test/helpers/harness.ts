import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { VeilClient } from "@veil/sdk/node";
import pino from "pino";
import { Webhook } from "standardwebhooks";
import {
  type Backend,
  dropSchema,
  freshSchema,
  postgresUrl,
} from "../../../server/test/helpers/backends.js";
import type { TestServer } from "../../../server/test/helpers/test-server.js";
import { loadConfig } from "../../src/config.js";
import { createGateway, type Gateway, type GatewayOverrides } from "../../src/gateway.js";
import { standardWebhooksSecret } from "../../src/webhooks/signing.js";

export { eventually, introduce, type Person, person } from "../../../sdk/test/helpers/harness.js";
export { backends } from "../../../server/test/helpers/backends.js";
export { startTestServer, type TestServer } from "../../../server/test/helpers/test-server.js";

export const appSecret = "test-app-secret-0123456789";
export const verifyToken = "test-verify-token";
export const adminKey = "test-admin-key-0123456789abcdef";

let phoneCounter = 5000 + Math.floor(Math.random() * 4000);
const nextPhone = (): string => `+1415556${phoneCounter++}`;

/**
 * The Veil server a gateway talks to: a test server (its verifier hands over the
 * registration code), or any URL, such as a cluster's, with a `register` override.
 */
export type ServerAddress = Pick<TestServer, "url"> & Partial<Pick<TestServer, "verifier">>;

/** Where one business's gateway keeps its state, kept across restarts. */
export interface GatewayPlace {
  backend: Backend;
  dataDir: string;
  schema: string;
  phone: string;
  env: Record<string, string>;
  /** Drops the schema or data dir. */
  dispose(): Promise<void>;
}

export function gatewayPlace(
  t: ServerAddress,
  backend: Backend,
  env: Record<string, string> = {},
): GatewayPlace {
  const dataDir = mkdtempSync(path.join(tmpdir(), "veil-business-"));
  const schema = freshSchema();
  return {
    backend,
    dataDir,
    schema,
    phone: nextPhone(),
    env: {
      VEIL_BUSINESS_SERVER_URL: t.url,
      VEIL_BUSINESS_DATA_DIR: dataDir,
      VEIL_BUSINESS_HOST: "127.0.0.1",
      VEIL_BUSINESS_PORT: "0",
      VEIL_BUSINESS_APP_SECRET: appSecret,
      VEIL_BUSINESS_VERIFY_TOKEN: verifyToken,
      VEIL_BUSINESS_ADMIN_KEY: adminKey,
      VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS: "true",
      VEIL_BUSINESS_NAME: "Acme Support",
      VEIL_BUSINESS_LOG_LEVEL: "silent",
      VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE: "1000000",
      ...(backend === "postgres"
        ? { VEIL_BUSINESS_DATABASE_URL: postgresUrl, VEIL_BUSINESS_DATABASE_SCHEMA: schema }
        : {}),
      ...env,
    },
    async dispose() {
      if (backend === "postgres") await dropSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  userId: string;
  /** Calls the gateway's API. */
  call(
    method: string,
    urlPath: string,
    options?: { key?: string | null; body?: unknown; raw?: string; contentType?: string },
  ): Promise<{ status: number; body: any }>;
}

/** Starts (or restarts) the gateway of a place; its first start registers with a phone code. */
export async function runGateway(
  t: ServerAddress,
  place: GatewayPlace,
  overrides: GatewayOverrides = {},
): Promise<RunningGateway> {
  const gateway = await createGateway(loadConfig(place.env), {
    logger: pino({ level: "silent" }),
    retryPolicy: { baseMs: 50, capMs: 300, windowMs: 60_000, timeoutMs: 2000 },
    pollMs: 50,
    client: { reconnect: { minDelayMs: 50, maxDelayMs: 400 }, keyPackageTarget: 12 },
    register: async (client: VeilClient) => {
      const { verificationId } = await client.requestPhoneVerification(place.phone);
      const code = t.verifier?.codes.get(verificationId);
      if (!code) throw new Error("no verification code captured");
      await client.register({
        name: "Acme Support",
        phone: { verificationId, code },
        deviceName: "business-gateway",
      });
    },
    ...overrides,
  });
  const url = await gateway.listen();
  return {
    gateway,
    url,
    userId: gateway.client.userId as string,
    async call(method, urlPath, options = {}) {
      const key = options.key === undefined ? adminKey : options.key;
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
      const response = await fetch(`${url}${urlPath}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: response.status, body: parsed };
    },
  };
}

export interface Delivery {
  webhookId: string;
  timestamp: number;
  receivedAt: number;
  raw: string;
  body: any;
}

/** What the receiver answers to the next POST: a status, and headers. */
export type Answer = { status: number; headers?: Record<string, string> };

/**
 * A real webhook receiver (node:http) that answers the hub.challenge
 * handshake and checks BOTH signatures of every POST: Standard Webhooks with
 * the standardwebhooks package, X-Hub-Signature-256 with node:crypto.
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  /** POSTs that failed a signature check (must stay empty). */
  readonly forged: string[] = [];
  readonly attempts: Array<{ webhookId: string; at: number; status: number }> = [];
  /** Answers for the next POSTs, in order; then `fallback`. */
  readonly script: Answer[] = [];
  fallback: Answer = { status: 200 };
  private server: http.Server | null = null;
  port = 0;

  constructor(private readonly secret = appSecret) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Unique webhook ids received with a 2xx. */
  ids(): string[] {
    return this.deliveries.map((d) => d.webhookId);
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET") {
      const ok =
        url.searchParams.get("hub.mode") === "subscribe" &&
        url.searchParams.get("hub.verify_token") === verifyToken;
      res.writeHead(ok ? 200 : 403).end(ok ? (url.searchParams.get("hub.challenge") ?? "") : "");
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const header = (name: string) => String(req.headers[name] ?? "");
    const webhookId = header("webhook-id");
    try {
      new Webhook(standardWebhooksSecret(this.secret)).verify(raw, {
        "webhook-id": webhookId,
        "webhook-timestamp": header("webhook-timestamp"),
        "webhook-signature": header("webhook-signature"),
      });
      const expected = Buffer.from(
        `sha256=${createHmac("sha256", this.secret).update(raw).digest("hex")}`,
      );
      const given = Buffer.from(header("x-hub-signature-256"));
      if (expected.length !== given.length || !timingSafeEqual(expected, given))
        throw new Error("x-hub-signature-256 mismatch");
    } catch (error) {
      this.forged.push(`${webhookId}: ${(error as Error).message}`);
      res.writeHead(401).end();
      return;
    }
    const answer = this.script.shift() ?? this.fallback;
    this.attempts.push({ webhookId, at: Date.now(), status: answer.status });
    if (answer.status >= 200 && answer.status < 300)
      this.deliveries.push({
        webhookId,
        timestamp: Number(header("webhook-timestamp")),
        receivedAt: Date.now(),
        raw,
        body: JSON.parse(raw),
      });
    res.writeHead(answer.status, answer.headers ?? {}).end();
  }
}

/** The messages[] of every delivered `messages` payload, flattened. */
export function deliveredMessages(receiver: Receiver): any[] {
  return receiver.deliveries.flatMap((d) =>
    d.body.entry.flatMap((e: any) => e.changes.flatMap((c: any) => c.value.messages ?? [])),
  );
}

export function deliveredStatuses(receiver: Receiver): any[] {
  return receiver.deliveries.flatMap((d) =>
    d.body.entry.flatMap((e: any) => e.changes.flatMap((c: any) => c.value.statuses ?? [])),
  );
}
