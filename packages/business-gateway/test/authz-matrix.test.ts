import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permissions } from "../src/inbox/permissions.js";
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

/**
 * Every route of the gateway x every kind of caller -> the expected status,
 * from one table. Routes are enumerated from Fastify (onRoute): a route
 * without a row fails the test, and so does a row whose route is gone
 * (unless the route depends on configuration: `optional`).
 */

const who = [
  "no token",
  "bad token",
  "revoked key",
  "key messages:send",
  "key messages:read",
  "key webhooks:manage",
  "admin key",
  "admin session",
  "supervisor session",
  "agent session",
  "custom session",
  "deactivated session",
] as const;
type Who = (typeof who)[number];

const granted: Partial<Record<Who, readonly string[]>> = {
  "admin session": permissions,
  "supervisor session": [
    "conversations:read:all",
    "conversations:reply",
    "conversations:assign",
    "conversations:status",
    "notes:write",
    "audit:read",
    "intents:manage",
  ],
  "agent session": [
    "conversations:read:team",
    "conversations:read:assigned",
    "conversations:reply",
    "conversations:assign",
    "conversations:status",
    "notes:write",
  ],
  /** A custom role: reads the audit log and manages webhooks, sees no conversation. */
  "custom session": ["audit:read", "webhooks:manage"],
};
const customPermissions = granted["custom session"] as string[];

const dead = (w: Who) =>
  ["no token", "bad token", "revoked key", "deactivated session"].includes(w);
const keyScope = (w: Who) => (w.startsWith("key ") ? w.slice(4) : null);
const session = (w: Who) => granted[w] !== undefined;
const holds = (w: Who, permission: string) => (granted[w] ?? []).includes(permission);
const readsConversations = (w: Who) =>
  holds(w, "conversations:read:all") || holds(w, "conversations:read:team");

/** The expected status, or "passes" (authorised: anything but 401/403, never 5xx). */
type Expect = number | "passes";
type Rule = (w: Who) => Expect;

/** The Cloud API routes: API keys by scope; inbox sessions are not API credentials. */
const cloud =
  (scope: string, ok: Expect): Rule =>
  (w) =>
    dead(w) || session(w) ? 401 : w === "admin key" || keyScope(w) === scope ? ok : 403;
/** The /admin routes: an API key with `scope` (null: none may), or a session whose role holds `permission`. */
const admin =
  (scope: string | null, permission: string, ok: Expect): Rule =>
  (w) => {
    if (dead(w)) return 401;
    if (w === "admin key") return ok;
    if (keyScope(w) !== null) return scope !== null && keyScope(w) === scope ? ok : 403;
    return holds(w, permission) ? ok : 403;
  };
/** The inbox routes: the admin key or a session (holding `permission`, when given); API keys never. */
const inbox =
  (permission: string | null, ok: Expect): Rule =>
  (w) => {
    if (dead(w)) return 401;
    if (keyScope(w) !== null) return 403;
    if (w === "admin key") return ok;
    return permission === null || holds(w, permission) ? ok : 403;
  };
/** One conversation: who cannot see it gets 404, as for a missing one. */
const conversation =
  (permission: string | null, ok: Expect): Rule =>
  (w) => {
    const base = inbox(null, ok)(w);
    if (base !== ok || w === "admin key") return base;
    if (!readsConversations(w)) return 404;
    return permission === null || holds(w, permission) ? ok : 403;
  };
const agentsOnly =
  (ok: Expect): Rule =>
  (w) =>
    dead(w) ? 401 : session(w) ? ok : 403;
const open =
  (status: Expect): Rule =>
  () =>
    status;

interface Row {
  /** The path to call (`{conversation}` is filled in). */
  path: string;
  body?: unknown;
  rule: Rule;
  /** Routes that exist only with some configuration (the web build). */
  optional?: boolean;
  /** Runs after every other row (it ends sessions). */
  last?: boolean;
}

const v = "v21.0";

