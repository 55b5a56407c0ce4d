import type { FastifyReply, FastifyRequest } from "fastify";
import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";
import { type AuthContext, authenticate } from "./sessions.js";

declare module "fastify" {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header?.startsWith("Bearer ")) return null;
  return header.slice("Bearer ".length).trim();
}

/** A preValidation hook: after the global rate limit, before the schema checks. */
export function requireAuth(db: Db, now: () => number) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request);
    const auth = token ? await authenticate(db, token, now()) : null;
    if (!auth) throw new VeilError("unauthenticated");
    request.auth = auth;
  };
}

/** The caller of an authenticated route. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new VeilError("unauthenticated");
  return request.auth;
}
