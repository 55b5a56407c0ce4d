import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  type GatewayPlace,
  gatewayPlace,
  type RunningGateway,
  runGateway,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

/** Every answer here is a Cloud API error: 4xx, the Graph shape, the expected code. */
function expectCloudError(res: { status: number; body: any }, code: number, status?: number): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: expect.objectContaining({
      message: expect.any(String),
      type: "OAuthException",
      code,
      fbtrace_id: expect.any(String),
    }),
  });
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`the REST API's keys and bad input (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let sendKey: string;
    let hooksKey: string;
    let path: string;
    const text = (to: string) => ({
      messaging_product: "whatsapp",
      to,
      type: "text",
      text: { body: "hi" },
    });

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend, { VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS: "false" });
      gw = await runGateway(t, place);
      path = `/v21.0/${gw.gateway.phoneNumberId}/messages`;
    });

    afterAll(async () => {
      await gw?.gateway.close();
      await place?.dispose();
      await t?.close();
    });

    it("creates scoped keys, shows each once, stores only its hash", async () => {
      const created = await gw.call("POST", "/admin/api-keys", {
        body: { name: "crm", scopes: ["messages:send"] },
      });
      expect(created.status).toBe(201);
      sendKey = created.body.key;
      expect(sendKey).toMatch(/^vbk_/);
      const hooks = await gw.call("POST", "/admin/api-keys", {
        body: { name: "ops", scopes: ["webhooks:manage"] },
      });
      hooksKey = hooks.body.key;
      const list = await gw.call("GET", "/admin/api-keys");
      expect(list.body.keys.map((k: { name: string }) => k.name)).toEqual(["crm", "ops"]);
      expect(JSON.stringify(list.body)).not.toContain(sendKey);
      const rows = await gw.gateway.database.db.selectFrom("api_keys").selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(sendKey);
      expectCloudError(
        await gw.call("POST", "/admin/api-keys", { body: { name: "x", scopes: ["root"] } }),
        131009,
        400,
      );
      expectCloudError(
        await gw.call("POST", "/admin/api-keys", { body: { scopes: ["messages:send"] } }),
        131008,
        400,
      );
    });

    it("refuses missing, wrong, revoked and under-scoped keys", async () => {
      expectCloudError(await gw.call("POST", path, { key: null, body: text("u_x") }), 190, 401);
      expectCloudError(
        await gw.call("POST", path, { key: "vbk_wrong", body: text("u_x") }),
        190,
        401,
      );
      expectCloudError(await gw.call("POST", path, { key: hooksKey, body: text("u_x") }), 10, 403);
      expectCloudError(await gw.call("GET", "/admin/api-keys", { key: sendKey }), 10, 403);
      expectCloudError(await gw.call("GET", "/admin/webhooks", { key: sendKey }), 10, 403);
      expect((await gw.call("GET", "/admin/webhooks", { key: hooksKey })).status).toBe(200);
      expectCloudError(await gw.call("GET", "/admin/api-keys", { key: null }), 190, 401);

      const temp = await gw.call("POST", "/admin/api-keys", {
        body: { name: "temp", scopes: ["messages:send"] },
      });
      // A valid key gets past auth (to an unknown recipient: 131026, not 190).
      expectCloudError(
        await gw.call("POST", path, { key: temp.body.key, body: text("u_nobody") }),
        131026,
      );
      expect((await gw.call("DELETE", `/admin/api-keys/${temp.body.id}`)).status).toBe(200);
      expectCloudError(
        await gw.call("POST", path, { key: temp.body.key, body: text("u_x") }),
        190,
        401,
      );
      expectCloudError(await gw.call("DELETE", "/admin/api-keys/key_unknown"), 131009, 400);
    });

    it("answers bad paths and bodies with Cloud API errors, never a 5xx", async () => {
      const id = gw.gateway.phoneNumberId;
      for (const version of ["v21", "21.0", "latest", "v21.0.1"])
        expectCloudError(
          await gw.call("POST", `/${version}/${id}/messages`, { key: sendKey, body: text("u_x") }),
          2500,
          400,
        );
      const unknownId = await gw.call("POST", "/v21.0/123456789012345/messages", {
        key: sendKey,
        body: text("u_x"),
      });
      expectCloudError(unknownId, 100, 400);
      expect(unknownId.body.error.error_subcode).toBe(33);
      expectCloudError(await gw.call("GET", "/v21.0/nothing/here", { key: sendKey }), 2500, 400);

      const call = (body: unknown) => gw.call("POST", path, { key: sendKey, body });
      expectCloudError(await gw.call("POST", path, { key: sendKey, raw: "{not json" }), 100);
      expectCloudError(await gw.call("POST", path, { key: sendKey, raw: "" }), 100);
      expectCloudError(
        await gw.call("POST", path, { key: sendKey, raw: "to=x", contentType: "text/plain" }),
        100,
      );
      expectCloudError(await call([1, 2]), 100);
      expectCloudError(await call("text"), 100);
      expectCloudError(await call({ to: "u_x", type: "text", text: { body: "hi" } }), 131008);
      expectCloudError(await call({ ...text("u_x"), messaging_product: "sms" }), 131009);
      expectCloudError(
        await call({ messaging_product: "whatsapp", type: "text", text: { body: "x" } }),
        131008,
      );
      expectCloudError(
        await call({ messaging_product: "whatsapp", to: "u_x", type: "text" }),
        131008,
      );
      expectCloudError(await call({ ...text("u_x"), text: { body: "" } }), 131009);
      expectCloudError(await call({ ...text("u_x"), text: { body: { a: 1 } } }), 131009);
      expectCloudError(await call({ ...text("u_x"), text: { body: "x".repeat(5000) } }), 131009);
      expectCloudError(await call({ ...text("u_x"), type: "location" }), 131051);
      expectCloudError(await call({ ...text("u_x"), type: "image", image: { link: "x" } }), 131009);
      expectCloudError(await call({ ...text("u_x"), context: { message_id: "nope" } }), 131026);
      expectCloudError(
        await call({ messaging_product: "whatsapp", to: "u_x", type: "reaction" }),
        131008,
      );
      expectCloudError(
        await call({ messaging_product: "whatsapp", status: "read", message_id: "wamid.bm9wZQ" }),
        131009,
      );
      expectCloudError(await call({ messaging_product: "whatsapp", status: "read" }), 131008);
      expectCloudError(
        await call({ messaging_product: "whatsapp", status: "unread", message_id: "x" }),
        131009,
      );
      expectCloudError(await call(text("u_does_not_exist")), 131026);
    });

    it("refuses private, loopback and link-local webhook URLs (the SSRF guard)", async () => {
      for (const url of [
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://224.0.0.1/hook",
        "ftp://example.com/hook",
        "not a url",
      ]) {
        const res = await gw.call("POST", "/admin/webhooks", { key: hooksKey, body: { url } });
        expectCloudError(res, 131009, 400);
      }
      expect((await gw.call("GET", "/admin/webhooks")).body.endpoints).toEqual([]);
    });
  });
}

describe("the rate limit, per caller", () => {
  let t: TestServer;
  let place: GatewayPlace;
  let gw: RunningGateway;

  beforeAll(async () => {
    t = await startTestServer({ backend: "sqlite" });
    place = gatewayPlace(t, "sqlite", { VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE: "3" });
    gw = await runGateway(t, place);
  });

  afterAll(async () => {
    await gw?.gateway.close();
    await place?.dispose();
    await t?.close();
  });

  it("answers the Cloud API's 429 (code 4) with Retry-After past the budget; other callers go on", async () => {
    const created = await gw.call("POST", "/admin/api-keys", {
      body: { name: "crm", scopes: ["messages:send"] },
    });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    for (let i = 0; i < 3; i++)
      expect((await gw.call("GET", "/admin/api-keys", { key })).status).toBe(403);
    const limited = await fetch(`${gw.url}/admin/api-keys`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await limited.json()).error).toMatchObject({ code: 4, type: "OAuthException" });
    // The admin key has a budget of its own (one call spent above), and /healthz none.
    expect((await gw.call("GET", "/admin/api-keys")).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await gw.call("GET", "/healthz")).status).toBe(200);
  });
});
