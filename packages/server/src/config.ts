import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** PostgreSQL connection string; SQLite under dataDir when absent. */
  databaseUrl: string | null;
  /** PostgreSQL schema to use (one per test suite, or per deployment). */
  databaseSchema: string;
  /** NATS server URL; the in-process bus when absent. */
  busUrl: string | null;
  /** Subject prefix on NATS: deployments sharing one NATS server keep apart by it. */
  busPrefix: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** This node's name in its log lines, to tell a cluster's nodes apart (`VEIL_NODE_NAME`). */
  nodeName: string | null;
  /**
   * Which proxies to believe about the client address (X-Forwarded-For):
   * false, a hop count, or a list of proxy addresses and CIDR ranges.
   */
  trustProxy: boolean | number | string[];
  /** Requests per minute per client address, all routes together. */
  rateLimitPerMinute: number;
  /** Phone lookups per hour, per account and per client address. */
  lookupLimitPerAccount: number;
  lookupLimitPerAddress: number;
  /** Phone verification codes sent per hour per client address. */
  verificationLimitPerAddress: number;
  bodyLimitBytes: number;
  photoLimitBytes: number;
  /** Largest encrypted attachment accepted. */
  blobLimitBytes: number;
  /** Where attachments are stored; a shared volume when several nodes run. */
  blobDir: string | null;
  wsMaxBufferedBytes: number;
  wsMaxFrameBytes: number;
  heartbeatMs: number;
  authTimeoutMs: number;
  /** On SIGTERM: how long /readyz fails before the server stops listening. */
  shutdownDelayMs: number;
  phoneVerifier: "console";
  /** Community limits: groups per community, members per group, announcement group members. */
  limits: CommunityLimits;
  /** How long channel posts are kept. */
  channelRetentionDays: number;
  /** Largest public file an admin uploads to a channel. */
  channelMediaLimitBytes: number;
  /** The built web client served at `/`; null serves a welcome page instead. */
  webDir: string | null;
  /** STUN and TURN servers handed to calls (none: direct connections only). */
  ice: IceConfig;
  /** Content guidelines enforcement: thresholds, strikes, reports, account abuse. */
  moderation: ModerationConfig;
}

/** The `VEIL_MODERATION_*`, strike, report and stranger-chat settings. */
export interface ModerationConfig {
  /** A guideline finding scoring at least this is held for review (0 to 1). */
  holdAt: number;
  /** A guideline finding scoring at least this is refused (`content_rejected`); not below `holdAt`. */
  rejectAt: number;
  /** This many active strikes within the window suspend a channel. */
  strikesToSuspend: number;
  strikeWindowDays: number;
  /** SHA-256 digests (lowercase hex) of known-bad images, read from `VEIL_MODERATION_IMAGE_BLOCKLIST`. */
  imageBlocklist: string[];
  /** Reports one account may send per hour. */
  reportsPerHour: number;
  /** Distinct reporters within 7 days that flag an account for review. */
  reportsToFlag: number;
  /** Chats a day an account may start with people who do not have it as a contact. */
  strangerChatsPerDay: number;
  /** The same, for an account flagged for review, until a moderator clears it. */
  flaggedStrangerChatsPerDay: number;
}

/** Where calls find STUN and TURN servers (`VEIL_ICE_URLS`, `VEIL_TURN_SECRET`). */
export interface IceConfig {
  urls: string[];
  /** coturn's `static-auth-secret`: TURN credentials are derived from it, per request. */
  turnSecret: string | null;
  turnTtlSeconds: number;
}

