import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { http, TestUser } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

describe("ICE servers for calls", () => {
  let plain: TestServer;
  let withTurn: TestServer;
  const secret = "coturn-static-auth-secret";

  beforeAll(async () => {
    plain = await startTestServer({ backend: "sqlite" });
    withTurn = await startTestServer({
      backend: "sqlite",
      env: {
        VEIL_ICE_URLS: "stun:turn.example.test:3478, turn:turn.example.test:3478?transport=udp",
        VEIL_TURN_SECRET: secret,
        VEIL_TURN_TTL_SECONDS: "3600",
      },
    });
  });
  afterAll(async () => {
    await plain?.close();
    await withTurn?.close();
  });

  it("hands out none by default: calls connect directly", async () => {
    const user = await TestUser.register(plain.url, { name: "Ann" });
    const r = await user.request("GET", "/v1/calls/ice-servers");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ iceServers: [], expiresAt: null });
    expect((await http(plain.url, "GET", "/v1/calls/ice-servers")).status).toBe(401);
  });

  it("hands out STUN, and TURN with time-limited credentials coturn can check", async () => {
    const user = await TestUser.register(withTurn.url, { name: "Ben" });
    const before = Math.floor(Date.now() / 1000);
    const r = await user.request("GET", "/v1/calls/ice-servers");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const [stun, turn] = r.body.iceServers;
    expect(stun).toEqual({ urls: ["stun:turn.example.test:3478"] });
    expect(turn.urls).toEqual(["turn:turn.example.test:3478?transport=udp"]);
    const [expiry, random] = String(turn.username).split(":");
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    // No user id in the TURN name: the TURN server's logs learn nobody.
    expect(random).not.toContain(user.id);
    expect(turn.credential).toBe(
      createHmac("sha1", secret).update(String(turn.username)).digest("base64"),
    );
    expect(new Date(r.body.expiresAt).getTime()).toBe(Number(expiry) * 1000);
    // Fresh credentials each time.
    const again = await user.request("GET", "/v1/calls/ice-servers");
    expect(again.body.iceServers[1].username).not.toBe(turn.username);
  });

  it("refuses ICE URLs that are not stun:, turn: or turns:", () => {
    expect(() => loadConfig({ VEIL_ICE_URLS: "http://turn.example.test" })).toThrow(ConfigError);
  });
});
