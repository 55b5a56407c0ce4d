import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Every VEIL_BUSINESS_* setting, validated once at start. */
export interface GatewayConfig {
  /** The Veil server the business is a client of. */
  serverUrl: string;
  /** Device keys (the SDK's file store) and the SQLite file live here. */
  dataDir: string;
  /** `postgres://…`, or null for SQLite in the data dir. */
  databaseUrl: string | null;
  /** The PostgreSQL schema that holds the gateway's tables. */
  databaseSchema: string;
  host: string;
  port: number;
  /** Requests per minute per caller (bearer token, else address) before 429. */
  rateLimitPerMinute: number;
  /** HMAC key of X-Hub-Signature-256, and the source of the Standard Webhooks secret. */
  appSecret: string;
  /** Sent as hub.verify_token in the subscription handshake. */
  verifyToken: string;
  /** The id in the Cloud API paths; null: derived from the business's Veil user id. */
  phoneNumberId: string | null;
  allowPrivateWebhooks: boolean;
  /** The bootstrap key of the /admin routes. */
  adminKey: string;
  /** The name (and optional username) the business registers with on first run. */
  businessName: string;
  businessUsername: string | null;
  logLevel: string;
  /** The web client's build, whose inbox.html is served at /inbox/; null: none. */
  webDir: string | null;
}

/** Thrown with one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads and validates the configuration from the environment.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const required = (name: string, check?: (v: string) => string | null): string => {
    const value = text(name);
    if (value === undefined) {
      problems.push(`${name} is required`);
      return "";
    }
    const problem = check?.(value) ?? null;
    if (problem) problems.push(`${name} ${problem}`);
    return value;
  };
  const httpUrl = (v: string): string | null => {
    try {
      const url = new URL(v);
      return url.protocol === "http:" || url.protocol === "https:"
        ? null
        : "must be an http:// or https:// URL";
    } catch {
      return "must be an http:// or https:// URL";
    }
  };
  const minLength = (n: number) => (v: string) =>
    v.length >= n ? null : `must be at least ${n} characters`;

  const serverUrl = required("VEIL_BUSINESS_SERVER_URL", httpUrl).replace(/\/+$/, "");
  const dataDir = path.resolve(text("VEIL_BUSINESS_DATA_DIR") ?? "./business-data");

  const databaseUrl = text("VEIL_BUSINESS_DATABASE_URL") ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push("VEIL_BUSINESS_DATABASE_URL must be a postgres:// URL (or unset for SQLite)");
  const databaseSchema = text("VEIL_BUSINESS_DATABASE_SCHEMA") ?? "veil_business";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema))
    problems.push("VEIL_BUSINESS_DATABASE_SCHEMA must be a lowercase identifier");

  const host = text("VEIL_BUSINESS_HOST") ?? "127.0.0.1";
  const portText = text("VEIL_BUSINESS_PORT") ?? "8090";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    problems.push("VEIL_BUSINESS_PORT must be a port number (0-65535)");

  const appSecret = required("VEIL_BUSINESS_APP_SECRET", minLength(16));
  const verifyToken = required("VEIL_BUSINESS_VERIFY_TOKEN", minLength(8));
  const adminKey = required("VEIL_BUSINESS_ADMIN_KEY", minLength(24));

  const phoneNumberId = text("VEIL_BUSINESS_PHONE_NUMBER_ID") ?? null;
  if (phoneNumberId !== null && !/^\d{1,30}$/.test(phoneNumberId))
    problems.push("VEIL_BUSINESS_PHONE_NUMBER_ID must be digits only");

  const rateText = text("VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE") ?? "600";
  const rateLimitPerMinute = Number(rateText);
  if (!/^\d+$/.test(rateText) || rateLimitPerMinute < 1 || rateLimitPerMinute > 1_000_000)
    problems.push("VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE must be a whole number from 1 to 1000000");

  const allowText = (text("VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS") ?? "false").toLowerCase();
  if (!["true", "false", "1", "0"].includes(allowText))
    problems.push("VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS must be true or false");
  const allowPrivateWebhooks = allowText === "true" || allowText === "1";

  const businessName = text("VEIL_BUSINESS_NAME") ?? "Business";
  if (businessName.length > 64) problems.push("VEIL_BUSINESS_NAME must be at most 64 characters");
  const businessUsername = text("VEIL_BUSINESS_USERNAME") ?? null;
  if (businessUsername !== null && !/^[a-z0-9_]{3,32}$/.test(businessUsername))
    problems.push("VEIL_BUSINESS_USERNAME must be 3-32 of a-z, 0-9 and _");

  const logLevel = text("VEIL_BUSINESS_LOG_LEVEL") ?? "info";
  if (!logLevels.includes(logLevel))
    problems.push(`VEIL_BUSINESS_LOG_LEVEL must be one of ${logLevels.join(", ")}`);

  // VEIL_BUSINESS_WEB_DIR: a build of apps/web, `none`, or (unset) the one beside this package.
  const webText = text("VEIL_BUSINESS_WEB_DIR");
  const webDir =
    webText === "none"
      ? null
      : webText !== undefined
        ? path.resolve(webText)
        : fileURLToPath(new URL("../../../apps/web/dist", import.meta.url));
  if (webText !== undefined && webText !== "none" && webDir && !fs.existsSync(webDir))
    problems.push("VEIL_BUSINESS_WEB_DIR must be a directory (a build of apps/web) or none");

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    serverUrl,
    dataDir,
    databaseUrl,
    databaseSchema,
    host,
    port,
    rateLimitPerMinute,
    appSecret,
    verifyToken,
    phoneNumberId,
    allowPrivateWebhooks,
    adminKey,
    businessName,
    businessUsername,
    logLevel,
    webDir,
  };
}