export interface CommunityLimits {
  groups: number;
  groupMembers: number;
  announcementMembers: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration from environment variables. Every bad value is
 * reported, each with the variable's name and what it must be.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(
        `${name}: must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`,
      );
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}: must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return raw as T;
  };
  const fraction = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^(0|1)?(\.\d+)?$/.test(raw.trim()) || !(value > 0 && value <= 1)) {
      problems.push(
        `${name}: must be a number above 0 and at most 1, such as 0.5 (got ${JSON.stringify(raw)})`,
      );
      return fallback;
    }
    return value;
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = env[name];
    if (raw === undefined || raw === "") return null;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error("protocol");
      return raw;
    } catch {
      problems.push(
        `${name}: must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
      );
      return null;
    }
  };

  const schema = env.VEIL_DATABASE_SCHEMA || "public";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    problems.push(
      `VEIL_DATABASE_SCHEMA: must be a lowercase SQL identifier (got ${JSON.stringify(schema)})`,
    );
  }

  if (env.VEIL_BUS_PREFIX && !/^[A-Za-z0-9_-]{1,64}$/.test(env.VEIL_BUS_PREFIX)) {
    problems.push(`VEIL_BUS_PREFIX: must be 1 to 64 letters, digits, '-' or '_'`);
  }
  if (env.VEIL_NODE_NAME && !/^[A-Za-z0-9_.-]{1,64}$/.test(env.VEIL_NODE_NAME)) {
    problems.push(`VEIL_NODE_NAME: must be 1 to 64 letters, digits, '.', '-' or '_'`);
  }

  const config: Config = {
    host: env.VEIL_HOST || "0.0.0.0",
    port: int("VEIL_PORT", 8080, 0, 65535),
    dataDir: path.resolve(cwd, env.VEIL_DATA_DIR || "data"),
    databaseUrl: url("VEIL_DATABASE_URL", ["postgres:", "postgresql:"]),
    databaseSchema: schema,
    busUrl: url("VEIL_BUS_URL", ["nats:", "tls:"]),
    busPrefix: env.VEIL_BUS_PREFIX || "veil",
    nodeName: env.VEIL_NODE_NAME || null,
    logLevel: oneOf("VEIL_LOG_LEVEL", "info", [
      "fatal",
      "error",
      "warn",
      "info",
      "debug",
      "trace",
      "silent",
    ]),
    trustProxy: trustProxy(env.VEIL_TRUST_PROXY, problems),
    rateLimitPerMinute: int("VEIL_RATE_LIMIT_PER_MINUTE", 600, 1, 1_000_000),
    lookupLimitPerAccount: int("VEIL_LOOKUP_LIMIT_PER_ACCOUNT", 30, 1, 1_000_000),
    lookupLimitPerAddress: int("VEIL_LOOKUP_LIMIT_PER_ADDRESS", 120, 1, 1_000_000),
    verificationLimitPerAddress: int("VEIL_VERIFICATION_LIMIT_PER_ADDRESS", 20, 1, 1_000_000),
    bodyLimitBytes: int("VEIL_BODY_LIMIT_BYTES", 64 * 1024, 1024, 64 * 1024 * 1024),
    photoLimitBytes: int("VEIL_PHOTO_LIMIT_BYTES", 1024 * 1024, 1024, 16 * 1024 * 1024),
    blobLimitBytes: int("VEIL_BLOB_LIMIT_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    blobDir: env.VEIL_BLOB_DIR ? path.resolve(cwd, env.VEIL_BLOB_DIR) : null,
    wsMaxBufferedBytes: int("VEIL_WS_MAX_BUFFERED_BYTES", 1024 * 1024, 1024, 256 * 1024 * 1024),
    wsMaxFrameBytes: int("VEIL_WS_MAX_FRAME_BYTES", 64 * 1024, 256, 16 * 1024 * 1024),
    // Presence goes stale after 90 s without a heartbeat: keep beats well inside that.
    heartbeatMs: int("VEIL_HEARTBEAT_MS", 30_000, 100, 60_000),
    authTimeoutMs: int("VEIL_AUTH_TIMEOUT_MS", 10_000, 100, 600_000),
    shutdownDelayMs: int("VEIL_SHUTDOWN_DELAY_MS", 0, 0, 60_000),
    limits: {
      groups: int("VEIL_COMMUNITY_MAX_GROUPS", 100, 1, 10_000),
      groupMembers: int("VEIL_GROUP_MAX_MEMBERS", 1024, 2, 100_000),
      announcementMembers: int("VEIL_ANNOUNCEMENT_MAX_MEMBERS", 5000, 2, 1_000_000),
    },
    channelRetentionDays: int("VEIL_CHANNEL_RETENTION_DAYS", 30, 1, 3650),
    channelMediaLimitBytes: int(
      "VEIL_CHANNEL_MEDIA_LIMIT_BYTES",
      16 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
    ),
    phoneVerifier: oneOf("VEIL_PHONE_VERIFIER", "console", ["console"] as const),
    webDir: webDir(env.VEIL_WEB_DIR, cwd),
    ice: {
      urls: iceUrls(env.VEIL_ICE_URLS, problems),
      turnSecret: env.VEIL_TURN_SECRET || null,
      turnTtlSeconds: int("VEIL_TURN_TTL_SECONDS", 86_400, 60, 30 * 86_400),
    },
    moderation: {
      holdAt: fraction("VEIL_MODERATION_HOLD_AT", 0.5),
      rejectAt: fraction("VEIL_MODERATION_REJECT_AT", 0.85),
      strikesToSuspend: int("VEIL_STRIKES_TO_SUSPEND", 3, 1, 1000),
      strikeWindowDays: int("VEIL_STRIKE_WINDOW_DAYS", 90, 1, 3650),
      imageBlocklist: imageBlocklist(env.VEIL_MODERATION_IMAGE_BLOCKLIST, cwd, problems),
      reportsPerHour: int("VEIL_REPORTS_PER_HOUR", 20, 1, 1_000_000),
      reportsToFlag: int("VEIL_REPORTS_TO_FLAG", 3, 1, 1000),
      strangerChatsPerDay: int("VEIL_STRANGER_CHATS_PER_DAY", 20, 1, 1_000_000),
      flaggedStrangerChatsPerDay: int("VEIL_FLAGGED_STRANGER_CHATS_PER_DAY", 2, 0, 1_000_000),
    },
  };
  const { holdAt, rejectAt } = config.moderation;
  if (holdAt > rejectAt) {
    problems.push(
      `VEIL_MODERATION_HOLD_AT: must not be above VEIL_MODERATION_REJECT_AT (got ${holdAt} > ${rejectAt})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * VEIL_MODERATION_IMAGE_BLOCKLIST: a file of SHA-256 digests of known-bad
 * images, one lowercase or uppercase hex digest a line (blank lines and `#`
 * comments ignored). Read once at start: a bad line stops the server rather
 * than letting a list it cannot read go unenforced.
 */
function imageBlocklist(raw: string | undefined, cwd: string, problems: string[]): string[] {
  if (raw === undefined || raw === "") return [];
  const name = "VEIL_MODERATION_IMAGE_BLOCKLIST";
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, raw), "utf8");
  } catch {
    problems.push(`${name}: cannot read the file ${JSON.stringify(raw)}`);
    return [];
  }
  const digests: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    const entry = line.replace(/#.*$/, "").trim();
    if (entry === "") continue;
    if (!/^[0-9a-fA-F]{64}$/.test(entry)) {
      problems.push(`${name}: line ${i + 1} is not a SHA-256 digest in hex (64 hex digits)`);
      return [];
    }
    digests.push(entry.toLowerCase());
  }
  return digests;
}

