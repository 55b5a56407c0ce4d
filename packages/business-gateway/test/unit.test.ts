import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { derivePhoneNumberId, veilIdOf, wamidOf } from "../src/ids.js";
import { SignInLimiter } from "../src/inbox/agents.js";
import { backoffDelay, defaultRetryPolicy, parseRetryAfter } from "../src/webhooks/retry-policy.js";
import { checkWebhookUrl, isBlockedAddress } from "../src/webhooks/ssrf-guard.js";

const good = {
  VEIL_BUSINESS_SERVER_URL: "http://localhost:8080",
  VEIL_BUSINESS_APP_SECRET: "an-app-secret-of-length",
  VEIL_BUSINESS_VERIFY_TOKEN: "verify-me-please",
  VEIL_BUSINESS_ADMIN_KEY: "an-admin-key-long-enough-000",
};

describe("configuration", () => {
  it("reads a minimal configuration with defaults", () => {
    const config = loadConfig(good);
    expect(config).toMatchObject({
      serverUrl: "http://localhost:8080",
      databaseUrl: null,
      host: "127.0.0.1",
      port: 8090,
      phoneNumberId: null,
      allowPrivateWebhooks: false,
    });
  });

  it("reports one clear line per bad value", () => {
    let error: unknown;
    try {
      loadConfig({
        VEIL_BUSINESS_SERVER_URL: "ftp://x",
        VEIL_BUSINESS_DATABASE_URL: "mysql://db",
        VEIL_BUSINESS_PORT: "99999",
        VEIL_BUSINESS_APP_SECRET: "short",
        VEIL_BUSINESS_PHONE_NUMBER_ID: "12ab",
        VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS: "maybe",
        VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE: "0",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "VEIL_BUSINESS_SERVER_URL must be an http:// or https:// URL",
      "VEIL_BUSINESS_DATABASE_URL must be a postgres:// URL (or unset for SQLite)",
      "VEIL_BUSINESS_PORT must be a port number (0-65535)",
      "VEIL_BUSINESS_APP_SECRET must be at least 16 characters",
      "VEIL_BUSINESS_VERIFY_TOKEN is required",
      "VEIL_BUSINESS_ADMIN_KEY is required",
      "VEIL_BUSINESS_PHONE_NUMBER_ID must be digits only",
      "VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE must be a whole number from 1 to 1000000",
      "VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS must be true or false",
    ]);
  });
});

describe("ids", () => {
  it("turns Veil ids into wamids and back", () => {
    const wamid = wamidOf("m_abc123");
    expect(wamid).toMatch(/^wamid\.[A-Za-z0-9_-]+$/);
    expect(veilIdOf(wamid)).toBe("m_abc123");
    expect(veilIdOf("nope")).toBeNull();
    expect(veilIdOf("wamid.***")).toBeNull();
  });

  it("derives a stable 15-digit phone-number id", () => {
    expect(derivePhoneNumberId("u_1")).toMatch(/^\d{15}$/);
    expect(derivePhoneNumberId("u_1")).toBe(derivePhoneNumberId("u_1"));
    expect(derivePhoneNumberId("u_1")).not.toBe(derivePhoneNumberId("u_2"));
  });
});

describe("the retry schedule", () => {
  it("backs off exponentially with full jitter up to the cap", () => {
    const max = { ...defaultRetryPolicy, random: () => 0.999999 };
    const min = { ...defaultRetryPolicy, random: () => 0 };
    expect(backoffDelay(max, 1)).toBe(9_999);
    expect(backoffDelay(max, 2)).toBe(19_999);
    expect(backoffDelay(max, 20)).toBe(Math.floor(0.999999 * defaultRetryPolicy.capMs));
    expect(backoffDelay(min, 5)).toBe(0);
    expect(defaultRetryPolicy.windowMs).toBe(72 * 3600_000);
  });

  it("reads Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});

describe("the SSRF guard", () => {
  it("blocks private, loopback, link-local, multicast and reserved addresses", () => {
    for (const address of [
      "127.0.0.1",
      "10.0.0.8",
      "172.16.5.4",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.251",
      "255.255.255.255",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
    ])
      expect(isBlockedAddress(address), address).toBe(true);
    for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
      expect(isBlockedAddress(address), address).toBe(false);
  });

  it("refuses 127.0.0.1 and 10.x unless private webhooks are allowed", async () => {
    await expect(checkWebhookUrl("http://127.0.0.1:8080/hook", false)).rejects.toThrow(/private/);
    await expect(checkWebhookUrl("http://10.2.3.4/hook", false)).rejects.toThrow(/private/);
    await expect(checkWebhookUrl("http://localhost/hook", false)).rejects.toThrow();
    expect((await checkWebhookUrl("http://127.0.0.1:8080/hook", true)).port).toBe("8080");
    expect((await checkWebhookUrl("http://10.2.3.4/hook", true)).hostname).toBe("10.2.3.4");
    await expect(checkWebhookUrl("http://user:pw@8.8.8.8/", false)).rejects.toThrow(/credentials/);
    await expect(checkWebhookUrl("http://93.184.216.34/hook", false)).resolves.toBeInstanceOf(URL);
  });
});

describe("the sign-in limiter", () => {
  it("blocks an email after its failures, forgets them after the window, and stays bounded", () => {
    const limiter = new SignInLimiter(2, 60_000, 3);
    limiter.fail("a@x", 0);
    expect(limiter.blocked("a@x", 1)).toBe(false);
    limiter.fail("a@x", 1);
    expect(limiter.blocked("a@x", 2)).toBe(true);
    expect(limiter.blocked("a@x", 60_002)).toBe(false);
    for (const email of ["a@x", "b@x", "c@x", "d@x"]) {
      limiter.fail(email, 100_000);
      limiter.fail(email, 100_001);
    }
    // Four emails failed but three are tracked: the least recently failed is forgotten.
    expect(limiter.blocked("a@x", 100_002)).toBe(false);
    expect(limiter.blocked("d@x", 100_002)).toBe(true);
  });
});
