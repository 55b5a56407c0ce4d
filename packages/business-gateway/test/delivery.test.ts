import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  deliveredMessages,
  eventually,
  type GatewayPlace,
  gatewayPlace,
  type Person,
  person,
  Receiver,
  type RunningGateway,
  runGateway,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

const texts = (receiver: Receiver): string[] =>
  deliveredMessages(receiver).map((m) => m.text?.body as string);

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`webhook delivery through the outbox (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let carol: Person;
    let groupId: string;

    /** A fresh receiver subscribed alone (earlier endpoints removed). */
    async function subscribe(receiver: Receiver): Promise<string> {
      const list = await gw.call("GET", "/admin/webhooks");
      for (const e of list.body.endpoints) await gw.call("DELETE", `/admin/webhooks/${e.id}`);
      await receiver.start();
      const res = await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } });
      expect(res.status).toBe(201);
      return res.body.id as string;
    }

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend);
      gw = await runGateway(t, place);
      carol = await person(t, "Carol");
      await carol.client.api.addContact({ phone: place.phone });
      groupId = (await carol.client.startDirectChat(gw.userId)).groupId;
    });

    afterAll(async () => {
      await carol?.client.close();
      await gw?.gateway.close();
      await place?.dispose();
      await t?.close();
    });

    it("retries while the receiver fails or is down, survives a restart, delivers each once", async () => {
      const receiver = new Receiver();
      await subscribe(receiver);
      receiver.fallback = { status: 503 };
      await carol.client.sendText(groupId, "one");
      await carol.client.sendText(groupId, "two");
      await eventually(() => {
        const failed = new Set(
          receiver.attempts.filter((a) => a.status === 503).map((a) => a.webhookId),
        );
        expect(failed.size).toBe(2);
        expect(receiver.attempts.length).toBeGreaterThanOrEqual(4); // retried, not given up
      }, 20_000);
      await receiver.stop(); // now down: connection refused

      await carol.client.sendText(groupId, "three");
      await eventually(async () => {
        const rows = await gw.gateway.database.db
          .selectFrom("webhook_outbox")
          .select(["state", "attempts"])
          .execute();
        expect(rows).toHaveLength(3);
        for (const row of rows) {
          expect(row.state).toBe("pending");
          expect(row.attempts).toBeGreaterThan(0);
        }
      }, 20_000);

      // The gateway restarts while the receiver is down; a message arrives meanwhile.
      await gw.gateway.close();
      await carol.client.sendText(groupId, "four");
      gw = await runGateway(t, place);
      receiver.fallback = { status: 200 };
      await receiver.start();
      await eventually(
        () => expect(texts(receiver).sort()).toEqual(["four", "one", "three", "two"]),
        30_000,
      );
      expect(new Set(receiver.ids()).size).toBe(4);
      expect(receiver.forged).toEqual([]);
      // Retries carry the same webhook id: every failed attempt's id was delivered later.
      const failedIds = new Set(
        receiver.attempts.filter((a) => a.status === 503).map((a) => a.webhookId),
      );
      for (const id of failedIds) expect(receiver.ids()).toContain(id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.deliveries).toHaveLength(4); // nothing twice
      await receiver.stop();
    });

    it("honours Retry-After over its own backoff", async () => {
      const receiver = new Receiver();
      await subscribe(receiver);
      receiver.script.push({ status: 429, headers: { "retry-after": "1" } });
      await carol.client.sendText(groupId, "after a pause");
      await eventually(() => expect(receiver.deliveries).toHaveLength(1), 20_000);
      const [first, second] = receiver.attempts;
      expect(first?.status).toBe(429);
      expect(second?.webhookId).toBe(first?.webhookId);
      // The backoff alone would retry within 300 ms.
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
      await receiver.stop();
    });

    it("replays a delivery under the same webhook id", async () => {
      const receiver = new Receiver();
      await subscribe(receiver);
      await carol.client.sendText(groupId, "replay me");
      await eventually(() => expect(receiver.deliveries).toHaveLength(1), 20_000);
      const id = receiver.deliveries[0]?.webhookId as string;
      const listed = await gw.call("GET", "/admin/webhooks/deliveries?state=delivered&limit=5");
      expect(listed.body.deliveries.map((d: { id: string }) => d.id)).toContain(id);
      const replay = await gw.call("POST", `/admin/webhooks/deliveries/${id}/replay`);
      expect(replay.status).toBe(200);
      await eventually(() => expect(receiver.deliveries).toHaveLength(2), 20_000);
      expect(receiver.deliveries[1]?.webhookId).toBe(id);
      expect(receiver.deliveries[1]?.raw).toBe(receiver.deliveries[0]?.raw);
      const unknown = await gw.call("POST", "/admin/webhooks/deliveries/msg_nope/replay");
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe(131009);
      await receiver.stop();
    });

    it("disables an endpoint that answers 410 Gone", async () => {
      const receiver = new Receiver();
      const endpointId = await subscribe(receiver);
      receiver.fallback = { status: 410 };
      await carol.client.sendText(groupId, "gone");
      await eventually(async () => {
        const list = await gw.call("GET", "/admin/webhooks");
        expect(list.body.endpoints).toEqual([
          expect.objectContaining({ id: endpointId, state: "disabled" }),
        ]);
      }, 20_000);
      const dead = await gw.call(
        "GET",
        `/admin/webhooks/deliveries?state=dead&endpoint=${endpointId}`,
      );
      expect(dead.body.deliveries).toHaveLength(1);
      expect(receiver.attempts).toHaveLength(1);
      // A disabled endpoint gets no new deliveries.
      await carol.client.sendText(groupId, "not for a gone endpoint");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.attempts).toHaveLength(1);

      // Enabling it again runs the handshake; new events flow again.
      receiver.fallback = { status: 200 };
      const enabled = await gw.call("POST", `/admin/webhooks/${endpointId}/enable`);
      expect(enabled.status).toBe(200);
      expect(enabled.body.state).toBe("active");
      await carol.client.sendText(groupId, "welcome back");
      await eventually(() => expect(texts(receiver)).toEqual(["welcome back"]), 20_000);
      await receiver.stop();
    });

    it("on restart, stores and announces what the SDK showed but the database missed", async () => {
      const receiver = new Receiver();
      await subscribe(receiver);
      await carol.client.sendText(groupId, "shown before a crash");
      await eventually(() => expect(texts(receiver)).toEqual(["shown before a crash"]), 20_000);
      // As if the process had died between the SDK's event and the gateway's transaction.
      const db = gw.gateway.database.db;
      const row = await db
        .selectFrom("messages")
        .select(["id", "veil_id"])
        .where("direction", "=", "in")
        .orderBy("created_at", "desc")
        .executeTakeFirstOrThrow();
      await db.deleteFrom("messages").where("id", "=", row.id).execute();
      await gw.gateway.close();
      gw = await runGateway(t, place);
      await eventually(
        () => expect(texts(receiver)).toEqual(["shown before a crash", "shown before a crash"]),
        20_000,
      );
      const again = await gw.gateway.database.db
        .selectFrom("messages")
        .select("veil_id")
        .where("id", "=", row.id)
        .execute();
      expect(again).toEqual([{ veil_id: row.veil_id }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(texts(receiver)).toHaveLength(2); // the others were already stored: not again
      await receiver.stop();
    });

    it("gives up into dead after the retry window", async () => {
      await gw.gateway.close();
      gw = await runGateway(t, place, {
        retryPolicy: { baseMs: 50, capMs: 100, windowMs: 600, timeoutMs: 2000 },
      });
      const receiver = new Receiver();
      const endpointId = await subscribe(receiver);
      receiver.fallback = { status: 500 };
      await carol.client.sendText(groupId, "never accepted");
      await eventually(async () => {
        const dead = await gw.call(
          "GET",
          `/admin/webhooks/deliveries?state=dead&endpoint=${endpointId}`,
        );
        expect(dead.body.deliveries).toHaveLength(1);
        expect(dead.body.deliveries[0].attempts).toBeGreaterThan(2);
        expect(dead.body.deliveries[0].lastStatus).toBe(500);
      }, 20_000);
      // Replay brings it back from the dead.
      receiver.fallback = { status: 200 };
      const dead = await gw.call(
        "GET",
        `/admin/webhooks/deliveries?state=dead&endpoint=${endpointId}`,
      );
      const id = dead.body.deliveries[0].id as string;
      await gw.call("POST", `/admin/webhooks/deliveries/${id}/replay`);
      await eventually(() => expect(receiver.ids()).toEqual([id]), 20_000);
      await receiver.stop();
    });
  });
}