/** VEIL_ICE_URLS: a comma list of `stun:`, `turn:` or `turns:` URLs. */
function iceUrls(raw: string | undefined, problems: string[]): string[] {
  const urls = (raw ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!/^(stun|turn|turns):[^\s,]+$/.test(url)) {
      problems.push(
        `VEIL_ICE_URLS: each entry must start with stun:, turn: or turns: (got ${JSON.stringify(url)})`,
      );
    }
  }
  return urls;
}

/** VEIL_WEB_DIR: a directory, `none`, or (unset) the web client built beside this package. */
function webDir(raw: string | undefined, cwd: string): string | null {
  if (raw === "none") return null;
  if (raw) return path.resolve(cwd, raw);
  return fileURLToPath(new URL("../../../apps/web/dist", import.meta.url));
}

/**
 * VEIL_TRUST_PROXY: "false" (default), a number of proxy hops, or a comma list
 * of proxy addresses or CIDRs. "true" trusts the left-most X-Forwarded-For
 * entry, which a client can forge through a proxy that appends: allowed, but
 * a hop count or an address list is the safe choice.
 */
function trustProxy(raw: string | undefined, problems: string[]): boolean | number | string[] {
  if (raw === undefined || raw === "" || ["0", "false", "no"].includes(raw)) return false;
  if (["true", "yes"].includes(raw)) return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  const list = raw.split(",").map((part) => part.trim());
  if (list.every((part) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part))) return list;
  problems.push(
    `VEIL_TRUST_PROXY: must be false, true, a hop count, or a comma list of proxy addresses/CIDRs (got ${JSON.stringify(raw)})`,
  );
  return false;
}
