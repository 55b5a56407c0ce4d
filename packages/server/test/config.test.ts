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
