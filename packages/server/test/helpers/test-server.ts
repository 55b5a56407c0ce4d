import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import type { PhoneVerifier } from "../../src/accounts/phone-verifier.js";
import { loadConfig } from "../../src/config.js";
import { createContext } from "../../src/context.js";
import { buildServer, type VeilServer } from "../../src/server.js";
import { type Backend, dropSchema, freshSchema, natsUrl, postgresUrl } from "./backends.js";

/** A real verifier implementation that hands codes to the test instead of an SMS. */
export class CapturingVerifier implements PhoneVerifier {
  readonly codes = new Map<string, string>();
  readonly phones = new Map<string, string>();

  async send(request: { verificationId: string; phone: string; code: string }): Promise<void> {
    this.codes.set(request.verificationId, request.code);
    this.phones.set(request.verificationId, request.phone);
  }
}

/** Raises every rate limit out of reach, for suites that hammer the API on purpose. */
export const noRateLimits: Record<string, string> = {
  VEIL_RATE_LIMIT_PER_MINUTE: "1000000",
  VEIL_LOOKUP_LIMIT_PER_ACCOUNT: "1000000",
  VEIL_LOOKUP_LIMIT_PER_ADDRESS: "1000000",
  VEIL_VERIFICATION_LIMIT_PER_ADDRESS: "1000000",
  VEIL_REPORTS_PER_HOUR: "1000000",
  VEIL_STRANGER_CHATS_PER_DAY: "1000000",
};

export interface TestServer {
  url: string;
  wsUrl: string;
  server: VeilServer;
  verifier: CapturingVerifier;
  backend: Backend;
  /** Stops the server; the storage is dropped unless `keep` is set. */
  close(options?: { keep?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  backend: Backend;
  env?: Record<string, string>;
  /** Share storage (and bus) with another test server. */
  share?: { dataDir?: string; schema?: string; busPrefix?: string };
  bus?: "memory" | "nats";
  /** Collect every log line the server writes (at trace level) here, instead of none. */
  logLines?: string[];
}

/** Starts a real server on a free port with real storage (a fresh schema or data dir). */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = options.share?.dataDir ?? mkdtempSync(path.join(tmpdir(), "veil-test-"));
  const schema = options.share?.schema ?? freshSchema();
  const busPrefix = options.share?.busPrefix ?? `veiltest_${randomBytes(4).toString("hex")}`;
  const env: Record<string, string> = {
    VEIL_HOST: "127.0.0.1",
    VEIL_PORT: "0",
    VEIL_DATA_DIR: dataDir,
    VEIL_LOG_LEVEL: "silent",
    // The welcome page unless a suite serves a web client build of its own.
    VEIL_WEB_DIR: "none",
    ...(options.backend === "postgres"
      ? { VEIL_DATABASE_URL: postgresUrl, VEIL_DATABASE_SCHEMA: schema }
      : {}),
    ...(options.bus === "nats" ? { VEIL_BUS_URL: natsUrl, VEIL_BUS_PREFIX: busPrefix } : {}),
    ...options.env,
  };
  const verifier = new CapturingVerifier();
  const context = await createContext(loadConfig(env), {
    verifier,
    logger: options.logLines
      ? pino(
          { level: "trace" },
          { write: (line: string) => void (options.logLines as string[]).push(line) },
        )
      : pino({ level: "silent" }),
  });
  await context.database.migrate();
  const server = await buildServer(context);
  const url = await server.listen();
  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/v1/ws`,
    server,
    verifier,
    backend: options.backend,
    async close({ keep = false } = {}) {
      await server.close();
      if (keep) return;
      if (options.backend === "postgres") await dropSchema(schema);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
