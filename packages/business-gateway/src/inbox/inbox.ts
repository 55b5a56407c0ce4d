import type { IntentModel } from "@veil/insights";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bearer, type Scope } from "../api-keys.js";
import type { BusinessEndpoint, InboundHooks } from "../business-endpoint.js";
import { CloudError } from "../cloud-errors.js";
import type { Database } from "../store/database.js";
import { SignInLimiter } from "./agents.js";
import { audit } from "./audit.js";
import { routeInbound } from "./conversations.js";
import { IntentRegistry } from "./intents.js";
import { holds, identify, type Principal, sessionPrefix } from "./principals.js";
import { registerInboxRoutes } from "./routes.js";

/** The /admin routes' scopes as inbox permissions (what an agent's role must hold). */
const adminPermission = { admin: "api-keys:manage", "webhooks:manage": "webhooks:manage" } as const;

/** Audit actions of the /admin routes that change something. */
const adminActions: Record<string, string> = {
  "POST /admin/api-keys": "api_key.created",
  "DELETE /admin/api-keys/:id": "api_key.revoked",
  "POST /admin/webhooks": "webhook.created",
  "DELETE /admin/webhooks/:id": "webhook.deleted",
  "POST /admin/webhooks/:id/enable": "webhook.enabled",
  "POST /admin/webhooks/deliveries/:id/replay": "webhook.replayed",
};

/**
 * The team inbox: agents and their sessions, roles (CASL abilities), teams
 * and routing, conversation state, notes, the audit log and the intent
 * model. The gateway opens one, passes `hooks` to the endpoint and
 * `register`s its routes.
 */
export class Inbox {
  readonly limiter = new SignInLimiter();
  readonly intents: IntentRegistry;
  /** Every route added after `register` (method and URL pattern), for the authorisation matrix. */
  readonly routes: Array<{ method: string; url: string }> = [];

  private constructor(
    readonly database: Database,
    private readonly adminKey: string,
  ) {
    this.intents = new IntentRegistry(database);
  }

  static async open(database: Database, adminKey: string): Promise<Inbox> {
    const inbox = new Inbox(database, adminKey);
    await inbox.intents.load();
    return inbox;
  }

  /** The endpoint's hook: routes each stored incoming message's conversation. */
  readonly stored: NonNullable<InboundHooks["stored"]> = (tx, event) =>
    routeInbound(tx, { groupId: event.groupId, at: event.at });

  /** The business's trained intent model, or null before any examples were given. */
  getIntentModel(): IntentModel | null {
    return this.intents.current();
  }

  identify(header: string | undefined): Promise<Principal> {
    return identify(this.database.db, this.adminKey, header);
  }

  /**
   * For the /admin routes' guard: true when the bearer is an agent session
   * whose role holds the route's permission; throws for a dead session or a
   * missing permission; false for other tokens (the key check follows).
   */
  async authorizeAdminRoute(header: string | undefined, scope: Scope | "admin"): Promise<boolean> {
    if (!bearer(header)?.startsWith(sessionPrefix)) return false;
    const principal = await this.identify(header);
    const permission =
      scope === "admin" || scope === "webhooks:manage" ? adminPermission[scope] : null;
    if (permission === null || !holds(principal, permission))
      throw new CloudError(
        "permission_denied",
        `This requires the ${permission ?? scope} permission`,
      );
    return true;
  }

  /** Registers the /api/inbox routes, and audits the /admin routes' changes. */
  register(app: FastifyInstance, endpoint: BusinessEndpoint): void {
    app.addHook("onRoute", (route) => {
      for (const method of [route.method].flat()) this.routes.push({ method, url: route.url });
    });
    app.addHook("onSend", async (request, reply, payload) => {
      await this.auditAdmin(request, reply, payload);
      return payload;
    });
    registerInboxRoutes(app, this, endpoint);
  }

  private async auditAdmin(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
  ): Promise<void> {
    const action = adminActions[`${request.method} ${request.routeOptions.url ?? ""}`];
    if (!action || reply.statusCode >= 300) return;
    let actor = "unknown";
    try {
      actor = (await this.identify(request.headers.authorization)).actor;
    } catch {}
    const params = request.params as { id?: string };
    let target = params.id ?? null;
    if (target === null && typeof payload === "string") {
      try {
        const id = (JSON.parse(payload) as { id?: unknown }).id;
        if (typeof id === "string") target = id;
      } catch {}
    }
    const details: Record<string, unknown> = {};
    if (action === "api_key.created") {
      const body = request.body as { scopes?: unknown };
      details.scopes = body.scopes;
    }
    await audit(this.database.db, actor, action, target, details);
  }
}
