import { Type } from "@sinclair/typebox";
import type { Bus } from "../bus/bus.js";
import { errorBody } from "../http/errors.js";
import type { App } from "../http/route-kit.js";
import type { Database } from "../store/database.js";
import type { Metrics } from "./metrics.js";

/** Liveness, readiness and Prometheus metrics. */
export function opsRoutes(
  app: App,
  deps: { database: Database; bus: Bus; metrics: Metrics; draining: () => boolean },
): void {
  const tags = ["operations"];
  app.get(
    "/healthz",
    {
      schema: {
        tags,
        summary: "Liveness: the process answers",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({
      status: "ok" as const,
    }),
  );

  app.get(
    "/readyz",
    { schema: { tags, summary: "Readiness: database and bus reachable, not shutting down" } },
    async (_request, reply) => {
      if (deps.draining())
        return reply.status(503).send(errorBody("not_ready", "The server is shutting down."));
      try {
        await deps.database.ping();
      } catch {
        return reply.status(503).send(errorBody("not_ready", "The database is not reachable."));
      }
      if (!deps.bus.healthy())
        return reply.status(503).send(errorBody("not_ready", "The bus is not connected."));
      return { status: "ready" };
    },
  );

  app.get(
    "/metrics",
    { schema: { tags, summary: "Prometheus metrics", hide: false } },
    async (_request, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.header("content-type", deps.metrics.registry.contentType).send(body);
    },
  );
}
