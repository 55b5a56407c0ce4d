import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ErrorResponse } from "@veil/protocol";
import type { FastifyInstance } from "fastify";

export type App = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  import("fastify").FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Error responses every route documents. */
export const errorResponses = { "4xx": ErrorResponse, "5xx": ErrorResponse } as const;

/** The client address, as Fastify resolved it (honouring VEIL_TRUST_PROXY). */
export const clientAddress = (request: { ip: string }): string => request.ip;
