import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

describe("the web client at /", () => {
  let t: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "veil-web-build-"));
    mkdirSync(path.join(dir, "assets"));
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>Veil</title><div id=root>");
    writeFileSync(path.join(dir, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(path.join(dir, "inbox.html"), "<!doctype html><title>Team inbox</title>");
    t = await startTestServer({ backend: "sqlite", env: { VEIL_WEB_DIR: dir } });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves index.html at / for revalidation, and hashed assets for good", async () => {
    const page = await http(t.url, "GET", "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(String(page.body)).toContain("<div id=root>");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("img-src 'self' data: blob:");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("upgrade-insecure-requests");

    const asset = await http(t.url, "GET", "/assets/index-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
  });

  it("still answers unknown paths, API or not, in the error shape", async () => {
    // The team inbox's page belongs to the business gateway, not to this server.
    for (const url of [
      "/v1/nothing-here",
      "/assets/missing.js",
      "/../package.json",
      "/inbox.html",
    ]) {
      const r = await http(t.url, "GET", url);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("route_not_found");
    }
  });
});
