import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration from the environment", () => {
  it("has working defaults: port 8080, ./data, SQLite and the in-process bus", () => {
    const config = loadConfig({}, "/srv/veil");
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe("/srv/veil/data");
    expect(config.databaseUrl).toBeNull();
    expect(config.busUrl).toBeNull();
    expect(config.logLevel).toBe("info");
  });

  it("reads every variable", () => {
    const config = loadConfig(
      {
        VEIL_PORT: "9000",
        VEIL_DATA_DIR: "/var/lib/veil",
        VEIL_DATABASE_URL: "postgres://u@db/veil",
        VEIL_DATABASE_SCHEMA: "tenant_1",
        VEIL_BUS_URL: "nats://nats:4222",
        VEIL_TRUST_PROXY: "true",
        VEIL_LOOKUP_LIMIT_PER_ACCOUNT: "5",
      },
      "/",
    );
    expect(config).toMatchObject({
      port: 9000,
      dataDir: "/var/lib/veil",
      databaseUrl: "postgres://u@db/veil",
      databaseSchema: "tenant_1",
      busUrl: "nats://nats:4222",
      trustProxy: true,
      lookupLimitPerAccount: 5,
    });
  });

  it("names every bad value and what it must be, all at once", () => {
    let error: unknown;
    try {
      loadConfig({
        VEIL_PORT: "eighty",
        VEIL_DATABASE_URL: "mysql://x",
        VEIL_BUS_URL: "not a url",
        VEIL_LOG_LEVEL: "loud",
        VEIL_TRUST_PROXY: "maybe",
        VEIL_DATABASE_SCHEMA: "Robert'); drop table",
        VEIL_HEARTBEAT_MS: "-5",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(7);
    expect(problems.join("\n")).toMatch(
      /VEIL_PORT: must be an integer from 0 to 65535 \(got "eighty"\)/,
    );
    for (const name of [
      "VEIL_DATABASE_URL",
      "VEIL_BUS_URL",
      "VEIL_LOG_LEVEL",
      "VEIL_TRUST_PROXY",
      "VEIL_DATABASE_SCHEMA",
      "VEIL_HEARTBEAT_MS",
    ]) {
      expect(
        problems.some((p) => p.startsWith(`${name}:`)),
        name,
      ).toBe(true);
    }
  });

  it("never echoes a database password in an error", () => {
    expect(() => loadConfig({ VEIL_DATABASE_URL: "mysql://user:s3cret@db/x" })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ VEIL_DATABASE_URL: "mysql://user:s3cret@db/x" });
    } catch (e) {
      expect((e as Error).message).not.toContain("s3cret");
    }
  });
});

describe("VEIL_TRUST_PROXY", () => {
  it("accepts false, true, a hop count or a list of proxy addresses", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ VEIL_TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ VEIL_TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ VEIL_TRUST_PROXY: "10.0.0.1, 10.1.0.0/16,::1" }).trustProxy).toEqual([
      "10.0.0.1",
      "10.1.0.0/16",
      "::1",
    ]);
    expect(() => loadConfig({ VEIL_TRUST_PROXY: "maybe" })).toThrow(/VEIL_TRUST_PROXY: must be/);
  });
});

describe("moderation settings", () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it("defaults to holding from 0.5, refusing from 0.85, suspending at 3 strikes in 90 days", () => {
    expect(loadConfig({}).moderation).toEqual({
      holdAt: 0.5,
      rejectAt: 0.85,
      strikesToSuspend: 3,
      strikeWindowDays: 90,
      imageBlocklist: [],
      reportsPerHour: 20,
      reportsToFlag: 3,
      strangerChatsPerDay: 20,
      flaggedStrangerChatsPerDay: 2,
    });
    expect(
      loadConfig({ VEIL_MODERATION_HOLD_AT: "0.4", VEIL_MODERATION_REJECT_AT: "1" }).moderation,
    ).toMatchObject({ holdAt: 0.4, rejectAt: 1 });
  });

  it("refuses bad thresholds at start, each with a line saying what it must be", () => {
    for (const bad of ["1.5", "0", "-0.2", "high", "0.5.1", "50%"]) {
      expect(problemsOf({ VEIL_MODERATION_HOLD_AT: bad })).toEqual([
        `VEIL_MODERATION_HOLD_AT: must be a number above 0 and at most 1, such as 0.5 (got ${JSON.stringify(bad)})`,
      ]);
    }
    expect(problemsOf({ VEIL_MODERATION_REJECT_AT: "2" })[0]).toMatch(
      /^VEIL_MODERATION_REJECT_AT: must be a number above 0 and at most 1/,
    );
    expect(
      problemsOf({ VEIL_MODERATION_HOLD_AT: "0.9", VEIL_MODERATION_REJECT_AT: "0.6" }),
    ).toEqual([
      "VEIL_MODERATION_HOLD_AT: must not be above VEIL_MODERATION_REJECT_AT (got 0.9 > 0.6)",
    ]);
    expect(
      problemsOf({
        VEIL_STRIKES_TO_SUSPEND: "0",
        VEIL_STRIKE_WINDOW_DAYS: "ninety",
        VEIL_STRANGER_CHATS_PER_DAY: "-1",
        VEIL_REPORTS_TO_FLAG: "0",
      }).map((p) => p.split(":")[0]),
    ).toEqual([
      "VEIL_STRIKES_TO_SUSPEND",
      "VEIL_STRIKE_WINDOW_DAYS",
      "VEIL_REPORTS_TO_FLAG",
      "VEIL_STRANGER_CHATS_PER_DAY",
    ]);
  });

  it("reads the image blocklist, and refuses one it cannot read", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "veil-config-"));
    try {
      const good = path.join(dir, "good.txt");
      const digest = "a".repeat(64);
      writeFileSync(good, `# known-bad\n\n${digest.toUpperCase()}  # a comment\n`);
      expect(
        loadConfig({ VEIL_MODERATION_IMAGE_BLOCKLIST: good }).moderation.imageBlocklist,
      ).toEqual([digest]);
      const bad = path.join(dir, "bad.txt");
      writeFileSync(bad, `${digest}\nnot a digest\n`);
      expect(problemsOf({ VEIL_MODERATION_IMAGE_BLOCKLIST: bad })).toEqual([
        "VEIL_MODERATION_IMAGE_BLOCKLIST: line 2 is not a SHA-256 digest in hex (64 hex digits)",
      ]);
      expect(
        problemsOf({ VEIL_MODERATION_IMAGE_BLOCKLIST: path.join(dir, "missing.txt") })[0],
      ).toMatch(/^VEIL_MODERATION_IMAGE_BLOCKLIST: cannot read the file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
