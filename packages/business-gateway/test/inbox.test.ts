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

const password = "correct horse battery";

/** A valid 1 × 1 PNG. */
const tinyPng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

/** A Cloud API error without its random trace id, to compare two answers. */
const shape = (res: { status: number; body: any }) => ({
  status: res.status,
  code: res.body?.error?.code,
  message: res.body?.error?.message,
});

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`the team inbox (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let receiver: Receiver;
    const customers: Person[] = [];
    const tokens: Record<string, string> = {};
    const ids: Record<string, string> = {};
    let support: string;
    let sales: string;

    /** The inbox API as one principal. */
    const as = (who: string) => ({
      call: (method: string, path: string, body?: unknown) =>
        gw.call(method, `/api/inbox${path}`, {
          key: who === "admin" ? undefined : (tokens[who] ?? null),
          ...(body === undefined ? {} : { body }),
        }),
    });
    const admin = as("admin");

    /** A customer writes to the business; resolves with the conversation id once stored. */
    async function customerWrites(c: Person, text: string): Promise<string> {
      let chat = (await c.client.chats()).find((x) => x.kind === "direct");
      if (!chat) {
        await c.client.api.addContact({ phone: place.phone });
        chat = await c.client.startDirectChat(gw.userId);
      }
      const before = deliveredMessages(receiver).length;
      await c.client.sendText(chat.groupId, text);
      await eventually(() => expect(deliveredMessages(receiver).length).toBe(before + 1), 20_000);
      return chat.groupId;
    }

    async function agent(name: string, roleId: string, teamIds: string[]): Promise<void> {
      const created = await admin.call("POST", "/agents", {
        name,
        email: `${name.toLowerCase()}@acme.test`,
        roleId,
        teamIds,
      });
      expect(created.status).toBe(201);
      expect(created.body.invitation.token).toMatch(/^vii_/);
      const accepted = await gw.call("POST", "/api/inbox/invitations/accept", {
        key: null,
        body: { token: created.body.invitation.token, password },
      });
      expect(accepted.status).toBe(200);
      tokens[name] = accepted.body.token;
      ids[name] = accepted.body.agent.id;
    }

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend);
      gw = await runGateway(t, place);
      receiver = new Receiver();
      await receiver.start();
      expect(
        (await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } })).status,
      ).toBe(201);
      for (const name of ["Dora", "Eli", "Finn"]) customers.push(await person(t, name));
    });

    afterAll(async () => {
      for (const c of customers) await c.client.close();
      await gw?.gateway.close();
      await receiver?.stop();
      await place?.dispose();
      await t?.close();
    });

    it("sets up teams, agents from invitations, and sign-in", async () => {
      const s = await admin.call("POST", "/teams", { name: "Support", routing: "round_robin" });
      expect(s.status).toBe(201);
      support = s.body.team.id;
      sales = (await admin.call("POST", "/teams", { name: "Sales", routing: "manual" })).body.team
        .id;
      expect(
        (await admin.call("POST", "/teams", { name: "Sales", routing: "manual" })).status,
      ).toBe(409);
      expect((await admin.call("PUT", "/settings", { defaultTeamId: support })).body).toEqual({
        defaultTeamId: support,
      });
      await agent("Alice", "agent", [support]);
      await agent("Bob", "agent", [support]);
      await agent("Carol", "supervisor", []);
      await agent("Dave", "agent", [sales]);

      const me = await as("Alice").call("GET", "/me");
      expect(me.body.agent).toMatchObject({
        id: ids.Alice,
        name: "Alice",
        roleId: "agent",
        teamIds: [support],
      });
      expect(me.body.permissions).toContain("conversations:read:team");
      expect(me.body.permissions).not.toContain("agents:manage");

      const ok = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "ALICE@acme.test", password },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.token).toMatch(/^vis_/);
      expect(ok.body.expiresAt).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);
      const wrongPassword = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "alice@acme.test", password: "not the password" },
      });
      const wrongEmail = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "nobody@acme.test", password: "not the password" },
      });
      expect(wrongPassword.status).toBe(401);
      expect(shape(wrongPassword)).toEqual(shape(wrongEmail));
      // An invitation works once; a short password is refused.
      const again = await admin.call("POST", "/agents", {
        name: "Gus",
        email: "gus@acme.test",
        roleId: "agent",
      });
      const short = await gw.call("POST", "/api/inbox/invitations/accept", {
        key: null,
        body: { token: again.body.invitation.token, password: "short" },
      });
      expect(short.status).toBe(400);
      const first = await gw.call("POST", "/api/inbox/invitations/accept", {
        key: null,
        body: { token: again.body.invitation.token, password },
      });
      expect(first.status).toBe(200);
      const second = await gw.call("POST", "/api/inbox/invitations/accept", {
        key: null,
        body: { token: again.body.invitation.token, password },
      });
      expect(second.status).toBe(401);
      // Sign-out ends that session only.
      expect(
        (await gw.call("DELETE", "/api/inbox/sessions/current", { key: first.body.token })).status,
      ).toBe(200);
      expect((await gw.call("GET", "/api/inbox/me", { key: first.body.token })).status).toBe(401);
    });

    it("routes new conversations to the default team, round-robin and fairly", async () => {
      const got: string[] = [];
      for (const [i, c] of customers.entries()) {
        const id = await customerWrites(c, `Hello, I need help with order ${i}`);
        const conv = await admin.call("GET", `/conversations/${encodeURIComponent(id)}`);
        expect(conv.status).toBe(200);
        expect(conv.body.conversation).toMatchObject({ status: "open", teamId: support });
        got.push(conv.body.conversation.assigneeId);
      }
      const [first, second] = [ids.Alice, ids.Bob].sort() as [string, string];
      expect(got).toEqual([first, second, first]);
    });

    it("lists what each agent may see; a hidden conversation answers like a missing one", async () => {
      const alice = await as("Alice").call("GET", "/conversations?status=open");
      expect(alice.body.conversations).toHaveLength(3);
      expect(alice.body.conversations[0]).toMatchObject({
        customer: { id: expect.any(String), name: expect.any(String) },
        lastMessage: { direction: "in", preview: expect.stringContaining("Hello") },
      });
      const mine = await as("Alice").call("GET", "/conversations?assignee=me");
      expect(mine.body.conversations.every((c: any) => c.assigneeId === ids.Alice)).toBe(true);
      expect((await as("Carol").call("GET", "/conversations")).body.conversations).toHaveLength(3);
      expect((await as("Dave").call("GET", "/conversations")).body.conversations).toEqual([]);
      const id = alice.body.conversations[0].id;
      const hidden = await as("Dave").call("GET", `/conversations/${encodeURIComponent(id)}`);
      const missing = await as("Dave").call("GET", "/conversations/no-such-conversation");
      expect(hidden.status).toBe(404);
      expect(shape(hidden)).toEqual(shape(missing));
      for (const path of ["/timeline", "/notes", "/messages"]) {
        const method = path === "/timeline" ? "GET" : "POST";
        const body =
          path === "/notes" ? { body: "x" } : path === "/messages" ? { text: "x" } : undefined;
        const a = await as("Dave").call(
          method,
          `/conversations/${encodeURIComponent(id)}${path}`,
          body,
        );
        const b = await as("Dave").call(method, `/conversations/no-such-conversation${path}`, body);
        expect(shape(a)).toEqual(shape(b));
      }
      const page = await as("Alice").call("GET", "/conversations?limit=2");
      expect(page.body.conversations).toHaveLength(2);
      const next = await as("Alice").call(
        "GET",
        `/conversations?limit=2&cursor=${page.body.nextCursor}`,
      );
      expect(next.body.conversations).toHaveLength(1);
      expect(next.body.nextCursor).toBeNull();
      expect((await as("Alice").call("GET", "/conversations?cursor=zzz")).status).toBe(400);
    });

    it("replies as the business, keeps notes internal, and records who wrote", async () => {
      const dora = customers[0] as Person;
      const id = (await dora.client.chats()).find((x) => x.kind === "direct")?.groupId as string;
      const path = `/conversations/${encodeURIComponent(id)}`;
      const secret = "Internal: customer is a VIP, offer a refund";
      const note = await as("Alice").call("POST", `${path}/notes`, { body: secret });
      expect(note.status).toBe(201);
      const sent = await as("Alice").call("POST", `${path}/messages`, { text: "We are on it." });
      expect(sent.status).toBe(201);
      expect(sent.body.id).toMatch(/^wamid\./);
      const reply = await eventually(() => {
        const m = dora.seen.messages.find(
          (x) => x.content.type === "text" && x.content.text === "We are on it.",
        );
        expect(m).toBeDefined();
        return m;
      }, 20_000);
      expect(reply?.senderUserId).toBe(gw.userId);
      const items = (await as("Alice").call("GET", `${path}/timeline`)).body.items;
      expect(items.map((i: any) => i.kind)).toEqual(["message", "note", "message"]);
      expect(items[0]).toMatchObject({ direction: "in", type: "text", agentId: null });
      expect(items[1]).toMatchObject({ kind: "note", body: secret, agentId: ids.Alice });
      expect(items[2]).toMatchObject({
        direction: "out",
        text: "We are on it.",
        agentId: ids.Alice,
        id: sent.body.id,
      });
      // The note never reaches the customer, nor any webhook.
      expect(dora.seen.messages.some((m) => JSON.stringify(m.content).includes("VIP"))).toBe(false);
      await eventually(() => expect(receiver.deliveries.length).toBeGreaterThan(3));
      expect(receiver.deliveries.some((d) => d.raw.includes("VIP"))).toBe(false);
      const audit = (await admin.call("GET", "/audit?limit=200")).body.entries;
      expect(JSON.stringify(audit)).not.toContain("VIP");
      expect(JSON.stringify(audit)).not.toContain("Hello, I need");
    });

    it("changes status and assignment within the rules; closed conversations reopen", async () => {
      const eli = customers[1] as Person;
      const id = (await eli.client.chats()).find((x) => x.kind === "direct")?.groupId as string;
      const path = `/conversations/${encodeURIComponent(id)}`;
      expect((await as("Alice").call("PATCH", path, { assigneeId: ids.Dave })).status).toBe(403);
      expect((await as("Alice").call("PATCH", path, { teamId: sales })).status).toBe(403);
      expect((await as("Alice").call("PATCH", path, { assigneeId: "agt_nobody" })).status).toBe(
        400,
      );
      expect((await as("Alice").call("PATCH", path, { status: "archived" })).status).toBe(400);
      const mine = await as("Alice").call("PATCH", path, {
        assigneeId: ids.Alice,
        status: "pending",
      });
      expect(mine.status).toBe(200);
      expect(mine.body.conversation).toMatchObject({ assigneeId: ids.Alice, status: "pending" });
      expect((await as("Alice").call("PATCH", path, { assigneeId: ids.Bob })).status).toBe(200);
      const moved = await as("Carol").call("PATCH", path, {
        teamId: sales,
        assigneeId: ids.Dave,
        status: "closed",
      });
      expect(moved.status).toBe(200);
      expect((await as("Dave").call("GET", path)).body.conversation.status).toBe("closed");
      // Alice no longer sees it: not her team, not hers.
      expect((await as("Alice").call("GET", path)).status).toBe(404);
      await customerWrites(eli, "Any news?");
      expect((await as("Dave").call("GET", path)).body.conversation).toMatchObject({
        status: "open",
        assigneeId: ids.Dave,
      });
      const audit = (await as("Carol").call("GET", "/audit?limit=200")).body.entries;
      const actions = audit.map((e: any) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          "conversation.assigned",
          "conversation.status",
          "note.created",
          "session.failed",
          "agent.created",
          "team.created",
        ]),
      );
      expect(
        audit.find((e: any) => e.action === "conversation.status" && e.actor === "system")?.details,
      ).toEqual({
        status: "open",
        reopened: true,
      });
      expect((await as("Alice").call("GET", "/audit")).status).toBe(403);
    });

    it("takes a deactivated agent out of sessions and round-robin", async () => {
      const off = await admin.call("PATCH", `/agents/${ids.Bob}`, { active: false });
      expect(off.status).toBe(200);
      expect(off.body.agent.active).toBe(false);
      expect((await as("Bob").call("GET", "/me")).status).toBe(401);
      const signIn = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "bob@acme.test", password },
      });
      expect(signIn.status).toBe(401);
      const finn = customers[2] as Person;
      const fresh = await person(t, "Gina");
      customers.push(fresh);
      const id = await customerWrites(fresh, "Hi there");
      expect(
        (await admin.call("GET", `/conversations/${encodeURIComponent(id)}`)).body.conversation
          .assigneeId,
      ).toBe(ids.Alice);
      expect(finn).toBeDefined();
    });

    it("manages custom roles and lets agent sessions use the admin routes they hold", async () => {
      const role = await admin.call("POST", "/roles", {
        name: "auditor",
        permissions: ["audit:read", "webhooks:manage"],
      });
      expect(role.status).toBe(201);
      expect(
        (await admin.call("POST", "/roles", { name: "bad", permissions: ["root"] })).status,
      ).toBe(400);
      expect((await admin.call("PATCH", "/roles/admin", { name: "x" })).status).toBe(400);
      await agent("Ivy", role.body.role.id, []);
      expect((await as("Ivy").call("GET", "/audit")).status).toBe(200);
      expect((await as("Ivy").call("GET", "/conversations")).status).toBe(403);
      expect((await gw.call("GET", "/admin/webhooks", { key: tokens.Ivy })).status).toBe(200);
      expect((await gw.call("GET", "/admin/api-keys", { key: tokens.Ivy })).status).toBe(403);
      expect((await admin.call("DELETE", `/roles/${role.body.role.id}`)).status).toBe(409);
      const changed = await admin.call("PATCH", `/roles/${role.body.role.id}`, {
        permissions: ["audit:read"],
      });
      expect(changed.body.role.permissions).toEqual(["audit:read"]);
      expect((await gw.call("GET", "/admin/webhooks", { key: tokens.Ivy })).status).toBe(403);
      await admin.call("PATCH", `/agents/${ids.Ivy}`, { roleId: "agent" });
      expect((await admin.call("DELETE", `/roles/${role.body.role.id}`)).status).toBe(200);
      const key = await gw.call("POST", "/admin/api-keys", {
        body: { name: "crm", scopes: ["messages:send"] },
      });
      const audit = (await admin.call("GET", "/audit?limit=5")).body.entries;
      expect(audit[0]).toMatchObject({
        action: "api_key.created",
        actor: "admin-key",
        target: key.body.id,
      });
    });

    it("trains the intent model from examples and keeps it across restarts", async () => {
      const examples = [
        ...[
          "where is my order",
          "has my parcel shipped",
          "track my package",
          "when will my order arrive",
        ].map((text) => ({ intent: "order_status", text })),
        ...[
          "I want my money back",
          "refund please",
          "how do I get a refund",
          "return this for a refund",
        ].map((text) => ({ intent: "refund", text })),
      ];
      expect((await as("Alice").call("PUT", "/intents", { examples })).status).toBe(403);
      expect(
        (await as("Carol").call("PUT", "/intents", { examples: examples.slice(0, 3) })).status,
      ).toBe(400);
      const trained = await as("Carol").call("PUT", "/intents", { examples, threshold: 0.3 });
      expect(trained.status).toBe(200);
      expect(trained.body).toEqual({
        intents: ["order_status", "refund"],
        threshold: 0.3,
        examples: 8,
      });
      await gw.gateway.close();
      gw = await runGateway(t, place);
      expect((await admin.call("GET", "/intents")).body).toEqual(trained.body);
      expect(gw.gateway.inbox.getIntentModel()?.predict("where is my parcel").intent).toBe(
        "order_status",
      );
    });

    it("keeps the round-robin rotation across a restart", async () => {
      expect((await admin.call("PATCH", `/agents/${ids.Bob}`, { active: true })).status).toBe(200);
      const [first, second] = [ids.Alice, ids.Bob].sort() as [string, string];
      const cursor = async () =>
        (
          await gw.gateway.database.db
            .selectFrom("inbox_teams")
            .select("rr_last_agent_id")
            .where("id", "=", support)
            .executeTakeFirstOrThrow()
        ).rr_last_agent_id;
      const got: string[] = [];
      for (const name of ["Hugo", "Iris", "Jon"]) {
        if (name === "Iris") {
          await gw.gateway.close();
          gw = await runGateway(t, place);
        }
        const before = await cursor();
        const c = await person(t, name);
        customers.push(c);
        const id = await customerWrites(c, "Hello");
        const assignee = (await admin.call("GET", `/conversations/${encodeURIComponent(id)}`)).body
          .conversation.assigneeId;
        expect(assignee).toBe(before === first ? second : first);
        got.push(assignee);
      }
      expect(new Set(got).size).toBe(2);
    });

    it("rate-limits failed sign-ins per email", async () => {
      for (let i = 0; i < 10; i++) {
        const res = await gw.call("POST", "/api/inbox/sessions", {
          key: null,
          body: { email: "carol@acme.test", password: "wrong wrong" },
        });
        expect(res.status).toBe(401);
      }
      const limited = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "carol@acme.test", password },
      });
      expect(limited.status).toBe(429);
      const other = await gw.call("POST", "/api/inbox/sessions", {
        key: null,
        body: { email: "alice@acme.test", password },
      });
      expect(other.status).toBe(200);
    });

    it("shows a customer's image with its caption, and lets agents who see it download it", async () => {
      const kai = await person(t, "Kai");
      customers.push(kai);
      await kai.client.api.addContact({ phone: place.phone });
      const chat = await kai.client.startDirectChat(gw.userId);
      const before = deliveredMessages(receiver).length;
      await kai.client.sendAttachment(chat.groupId, tinyPng, {
        name: "receipt.png",
        mime: "image/png",
        caption: "My receipt",
      });
      await eventually(() => expect(deliveredMessages(receiver).length).toBe(before + 1), 20_000);
      const path = `/conversations/${encodeURIComponent(chat.groupId)}`;
      // Support reads it (round-robin may have given it to either agent of the team).
      const items = (await as("Alice").call("GET", `${path}/timeline`)).body.items;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        kind: "message",
        direction: "in",
        type: "attachment",
        text: "My receipt",
        media: {
          id: expect.stringMatching(/^\d+$/),
          kind: "image",
          mimeType: "image/png",
          fileSize: tinyPng.length,
          filename: "receipt.png",
          caption: "My receipt",
        },
      });
      const mediaId = items[0].media.id as string;
      const summary = (await as("Alice").call("GET", path)).body.conversation;
      expect(summary.lastMessage).toMatchObject({ direction: "in", preview: "📎 My receipt" });
      const listed = (await as("Alice").call("GET", "/conversations")).body.conversations;
      expect(listed.find((c: any) => c.id === chat.groupId)?.lastMessage.preview).toBe(
        "📎 My receipt",
      );

      const download = (token: string | undefined, conversationPath: string, id: string) =>
        fetch(`${gw.url}/api/inbox${conversationPath}/media/${id}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
      const got = await download(tokens.Alice, path, mediaId);
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect(got.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.headers.get("content-disposition")).toMatch(/^inline; filename="receipt.png"/);
      expect(Buffer.from(await got.arrayBuffer()).equals(tinyPng)).toBe(true);
      expect((await download(tokens.Carol, path, mediaId)).status).toBe(200);

      // Dave (Sales) may not see the conversation: the same 404 as a missing one.
      const answer = async (res: Response) => ({ status: res.status, body: await res.json() });
      const missing = shape(await answer(await download(tokens.Dave, "/conversations/nope", "1")));
      expect(missing).toMatchObject({ status: 404 });
      expect(shape(await answer(await download(tokens.Dave, path, mediaId)))).toEqual(missing);
      // Nor is it a way into another conversation's media, or an unknown id.
      const dora = customers[0] as Person;
      const doraId = (await dora.client.chats()).find((x) => x.kind === "direct")
        ?.groupId as string;
      const other = `/conversations/${encodeURIComponent(doraId)}`;
      expect(shape(await answer(await download(tokens.Alice, other, mediaId)))).toEqual(missing);
      expect(shape(await answer(await download(tokens.Alice, path, "12345")))).toEqual(missing);
      expect(shape(await answer(await download(tokens.Alice, path, "x%2Fy")))).toEqual(missing);
      // Nor without a session.
      expect((await download(undefined, path, mediaId)).status).toBe(401);
    });
  });
}
