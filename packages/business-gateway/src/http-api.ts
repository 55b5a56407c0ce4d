import { createHash } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { type Static, Type } from "@sinclair/typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import {
  authorize,
  bearer,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type Scope,
  scopes,
} from "./api-keys.js";
import type { BusinessEndpoint } from "./business-endpoint.js";
import { CloudError } from "./cloud-errors.js";
import type { Inbox } from "./inbox/index.js";
import { isMediaKind } from "./media/media-types.js";
import { mediaRoutes } from "./media/routes.js";
import { mediaMessageFields, sendMediaMessage } from "./media/send.js";
import type { Database } from "./store/database.js";
import type { DeliveryWorker } from "./webhooks/delivery-worker.js";
import {
  deleteEndpoint,
  enableEndpoint,
  listEndpoints,
  subscribeEndpoint,
} from "./webhooks/endpoints.js";
import { listDeliveries, replayDelivery } from "./webhooks/outbox.js";
import { WebhookUrlError } from "./webhooks/ssrf-guard.js";

export interface HttpDeps {
  database: Database;
  endpoint: BusinessEndpoint;
  worker: DeliveryWorker;
  /** The team inbox: its routes, and agent sessions on the /admin routes. */
  inbox: Inbox;
  phoneNumberId: string;
  adminKey: string;
  verifyToken: string;
  allowPrivateWebhooks: boolean;
  handshakeTimeoutMs: number;
  /** Requests per minute per caller (its bearer token, else its address). */
  rateLimitPerMinute: number;
  logger: Logger;
}

const CloudErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String(),
      code: Type.Integer(),
      error_subcode: Type.Optional(Type.Integer()),
      error_data: Type.Optional(
        Type.Object({ messaging_product: Type.String(), details: Type.String() }),
      ),
      fbtrace_id: Type.String(),
    }),
  },
  { $id: "CloudError" },
);
const errorResponses = {
  400: Type.Ref("CloudError"),
  401: Type.Ref("CloudError"),
  403: Type.Ref("CloudError"),
  404: Type.Ref("CloudError"),
};

const SendMessageBody = Type.Object({
  messaging_product: Type.Literal("whatsapp"),
  recipient_type: Type.Optional(Type.Literal("individual")),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  type: Type.Optional(Type.String({ maxLength: 32 })),
  text: Type.Optional(
    Type.Object({
      body: Type.String({ minLength: 1, maxLength: 4096 }),
      preview_url: Type.Optional(Type.Boolean()),
    }),
  ),
  context: Type.Optional(
    Type.Object({ message_id: Type.String({ minLength: 1, maxLength: 512 }) }),
  ),
  reaction: Type.Optional(
    Type.Object({
      message_id: Type.String({ minLength: 1, maxLength: 512 }),
      emoji: Type.String({ maxLength: 32 }),
    }),
  ),
  ...mediaMessageFields,
  status: Type.Optional(Type.Literal("read")),
  message_id: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  biz_opaque_callback_data: Type.Optional(Type.String({ maxLength: 512 })),
});
type SendMessageBody = Static<typeof SendMessageBody>;

const SendMessageResponse = Type.Object({
  messaging_product: Type.Literal("whatsapp"),
  contacts: Type.Array(Type.Object({ input: Type.String(), wa_id: Type.String() })),
  messages: Type.Array(Type.Object({ id: Type.String() })),
});
const SuccessResponse = Type.Object({ success: Type.Boolean() });