/** A valid 1 × 1 PNG, the customer's attachment. */
const tinyPng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const table: Record<string, Row> = {
  "GET /healthz": { path: "/healthz", rule: open(200) },
  "POST /:version/:phoneNumberId/messages": {
    path: `/${v}/{phone}/messages`,
    body: {},
    rule: cloud("messages:send", 400),
  },
  "POST /:version/:phoneNumberId/media": {
    path: `/${v}/{phone}/media`,
    body: {},
    rule: cloud("messages:send", "passes"),
    optional: true,
  },
  "GET /:version/:mediaId": {
    path: `/${v}/12345`,
    rule: cloud("messages:read", "passes"),
    optional: true,
  },
  "DELETE /:version/:mediaId": {
    path: `/${v}/12345`,
    rule: cloud("messages:send", "passes"),
    optional: true,
  },
  "GET /media/:mediaId/download": {
    path: "/media/12345/download",
    rule: cloud("messages:read", "passes"),
    optional: true,
  },
  "POST /admin/api-keys": {
    path: "/admin/api-keys",
    body: {},
    rule: admin(null, "api-keys:manage", 400),
  },
  "GET /admin/api-keys": { path: "/admin/api-keys", rule: admin(null, "api-keys:manage", 200) },
  "DELETE /admin/api-keys/:id": {
    path: "/admin/api-keys/key_nope",
    rule: admin(null, "api-keys:manage", 400),
  },
  "POST /admin/webhooks": {
    path: "/admin/webhooks",
    body: {},
    rule: admin("webhooks:manage", "webhooks:manage", 400),
  },
  "GET /admin/webhooks": {
    path: "/admin/webhooks",
    rule: admin("webhooks:manage", "webhooks:manage", 200),
  },
  "DELETE /admin/webhooks/:id": {
    path: "/admin/webhooks/nope",
    rule: admin("webhooks:manage", "webhooks:manage", 400),
  },
  "POST /admin/webhooks/:id/enable": {
    path: "/admin/webhooks/nope/enable",
    rule: admin("webhooks:manage", "webhooks:manage", 400),
  },
  "GET /admin/webhooks/deliveries": {
    path: "/admin/webhooks/deliveries",
    rule: admin("webhooks:manage", "webhooks:manage", 200),
  },
  "POST /admin/webhooks/deliveries/:id/replay": {
    path: "/admin/webhooks/deliveries/nope/replay",
    rule: admin("webhooks:manage", "webhooks:manage", 400),
  },
  "POST /api/inbox/agents": {
    path: "/api/inbox/agents",
    body: {},
    rule: inbox("agents:manage", 400),
  },
  "GET /api/inbox/agents": { path: "/api/inbox/agents", rule: inbox(null, 200) },
  "PATCH /api/inbox/agents/:id": {
    path: "/api/inbox/agents/agt_nope",
    body: {},
    rule: inbox("agents:manage", 404),
  },
  "POST /api/inbox/agents/:id/invitation": {
    path: "/api/inbox/agents/agt_nope/invitation",
    rule: inbox("agents:manage", 404),
  },
  "POST /api/inbox/invitations/accept": {
    path: "/api/inbox/invitations/accept",
    body: {},
    rule: open(400),
  },
  "POST /api/inbox/sessions": { path: "/api/inbox/sessions", body: {}, rule: open(400) },
  "DELETE /api/inbox/sessions/current": {
    path: "/api/inbox/sessions/current",
    rule: agentsOnly(200),
    last: true,
  },
  "GET /api/inbox/me": { path: "/api/inbox/me", rule: inbox(null, 200) },
  "POST /api/inbox/roles": { path: "/api/inbox/roles", body: {}, rule: inbox("roles:manage", 400) },
  "GET /api/inbox/roles": { path: "/api/inbox/roles", rule: inbox(null, 200) },
  "PATCH /api/inbox/roles/:id": {
    path: "/api/inbox/roles/rol_nope",
    body: {},
    rule: inbox("roles:manage", 404),
  },
  "DELETE /api/inbox/roles/:id": {
    path: "/api/inbox/roles/rol_nope",
    rule: inbox("roles:manage", 404),
  },
  "POST /api/inbox/teams": { path: "/api/inbox/teams", body: {}, rule: inbox("teams:manage", 400) },
  "GET /api/inbox/teams": { path: "/api/inbox/teams", rule: inbox(null, 200) },
  "PATCH /api/inbox/teams/:id": {
    path: "/api/inbox/teams/team_nope",
    body: {},
    rule: inbox("teams:manage", 404),
  },
  "DELETE /api/inbox/teams/:id": {
    path: "/api/inbox/teams/team_nope",
    rule: inbox("teams:manage", 404),
  },
  "PUT /api/inbox/teams/:id/members/:agentId": {
    path: "/api/inbox/teams/team_nope/members/agt_nope",
    rule: inbox("teams:manage", 404),
  },
  "DELETE /api/inbox/teams/:id/members/:agentId": {
    path: "/api/inbox/teams/team_nope/members/agt_nope",
    rule: inbox("teams:manage", 404),
  },
  "GET /api/inbox/settings": { path: "/api/inbox/settings", rule: inbox(null, 200) },
  "PUT /api/inbox/settings": {
    path: "/api/inbox/settings",
    body: {},
    rule: inbox("teams:manage", 400),
  },
  "GET /api/inbox/conversations": {
    path: "/api/inbox/conversations",
    rule: (w) => (session(w) && !readsConversations(w) && !dead(w) ? 403 : inbox(null, 200)(w)),
  },
  "GET /api/inbox/conversations/:id": {
    path: "/api/inbox/conversations/{conversation}",
    rule: conversation(null, 200),
  },
  "GET /api/inbox/conversations/:id/media/:mediaId": {
    path: "/api/inbox/conversations/{conversation}/media/{media}",
    rule: conversation(null, 200),
  },
  "GET /api/inbox/conversations/:id/timeline": {
    path: "/api/inbox/conversations/{conversation}/timeline",
    rule: conversation(null, 200),
  },
  "POST /api/inbox/conversations/:id/messages": {
    path: "/api/inbox/conversations/{conversation}/messages",
    body: { text: "On it." },
    rule: conversation("conversations:reply", 201),
  },
  "PATCH /api/inbox/conversations/:id": {
    path: "/api/inbox/conversations/{conversation}",
    body: { status: "open" },
    rule: conversation("conversations:status", 200),
  },
  "POST /api/inbox/conversations/:id/notes": {
    path: "/api/inbox/conversations/{conversation}/notes",
    body: { body: "checked" },
    rule: conversation("notes:write", 201),
  },
  "GET /api/inbox/audit": { path: "/api/inbox/audit", rule: inbox("audit:read", 200) },
  "PUT /api/inbox/intents": {
    path: "/api/inbox/intents",
    body: {},
    rule: inbox("intents:manage", 400),
  },
  "GET /api/inbox/intents": { path: "/api/inbox/intents", rule: inbox("intents:manage", 200) },
  // fetch follows the 308 to /inbox/.
  "GET /inbox": { path: "/inbox", rule: open(200), optional: true },
  "GET /inbox/": { path: "/inbox/", rule: open(200), optional: true },
  "GET /assets/*": { path: "/assets/no-such-file.js", rule: open("passes"), optional: true },
};

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`the authorisation matrix (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let receiver: Receiver;
    let customer: Person;
    let conversationId: string;
    let mediaId: string;
    const tokens = {} as Record<Who, string | null>;

    async function agentSession(
      name: string,
      roleId: string,
      teamIds: string[],
    ): Promise<{ id: string; token: string }> {
      const created = await gw.call("POST", "/api/inbox/agents", {
        body: { name, email: `${name}@acme.test`, roleId, teamIds },
      });
      const accepted = await gw.call("POST", "/api/inbox/invitations/accept", {
        key: null,
        body: { token: created.body.invitation.token, password: "a long enough password" },
      });
      return { id: created.body.agent.id, token: accepted.body.token };
    }

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend);
      gw = await runGateway(t, place);
      receiver = new Receiver();
      await receiver.start();
      await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } });
      const team = await gw.call("POST", "/api/inbox/teams", {
        body: { name: "Support", routing: "manual" },
      });
      await gw.call("PUT", "/api/inbox/settings", { body: { defaultTeamId: team.body.team.id } });
      customer = await person(t, "Hana");
      await customer.client.api.addContact({ phone: place.phone });
      const chat = await customer.client.startDirectChat(gw.userId);
      conversationId = chat.groupId;
      await customer.client.sendText(chat.groupId, "Hello?");
      await customer.client.sendAttachment(chat.groupId, tinyPng, {
        name: "photo.png",
        mime: "image/png",
      });
      const image = await eventually(() => {
        const found = deliveredMessages(receiver).find((m) => m.type === "image");
        expect(found).toBeDefined();
        return found;
      }, 20_000);
      mediaId = image.image.id;

      tokens["no token"] = null;
      tokens["bad token"] = "vbk_not-a-key";
      tokens["admin key"] = undefined as unknown as null; // the harness's default: the admin key
      for (const scope of ["messages:send", "messages:read", "webhooks:manage"]) {
        const key = await gw.call("POST", "/admin/api-keys", {
          body: { name: scope, scopes: [scope] },
        });
        tokens[`key ${scope}` as Who] = key.body.key;
      }
      const revoked = await gw.call("POST", "/admin/api-keys", {
        body: { name: "old", scopes: ["messages:send", "messages:read", "webhooks:manage"] },
      });
      await gw.call("DELETE", `/admin/api-keys/${revoked.body.id}`);
      tokens["revoked key"] = revoked.body.key;
      const custom = await gw.call("POST", "/api/inbox/roles", {
        body: { name: "auditor", permissions: customPermissions },
      });
      tokens["admin session"] = (await agentSession("ada", "admin", [])).token;
      tokens["supervisor session"] = (await agentSession("sam", "supervisor", [])).token;
      tokens["agent session"] = (await agentSession("abe", "agent", [team.body.team.id])).token;
      tokens["custom session"] = (await agentSession("cas", custom.body.role.id, [])).token;
      const gone = await agentSession("dee", "agent", [team.body.team.id]);
      await gw.call("PATCH", `/api/inbox/agents/${gone.id}`, { body: { active: false } });
      tokens["deactivated session"] = gone.token;
    });

    afterAll(async () => {
      await customer?.client.close();
      await gw?.gateway.close();
      await receiver?.stop();
      await place?.dispose();
      await t?.close();
    });

    it("has a row for every route, and a route for every row", () => {
      const routes = new Set(
        gw.gateway.inbox.routes
          .filter((r) => r.method !== "HEAD")
          .map((r) => `${r.method} ${r.url}`),
      );
      expect([...routes].filter((r) => !(r in table))).toEqual([]);
      expect(
        Object.entries(table)
          .filter(([r, row]) => !row.optional && !routes.has(r))
          .map(([r]) => r),
      ).toEqual([]);
      expect(routes.size).toBeGreaterThan(40);
    });

    it("answers every route for every caller as the table says", async () => {
      const routes = new Set(gw.gateway.inbox.routes.map((r) => `${r.method} ${r.url}`));
      const rows = Object.entries(table)
        .filter(([route]) => routes.has(route))
        .sort(([, a], [, b]) => Number(a.last ?? false) - Number(b.last ?? false));
      const wrong: string[] = [];
      for (const [route, row] of rows) {
        const method = route.split(" ")[0] as string;
        const path = row.path
          .replace("{phone}", gw.gateway.phoneNumberId)
          .replace("{conversation}", encodeURIComponent(conversationId))
          .replace("{media}", mediaId);
        for (const w of who) {
          const res = await gw.call(method, path, {
            key: tokens[w],
            ...(row.body === undefined ? {} : { body: row.body }),
          });
          const expected = row.rule(w);
          const ok =
            expected === "passes"
              ? res.status !== 401 && res.status !== 403 && res.status < 500
              : res.status === expected;
          if (!ok) wrong.push(`${route} as ${w}: ${res.status}, expected ${expected}`);
          if (res.status >= 400 && typeof res.body === "object")
            expect(res.body.error, `${route} as ${w}`).toMatchObject({
              code: expect.any(Number),
              fbtrace_id: expect.any(String),
            });
        }
      }
      expect(wrong).toEqual([]);
    });

    it("serves the OpenAPI document to anyone", async () => {
      const docs = await gw.call("GET", "/docs/json", { key: null });
      expect(docs.status).toBe(200);
      expect(Object.keys(docs.body.paths)).toContain("/api/inbox/conversations/{id}/timeline");
    });
  });
}
