import { closeCodes } from "@veil/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { LiveSocket, TestUser } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`the WebSocket gateway [${backend}]`, () => {
    let t: TestServer;
    let alice: TestUser;
    let bob: TestUser;

    beforeAll(async () => {
      t = await startTestServer({
        backend,
        env: {
          VEIL_AUTH_TIMEOUT_MS: "300",
          VEIL_HEARTBEAT_MS: "200",
          VEIL_WS_MAX_BUFFERED_BYTES: "65536",
        },
      });
      alice = await TestUser.register(t.url, { name: "Alice" });
      bob = await TestUser.register(t.url, {
        name: "Bob",
        phone: "+14155552671",
        verifier: t.verifier,
      });
    });
    afterAll(async () => t?.close());

    it("authenticates with a hello frame and answers pings", async () => {
      const socket = await alice.connect(t.wsUrl);
      socket.send({ type: "ping", id: "42" });
      expect(await socket.next((f) => f.type === "pong")).toEqual({ type: "pong", id: "42" });
      socket.close();
    });

    it("closes a socket that never says hello", async () => {
      const socket = await LiveSocket.open(t.wsUrl);
      expect(await socket.closed()).toEqual({
        code: closeCodes.auth_timeout,
        reason: "auth_timeout",
      });
    });

    it("closes a socket with a bad token or a bad first frame, with the code", async () => {
      const bad = await LiveSocket.open(t.wsUrl);
      bad.send({ type: "hello", token: "vt_nope" });
      expect(await bad.closed()).toEqual({
        code: closeCodes.unauthenticated,
        reason: "unauthenticated",
      });
      const garbage = await LiveSocket.open(t.wsUrl);
      garbage.send("{not json");
      expect(await garbage.closed()).toEqual({
        code: closeCodes.frame_invalid,
        reason: "frame_invalid",
      });
      const early = await LiveSocket.open(t.wsUrl);
      early.send({ type: "ping" });
      await early.next((f) => f.type === "error");
      expect((await early.closed()).reason).toBe("frame_invalid");
    });

    it("answers a bad frame after hello with an error frame and keeps the connection", async () => {
      const socket = await alice.connect(t.wsUrl);
      socket.send({ type: "shout", loud: true });
      const error = await socket.next((f) => f.type === "error");
      expect(error).toMatchObject({ type: "error", code: "frame_invalid" });
      socket.send({ type: "ping" });
      await socket.next((f) => f.type === "pong");
      socket.close();
    });

    it("terminates a connection that stops answering heartbeats", async () => {
      const socket = await alice.connect(t.wsUrl);
      const before = t.server.gateway.size;
      // A paused TCP socket answers no pings: the peer looks dead.
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const deadline = Date.now() + 5000;
      while (t.server.gateway.size >= before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(t.server.gateway.size).toBe(before - 1);
    });

    it("disconnects a slow consumer instead of buffering without bound", async () => {
      const socket = await alice.connect(t.wsUrl);
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const metrics = t.server.context.metrics.wsDisconnects;
      const slowBefore =
        (await metrics.get()).values.find((v) => v.labels.reason === "slow_consumer")?.value ?? 0;
      const chunk = "x".repeat(256 * 1024);
      let sent = 0;
      // Kernel buffers absorb a few MiB; past them the gateway's bound must trip.
      while (t.server.gateway.size > 0 && sent < 400) {
        t.server.gateway.sendToUser(alice.id, chunk, "bench");
        sent++;
        await new Promise((r) => setImmediate(r));
      }
      expect(t.server.gateway.size).toBe(0);
      expect(sent).toBeLessThan(400);
      const slowAfter =
        (await metrics.get()).values.find((v) => v.labels.reason === "slow_consumer")?.value ?? 0;
      expect(slowAfter).toBe(slowBefore + 1);
      socket.ws.terminate();
    });

    it("shows presence only to viewers the presence setting allows", async () => {
      await alice.request("POST", "/v1/contacts", { phone: "+14155552671" });
      const socket = await bob.connect(t.wsUrl);
      // Presence defaults to "contacts": Bob has not added Alice.
      expect((await alice.request("GET", `/v1/users/${bob.id}`)).body.presence).toBeUndefined();
      await bob.request("PATCH", "/v1/me/privacy", { presence: "everyone" });
      expect((await alice.request("GET", `/v1/users/${bob.id}`)).body.presence).toMatchObject({
        online: true,
      });
      socket.close();
      const deadline = Date.now() + 3000;
      let presence: { online: boolean; lastSeenAt: string | null } | undefined;
      do {
        await new Promise((r) => setTimeout(r, 50));
        presence = (await alice.request("GET", `/v1/users/${bob.id}`)).body.presence;
      } while (presence?.online && Date.now() < deadline);
      expect(presence?.online).toBe(false);
      expect(presence?.lastSeenAt).toMatch(/^\d{4}-/);
    });

    it("closes sockets with shutting_down on graceful shutdown", async () => {
      const other = await startTestServer({ backend });
      const carol = await TestUser.register(other.url, { name: "Carol" });
      const socket = await carol.connect(other.wsUrl);
      const closing = other.close();
      expect(await socket.closed()).toEqual({
        code: closeCodes.shutting_down,
        reason: "shutting_down",
      });
      await closing;
    });
  });
}
