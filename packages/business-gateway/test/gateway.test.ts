import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  deliveredMessages,
  deliveredStatuses,
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

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`a customer and the business, end to end (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let receiver: Receiver;
    let carol: Person;
    let groupId: string;

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend);
      gw = await runGateway(t, place);
      receiver = new Receiver();
      await receiver.start();
      carol = await person(t, "Carol");
    });

    afterAll(async () => {
      await carol?.client.close();
      await gw?.gateway.close();
      await receiver?.stop();
      await place?.dispose();
      await t?.close();
    });

    it("subscribes a webhook endpoint after the hub.challenge handshake", async () => {
      const res = await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ url: receiver.url, state: "active" });
      const list = await gw.call("GET", "/admin/webhooks");
      expect(list.body.endpoints).toHaveLength(1);
    });

    it("refuses an endpoint that does not answer the handshake", async () => {
      const closed = await gw.call("POST", "/admin/webhooks", {
        body: { url: "http://127.0.0.1:1/nothing-listens" },
      });
      expect(closed.status).toBe(400);
      expect(closed.body.error.code).toBe(131009);
      const list = await gw.call("GET", "/admin/webhooks");
      expect(list.body.endpoints).toHaveLength(1);
    });

    it("trains the business's intents from its examples", async () => {
      const res = await gw.call("PUT", "/api/inbox/intents", {
        body: {
          examples: [
            { intent: "order_status", text: "Where is my order?" },
            { intent: "order_status", text: "My parcel has not arrived yet" },
            { intent: "order_status", text: "When will my order be delivered?" },
            { intent: "order_status", text: "Can you track my package for me" },
            { intent: "refund", text: "I want my money back" },
            { intent: "refund", text: "Please refund my last payment" },
            { intent: "refund", text: "How do I get a refund for a broken item" },
            { intent: "opening_hours", text: "When are you open on Sunday?" },
            { intent: "opening_hours", text: "What time does the shop close" },
            { intent: "opening_hours", text: "Are you open tomorrow morning" },
          ],
        },
      });
      expect(res.status).toBe(200);
      expect(res.body.intents).toEqual(["opening_hours", "order_status", "refund"]);
    });

    it("delivers a customer's message as a Cloud API payload, signed twice", async () => {
      await carol.client.api.addContact({ phone: place.phone });
      const chat = await carol.client.startDirectChat(gw.userId);
      groupId = chat.groupId;
      await carol.client.sendText(
        groupId,
        "Where is my order #1234? It has not arrived and I am not happy. Write to carol@example.com",
      );
      await eventually(() => expect(deliveredMessages(receiver)).toHaveLength(1), 20_000);
      expect(receiver.forged).toEqual([]);
      const delivery = receiver.deliveries[0];
      expect(delivery?.body.object).toBe("whatsapp_business_account");
      const value = delivery?.body.entry[0].changes[0].value;
      expect(delivery?.body.entry[0].changes[0].field).toBe("messages");
      expect(value.messaging_product).toBe("whatsapp");
      expect(value.metadata.phone_number_id).toBe(gw.gateway.phoneNumberId);
      expect(value.contacts).toEqual([{ profile: { name: "Carol" }, wa_id: carol.userId }]);
      const message = value.messages[0];
      expect(message).toMatchObject({
        from: carol.userId,
        type: "text",
        text: {
          body: "Where is my order #1234? It has not arrived and I am not happy. Write to carol@example.com",
        },
      });
      // Insights computed on the gateway, beside the Cloud API fields.
      expect(message.veil_insights.intent.intent).toBe("order_status");
      expect(message.veil_insights.sentiment.label).toBe("negative");
      expect(message.veil_insights.entities).toContainEqual(
        expect.objectContaining({ type: "email", text: "carol@example.com" }),
      );
      expect(message.veil_insights.suspicious).toMatchObject({ burst: false, suspicious: false });
      expect(message.id).toMatch(/^wamid\./);
      expect(message.timestamp).toMatch(/^\d{10}$/);
      expect(delivery?.webhookId).toMatch(/^msg_/);
    });

    it("sends an agent's reply through the Cloud API route; the customer decrypts it", async () => {
      const incoming = deliveredMessages(receiver)[0];
      const send = await gw.call("POST", `/v21.0/${gw.gateway.phoneNumberId}/messages`, {
        body: {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to: carol.userId,
          type: "text",
          text: { body: "It ships tomorrow." },
          context: { message_id: incoming.id },
        },
      });
      expect(send.status).toBe(200);
      expect(send.body.messaging_product).toBe("whatsapp");
      expect(send.body.contacts).toEqual([{ input: carol.userId, wa_id: carol.userId }]);
      expect(send.body.messages[0].id).toMatch(/^wamid\./);
      const reply = await eventually(() => {
        const m = carol.seen.messages.find(
          (x) => x.content.type === "text" && x.content.text === "It ships tomorrow.",
        );
        expect(m).toBeDefined();
        return m;
      }, 20_000);
      expect(reply?.senderUserId).toBe(gw.userId);
      expect(reply?.groupId).toBe(groupId);
      const original = carol.seen.messages.length; // carol's own message is not in her events
      expect(original).toBeGreaterThan(0);
      if (reply?.content.type === "text") expect(reply.content.replyTo).not.toBeNull();

      // The reply is announced as sent; her device's delivery receipt becomes `delivered`.
      await eventually(() =>
        expect(deliveredStatuses(receiver)).toContainEqual(
          expect.objectContaining({ id: send.body.messages[0].id, status: "sent" }),
        ),
      );
      await eventually(
        () =>
          expect(deliveredStatuses(receiver)).toContainEqual(
            expect.objectContaining({
              id: send.body.messages[0].id,
              status: "delivered",
              recipient_id: carol.userId,
            }),
          ),
        20_000,
      );
      await carol.client.markRead(groupId, [reply?.id as string]);
      await eventually(
        () =>
          expect(deliveredStatuses(receiver)).toContainEqual(
            expect.objectContaining({ id: send.body.messages[0].id, status: "read" }),
          ),
        20_000,
      );
    });

    it("reacts and marks read; a customer's reaction arrives as a reaction message", async () => {
      const incoming = deliveredMessages(receiver)[0];
      const react = await gw.call("POST", `/v21.0/${gw.gateway.phoneNumberId}/messages`, {
        body: {
          messaging_product: "whatsapp",
          to: carol.userId,
          type: "reaction",
          reaction: { message_id: incoming.id, emoji: "👍" },
        },
      });
      expect(react.status).toBe(200);
      await eventually(() =>
        expect(
          carol.seen.messages.some(
            (m) => m.content.type === "reaction" && m.content.emoji === "👍",
          ),
        ).toBe(true),
      );
      const read = await gw.call("POST", `/v21.0/${gw.gateway.phoneNumberId}/messages`, {
        body: { messaging_product: "whatsapp", status: "read", message_id: incoming.id },
      });
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ success: true });
      await eventually(() =>
        expect(
          carol.seen.receipts.some((r) => r.status === "read" && r.fromUserId === gw.userId),
        ).toBe(true),
      );

      const reply = carol.seen.messages.find((m) => m.senderUserId === gw.userId);
      await carol.client.react(groupId, reply?.id as string, "🎉");
      await eventually(() =>
        expect(deliveredMessages(receiver)).toContainEqual(
          expect.objectContaining({
            type: "reaction",
            from: carol.userId,
            reaction: { message_id: expect.stringMatching(/^wamid\./), emoji: "🎉" },
          }),
        ),
      );
    });

    it("stores the conversation and the decrypted messages in its own database", async () => {
      const db = gw.gateway.database.db;
      const conversations = await db.selectFrom("conversations").selectAll().execute();
      expect(conversations).toEqual([
        expect.objectContaining({ group_id: groupId, customer_user_id: carol.userId }),
      ]);
      const messages = await db.selectFrom("messages").selectAll().orderBy("created_at").execute();
      expect(messages.map((m) => [m.direction, m.type])).toEqual([
        ["in", "text"],
        ["out", "text"],
        ["out", "reaction"],
        ["in", "reaction"],
      ]);
      expect(JSON.parse(messages[0]?.content ?? "{}").body).toMatch(/^Where is my order #1234\?/);
      await eventually(async () => {
        const undelivered = await db
          .selectFrom("webhook_outbox")
          .select("state")
          .where("state", "!=", "delivered")
          .execute();
        expect(undelivered).toEqual([]);
      });
    });

    it("serves the OpenAPI document at /docs", async () => {
      const json = await gw.call("GET", "/docs/json", { key: null });
      expect(json.status).toBe(200);
      expect(Object.keys(json.body.paths)).toContain("/{version}/{phoneNumberId}/messages");
    });
  });
}
