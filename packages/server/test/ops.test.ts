import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { http, TestUser } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`operations and HTTP safety [${backend}]`, () => {
    let t: TestServer;

    beforeAll(async () => {
      t = await startTestServer({ backend, env: { VEIL_RATE_LIMIT_PER_MINUTE: "200" } });
    });
    afterAll(async () => t?.close());

    it("greets a browser at / with a pointer to the API docs", async () => {
      const r = await http(t.url, "GET", "/");
      expect(r.headers.get("content-type")).toContain("text/html");
      expect(r.body).toContain('href="/docs"');
    });

    it("answers /healthz and /readyz", async () => {
      expect((await http(t.url, "GET", "/healthz")).body).toEqual({ status: "ok" });
      expect((await http(t.url, "GET", "/readyz")).body).toEqual({ status: "ready" });
    });

    it("serves the OpenAPI document with every API route and its schemas", async () => {
      const doc = await http(t.url, "GET", "/docs/json");
      expect(doc.body.openapi).toMatch(/^3\./);
      const paths = Object.keys(doc.body.paths);
      for (const p of [
        "/v1/accounts",
        "/v1/me",
        "/v1/users/{userId}",
        "/v1/lookup/phone",
        "/v1/contacts",
        "/v1/sessions",
        "/v1/devices",
      ]) {
        expect(paths).toContain(p);
      }
      expect(
        doc.body.paths["/v1/accounts"].post.requestBody.content["application/json"].schema.required,
      ).toContain("device");
      expect((await http(t.url, "GET", "/docs")).status).toBeLessThan(400);
    });

    it("sets security headers", async () => {
      const r = await http(t.url, "GET", "/healthz");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(r.headers.get("strict-transport-security")).toBeTruthy();
    });

    it("answers unknown routes, oversized and mistyped bodies with registered codes", async () => {
      expect((await http(t.url, "GET", "/v1/nope")).body.error.code).toBe("route_not_found");
      const huge = await http(t.url, "POST", "/v1/accounts", {
        raw: JSON.stringify({ name: "x".repeat(70_000) }),
        contentType: "application/json",
      });
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe("body_too_large");
      const xml = await http(t.url, "POST", "/v1/accounts", {
        raw: "<a/>",
        contentType: "application/xml",
      });
      expect(xml.body.error.code).toBe("unsupported_media_type");
      const broken = await http(t.url, "POST", "/v1/accounts", {
        raw: "{",
        contentType: "application/json",
      });
      expect(broken.body.error.code).toBe("validation_failed");
    });

    it("counts requests in /metrics by route and status, with no names or numbers in them", async () => {
      const user = await TestUser.register(t.url, {
        name: "Zelda Quartermain",
        phone: "+14155552671",
        verifier: t.verifier,
      });
      await user.request("GET", "/v1/me");
      const metrics = await http(t.url, "GET", "/metrics");
      expect(metrics.body).toContain(
        'veil_http_requests_total{method="GET",route="/v1/me",status="200"}',
      );
      expect(metrics.body).toContain("veil_ws_connections");
      expect(metrics.body).not.toContain("Zelda");
      expect(metrics.body).not.toContain("4155552671");
    });

    it("rate limits each client address across all routes", async () => {
      let limited: { status: number; body: { error: { code: string } } } | null = null;
      for (let i = 0; i < 250 && !limited; i++) {
        const r = await http(t.url, "GET", "/v1/me");
        if (r.status === 429) limited = r;
      }
      expect(limited?.body.error.code).toBe("rate_limited");
      // Health checks are never limited.
      expect((await http(t.url, "GET", "/healthz")).status).toBe(200);
    });

    it("drains on shutdown: /readyz fails first, new requests get shutting_down", async () => {
      const other = await startTestServer({ backend, env: { VEIL_SHUTDOWN_DELAY_MS: "400" } });
      const closing = other.close();
      await new Promise((r) => setTimeout(r, 100));
      const ready = await http(other.url, "GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe("not_ready");
      const refused = await http(other.url, "POST", "/v1/auth/challenges");
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("shutting_down");
      await closing;
    });

    it("reports not ready when the database is gone, and fails requests without internals", async () => {
      const other = await startTestServer({ backend });
      await other.server.context.database.close();
      const r = await http(other.url, "GET", "/readyz");
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("not_ready");
      const failed = await http(other.url, "POST", "/v1/auth/challenges");
      expect(failed.status).toBe(500);
      expect(failed.body).toEqual({
        error: { code: "internal_error", message: "Something went wrong on the server." },
      });
      await other.close();
    });
  });
}
