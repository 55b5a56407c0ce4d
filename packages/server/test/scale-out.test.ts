import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropSchema,
  freshSchema,
  natsAvailable,
  natsUrl,
  postgresAvailable,
  postgresUrl,
} from "./helpers/backends.js";
import { http, TestUser } from "./helpers/client.js";
import { type ServerProcess, startServerProcess } from "./helpers/processes.js";

describe.skipIf(!postgresAvailable || !natsAvailable)(
  "two server processes on one PostgreSQL and one NATS",
  () => {
    const schema = freshSchema();
    let one: ServerProcess;
    let two: ServerProcess;

    beforeAll(async () => {
      const env = {
        VEIL_DATABASE_URL: postgresUrl,
        VEIL_DATABASE_SCHEMA: schema,
        VEIL_BUS_URL: natsUrl,
        VEIL_BUS_PREFIX: `veiltest_${randomBytes(4).toString("hex")}`,
      };
      one = await startServerProcess(env);
      two = await startServerProcess(env);
    }, 120_000);

    afterAll(async () => {
      await one?.stop();
      await two?.stop();
      await dropSchema(schema);
    });

    /** The console verifier logs the code with its verification id: read it from the node's log. */
    async function verifiedPhone(node: ServerProcess, phone: string) {
      const v = await http(node.url, "POST", "/v1/phone-verifications", { body: { phone } });
      expect(v.status).toBe(201);
      const pattern = new RegExp(`"verificationId":"${v.body.verificationId}","code":"(\\d{6})"`);
      for (let i = 0; i < 50 && !pattern.test(node.output()); i++)
        await new Promise((r) => setTimeout(r, 20));
      const code = pattern.exec(node.output())?.[1];
      expect(code).toBeDefined();
      return { verificationId: v.body.verificationId as string, code: code as string };
    }

    it("delivers a profile change made through one node to a client connected to the other", async () => {
      const alice = await TestUser.register(one.url, { name: "Alice" });
      const bob = await TestUser.register(two.url, { name: "Bob" });
      expect(
        (await bob.request("PUT", "/v1/me/phone", await verifiedPhone(two, "+14155552671"))).status,
      ).toBe(200);
      // One database: Alice, on node one, finds Bob (registered on node two) by his number.
      expect((await alice.request("POST", "/v1/contacts", { phone: "+14155552671" })).status).toBe(
        201,
      );

      const socket = await alice.connect(`${two.url.replace("http", "ws")}/v1/ws`);
      const bobOnOne = new TestUser(one.url, bob.id, bob.deviceId, bob.token, bob.key);
      await bobOnOne.request("PATCH", "/v1/me", { name: "Bobby" });
      const frame = await socket.next(
        (f) => f.type === "profile.updated" && f.profile.name === "Bobby",
      );
      expect(frame).toMatchObject({
        profile: { id: bob.id, name: "Bobby", phone: "+14155552671" },
      });
      socket.close();
    });

    it("closes a socket on one node when its session is revoked through the other", async () => {
      const carol = await TestUser.register(one.url, { name: "Carol" });
      const second = await carol.addDevice();
      const socket = await carol.connect(`${two.url.replace("http", "ws")}/v1/ws`, second.token);
      const sessions = await carol.request("GET", "/v1/sessions");
      const target = sessions.body.find(
        (s: { deviceId: string }) => s.deviceId === second.deviceId,
      );
      expect((await carol.request("DELETE", `/v1/sessions/${target.id}`)).status).toBe(204);
      expect((await socket.closed()).reason).toBe("session_revoked");
    });

    it("delivers a channel post and its reaction counts to a follower connected to the other node", async () => {
      const olga = await TestUser.register(one.url, { name: "Olga" });
      const finn = await TestUser.register(two.url, { name: "Finn" });
      const gail = await TestUser.register(two.url, { name: "Gail" });
      const created = await olga.request("POST", "/v1/channels", {
        name: "Two Nodes",
        handle: `nodes_${randomBytes(4).toString("hex")}`,
      });
      expect(created.status).toBe(201);
      const channelId = created.body.id as string;
      for (const f of [finn, gail]) {
        expect((await f.request("PUT", `/v1/channels/${channelId}/follow`, {})).status).toBe(200);
      }
      // Finn listens on node two, Gail on node one; Olga posts through node one.
      const wsOf = (node: ServerProcess) => `${node.url.replace("http", "ws")}/v1/ws`;
      const finnsSocket = await finn.connect(wsOf(two));
      const gailsSocket = await gail.connect(wsOf(one));
      try {
        const id = `p_${randomBytes(6).toString("hex")}`;
        const posted = await olga.request("POST", `/v1/channels/${channelId}/posts`, {
          id,
          text: "across the bus",
        });
        expect(posted.status).toBe(201);
        for (const socket of [finnsSocket, gailsSocket]) {
          const frame = await socket.next((f) => f.type === "channel.post");
          expect(frame.type === "channel.post" && frame.post).toMatchObject({
            channelId,
            seq: 1,
            id,
            text: "across the bus",
          });
        }
        // Reactions through node one (Finn's own on node one too, with his token): the
        // coalesced counts reach node two with the final numbers.
        const finnOnOne = new TestUser(one.url, finn.id, finn.deviceId, finn.token, finn.key);
        const gailOnOne = new TestUser(one.url, gail.id, gail.deviceId, gail.token, gail.key);
        const path = `/v1/channels/${channelId}/posts/1/reaction`;
        expect((await finnOnOne.request("PUT", path, { emoji: "👍" })).status).toBe(200);
        expect((await gailOnOne.request("PUT", path, { emoji: "👍" })).status).toBe(200);
        expect((await gailOnOne.request("PUT", path, { emoji: "🔥" })).status).toBe(200);
        const final = { "👍": 1, "🔥": 1 };
        const sorted = (counts: Record<string, number>) =>
          JSON.stringify(Object.entries(counts).sort());
        for (const socket of [finnsSocket, gailsSocket]) {
          const counts = await socket.next(
            (f) => f.type === "channel.counts" && sorted(f.counts) === sorted(final),
          );
          expect(counts).toEqual({ type: "channel.counts", channelId, seq: 1, counts: final });
        }
        // An edit and a delete made through node two reach the follower on node one.
        const olgaOnTwo = new TestUser(two.url, olga.id, olga.deviceId, olga.token, olga.key);
        await olgaOnTwo.request("PATCH", `/v1/channels/${channelId}/posts/1`, { text: "edited" });
        const edited = await gailsSocket.next(
          (f) => f.type === "channel.post" && f.post.text === "edited",
        );
        expect(edited.type === "channel.post" && edited.post.editedAt).not.toBeNull();
        expect(
          (await olgaOnTwo.request("DELETE", `/v1/channels/${channelId}/posts/1`)).status,
        ).toBe(204);
        expect(await gailsSocket.next((f) => f.type === "channel.post.deleted")).toEqual({
          type: "channel.post.deleted",
          channelId,
          seq: 1,
        });
      } finally {
        finnsSocket.close();
        gailsSocket.close();
      }
    });

    it("logs no names or numbers, and shuts down cleanly on SIGTERM", async () => {
      const logs = one.output() + two.output();
      expect(logs).not.toContain("Alice");
      expect(logs).not.toContain("Bobby");
      expect(logs).not.toContain("4155552671");
      expect(await two.stop("SIGTERM")).toBe(0);
    });
  },
);
