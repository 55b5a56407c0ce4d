import { Type } from "@sinclair/typebox";
import {
  BusinessParams,
  BusinessProfile,
  BusinessSearchQuery,
  BusinessSearchResult,
  UpdateBusinessRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import type { Businesses } from "./businesses.js";

export interface BusinessRouteDeps {
  businesses: Businesses;
  db: Db;
  now: () => number;
}

/** Business accounts: the own business profile, reading and searching businesses, the badge. */
export function businessRoutes(app: App, { businesses, db, now }: BusinessRouteDeps): void {
  const auth = requireAuth(db, now);
  const tags = ["businesses"];
  const ok = <T>(schema: T) => ({ 200: schema, ...errorResponses });
  const none = { 204: Type.Null(), ...errorResponses };

  app.put(
    "/v1/me/business",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Become a business, or change your business profile",
        body: UpdateBusinessRequest,
        response: ok(BusinessProfile),
      },
    },
    (request) => businesses.put(caller(request).userId, request.body),
  );

  app.delete(
    "/v1/me/business",
    {
      preValidation: auth,
      schema: { tags, summary: "Stop being a business", response: none },
    },
    async (request, reply) => {
      await businesses.remove(caller(request).userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/businesses",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Search businesses by name",
        querystring: BusinessSearchQuery,
        response: ok(BusinessSearchResult),
      },
    },
    async (request) => {
      const { q, limit } = request.query;
      const found = await businesses.search(
        caller(request).userId,
        q,
        limit === undefined ? undefined : Number(limit),
      );
      return { businesses: found };
    },
  );

  app.get(
    "/v1/businesses/:userId",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "A business's profile",
        params: BusinessParams,
        response: ok(BusinessProfile),
      },
    },
    (request) => businesses.one(caller(request).userId, request.params.userId),
  );

  const verifiedRoute = (summary: string) => ({
    preValidation: auth,
    schema: { tags, summary, params: BusinessParams, response: none },
  });
  app.put(
    "/v1/businesses/:userId/verified",
    verifiedRoute("Set a business's verified badge (platform admins)"),
    async (request, reply) => {
      await businesses.setVerified(caller(request), request.params.userId, true);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    "/v1/businesses/:userId/verified",
    verifiedRoute("Clear a business's verified badge (platform admins)"),
    async (request, reply) => {
      await businesses.setVerified(caller(request), request.params.userId, false);
      return reply.status(204).send(null);
    },
  );
}