const ScopeSchema = Type.Union(scopes.map((s) => Type.Literal(s)));
const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.Integer(),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});
const EndpointSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  state: Type.String(),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
});
const DeliverySchema = Type.Object({
  id: Type.String(),
  endpointId: Type.String(),
  event: Type.String(),
  state: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Integer(),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  deliveredAt: Type.Union([Type.Integer(), Type.Null()]),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

const versionPattern = /^v\d+\.\d+$/;

/** Maps Fastify's own errors (validation, body parsing) onto Cloud API errors. */
function toCloudError(error: FastifyError): CloudError {
  if (error instanceof CloudError) return error;
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? "body"}${first?.instancePath ?? ""}`;
    if (first?.keyword === "required") {
      const missing = (first.params as { missingProperty?: string }).missingProperty ?? "";
      return new CloudError("parameter_missing", `${where}/${missing} is required`);
    }
    if (first?.instancePath === "" && first.keyword === "type")
      return new CloudError("invalid_parameter", `${where} must be a JSON object`);
    return new CloudError("parameter_invalid", `${where} ${first?.message ?? "is not valid"}`);
  }
  if (error.statusCode === 429) return new CloudError("rate_limited");
  if (error.statusCode !== undefined && error.statusCode < 500)
    return new CloudError("invalid_parameter", "The request body is not valid JSON");
  return new CloudError("generic");
}

/** The REST API: Cloud-API-shaped messages, and the admin routes for keys and webhooks. */
export async function buildHttpApi(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    // No reply (a download) may hold a connection open past close.
    forceCloseConnections: true,
  });
  app.addSchema(CloudErrorSchema);
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => request.url === "/healthz",
    // Each key (or session) has its own budget; callers without one share their address's.
    keyGenerator: (request) => {
      const token = bearer(request.headers.authorization);
      return token === null
        ? `ip:${request.ip}`
        : `token:${createHash("sha256").update(token).digest("base64url")}`;
    },
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error("rate limited"), { statusCode: 429, retryAfter: context.after }),
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const cloud = toCloudError(error);
    if (cloud.kind === "generic") request.log.error({ err: error }, "request failed");
    // Fastify's own 4xx keep their status (415, 413); ours use the registry's.
    const status =
      !(error instanceof CloudError) && error.statusCode && error.statusCode < 500
        ? error.statusCode === 404
          ? 400
          : error.statusCode
        : cloud.status;
    return reply.status(status).send(cloud.body());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(400)
      .send(
        new CloudError("unknown_path", `${request.method} ${request.url.split("?")[0]}`).body(),
      ),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: "Veil Business Gateway API",
        version: "0.1.0",
        description:
          "A WhatsApp-Cloud-API-compatible messaging API for a business on Veil. Errors use the Cloud API's shape.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });

  const guard =
    (scope: Scope | "admin") =>
    async (request: FastifyRequest): Promise<void> => {
      if (await deps.inbox.authorizeAdminRoute(request.headers.authorization, scope)) return;
      await authorize(deps.database.db, deps.adminKey, request.headers.authorization, scope);
    };
  deps.inbox.register(app, deps.endpoint);

  app.get("/healthz", { schema: { hide: true } }, async () => ({ ok: true }));

  app.post(
    "/:version/:phoneNumberId/messages",
    {
      schema: {
        summary:
          "Send a text, a reaction, an image, document, audio, video or sticker (by media id or link), or mark a message read (Cloud API shape)",
        params: Type.Object({ version: Type.String(), phoneNumberId: Type.String() }),
        body: SendMessageBody,
        response: { 200: Type.Union([SendMessageResponse, SuccessResponse]), ...errorResponses },
      },
      preValidation: async (request) => {
        const { version, phoneNumberId } = request.params as {
          version: string;
          phoneNumberId: string;
        };
        if (!versionPattern.test(version))
          throw new CloudError("unknown_path", `unsupported version ${version.slice(0, 32)}`);
        await authorize(
          deps.database.db,
          deps.adminKey,
          request.headers.authorization,
          "messages:send",
        );
        if (phoneNumberId !== deps.phoneNumberId)
          throw new CloudError(
            "invalid_parameter",
            `Unsupported post request. Object with ID '${phoneNumberId.slice(0, 64)}' does not exist`,
            33,
          );
      },
    },
    async (request) => {
      const body = request.body as SendMessageBody;
      if (body.status !== undefined) {
        if (body.message_id === undefined)
          throw new CloudError("parameter_missing", "message_id is required");
        await deps.endpoint.markRead(body.message_id);
        return { success: true };
      }
      if (body.to === undefined) throw new CloudError("parameter_missing", "to is required");
      const type = body.type ?? "text";
      const to = body.to;
      let id: string;
      if (type === "text") {
        if (!body.text) throw new CloudError("parameter_missing", "text is required");
        id = await deps.endpoint.sendText(to, body.text.body, body.context?.message_id ?? null);
      } else if (type === "reaction") {
        if (!body.reaction) throw new CloudError("parameter_missing", "reaction is required");
        id = await deps.endpoint.react(to, body.reaction.message_id, body.reaction.emoji);
      } else if (isMediaKind(type)) {
        id = await sendMediaMessage(
          {
            endpoint: deps.endpoint,
            media: deps.endpoint.media,
            allowPrivate: deps.allowPrivateWebhooks,
          },
          to,
          type,
          body[type],
          body.context?.message_id ?? null,
        );
      } else throw new CloudError("unsupported_type", `type ${type.slice(0, 32)}`);
      return {
        messaging_product: "whatsapp" as const,
        contacts: [{ input: to, wa_id: to }],
        messages: [{ id }],
      };
    },
  );

  await app.register(mediaRoutes, {
    database: deps.database,
    media: deps.endpoint.media,
    phoneNumberId: deps.phoneNumberId,
    adminKey: deps.adminKey,
  });

  // --- API keys (the bootstrap admin key only) -----------------------------------

  app.post(
    "/admin/api-keys",
    {
      schema: {
        summary: "Create an API key (shown once)",
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: scopes.length }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Intersect([ApiKeySchema, Type.Object({ key: Type.String() })]),
          ...errorResponses,
        },
      },
      preValidation: guard("admin"),
    },
    async (request, reply) => {
      const body = request.body as { name: string; scopes: Scope[] };
      return reply.status(201).send(await createApiKey(deps.database.db, body.name, body.scopes));
    },
  );

  app.get(
    "/admin/api-keys",
    {
      schema: {
        summary: "List API keys (never the keys themselves)",
        response: { 200: Type.Object({ keys: Type.Array(ApiKeySchema) }), ...errorResponses },
      },
      preValidation: guard("admin"),
    },
    async () => ({ keys: await listApiKeys(deps.database.db) }),
  );

  app.delete(
    "/admin/api-keys/:id",
    {
      schema: {
        summary: "Revoke an API key",
        params: IdParams,
        response: { 200: SuccessResponse, ...errorResponses },
      },
      preValidation: guard("admin"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await revokeApiKey(deps.database.db, id)))
        throw new CloudError("parameter_invalid", "no such API key");
      return { success: true };
    },
  );

  // --- webhooks (admin key, or an API key with webhooks:manage) ------------------

  app.post(
    "/admin/webhooks",
    {
      schema: {
        summary: "Subscribe an endpoint (SSRF guard, then the hub.challenge handshake)",
        body: Type.Object(
          { url: Type.String({ minLength: 1, maxLength: 2048 }) },
          { additionalProperties: false },
        ),
        response: { 201: EndpointSchema, ...errorResponses },
      },
      preValidation: guard("webhooks:manage"),
    },
    async (request, reply) => {
      const { url } = request.body as { url: string };
      try {
        const endpoint = await subscribeEndpoint(deps.database.db, url, {
          verifyToken: deps.verifyToken,
          allowPrivate: deps.allowPrivateWebhooks,
          timeoutMs: deps.handshakeTimeoutMs,
        });
        return reply.status(201).send(endpoint);
      } catch (error) {
        if (error instanceof WebhookUrlError)
          throw new CloudError("parameter_invalid", `url: ${error.message}`);
        throw error;
      }
    },
  );

  app.get(
    "/admin/webhooks",
    {
      schema: {
        summary: "List subscribed endpoints",
        response: {
          200: Type.Object({ endpoints: Type.Array(EndpointSchema) }),
          ...errorResponses,
        },
      },
      preValidation: guard("webhooks:manage"),
    },
    async () => ({ endpoints: await listEndpoints(deps.database.db) }),
  );

  app.delete(
    "/admin/webhooks/:id",
    {
      schema: {
        summary: "Unsubscribe an endpoint (its pending deliveries go too)",
        params: IdParams,
        response: { 200: SuccessResponse, ...errorResponses },
      },
      preValidation: guard("webhooks:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await deleteEndpoint(deps.database.db, id)))
        throw new CloudError("parameter_invalid", "no such webhook endpoint");
      return { success: true };
    },
  );

  app.post(
    "/admin/webhooks/:id/enable",
    {
      schema: {
        summary: "Re-activate a disabled endpoint (the handshake runs again)",
        params: IdParams,
        response: { 200: EndpointSchema, ...errorResponses },
      },
      preValidation: guard("webhooks:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      try {
        const endpoint = await enableEndpoint(deps.database.db, id, {
          verifyToken: deps.verifyToken,
          allowPrivate: deps.allowPrivateWebhooks,
          timeoutMs: deps.handshakeTimeoutMs,
        });
        if (!endpoint) throw new CloudError("parameter_invalid", "no such webhook endpoint");
        deps.worker.wake();
        return endpoint;
      } catch (error) {
        if (error instanceof WebhookUrlError)
          throw new CloudError("parameter_invalid", `url: ${error.message}`);
        throw error;
      }
    },
  );

  app.get(
    "/admin/webhooks/deliveries",
    {
      schema: {
        summary: "Recent deliveries, newest first (filter by state or endpoint)",
        querystring: Type.Object(
          {
            state: Type.Optional(
              Type.Union([
                Type.Literal("pending"),
                Type.Literal("delivered"),
                Type.Literal("dead"),
              ]),
            ),
            endpoint: Type.Optional(Type.String({ maxLength: 128 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ deliveries: Type.Array(DeliverySchema) }),
          ...errorResponses,
        },
      },
      preValidation: guard("webhooks:manage"),
    },
    async (request) => {
      const q = request.query as { state?: string; endpoint?: string; limit?: number };
      return {
        deliveries: await listDeliveries(deps.database.db, {
          ...(q.state ? { state: q.state } : {}),
          ...(q.endpoint ? { endpointId: q.endpoint } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        }),
      };
    },
  );

  app.post(
    "/admin/webhooks/deliveries/:id/replay",
    {
      schema: {
        summary: "Re-queue a delivery under the same webhook id",
        params: IdParams,
        response: { 200: SuccessResponse, ...errorResponses },
      },
      preValidation: guard("webhooks:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await replayDelivery(deps.database.db, id)))
        throw new CloudError("parameter_invalid", "no such delivery");
      deps.worker.wake();
      return { success: true };
    },
  );

  return app;
}
