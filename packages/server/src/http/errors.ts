import { type ErrorBody, type ErrorCode, errorRegistry } from "@veil/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { VeilError } from "../errors.js";
import { unreachableStorage } from "../store/unreachable.js";

/** Fastify's own error codes that are the client's fault, mapped onto ours. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "validation_failed",
  FST_ERR_CTP_EMPTY_JSON_BODY: "validation_failed",
  FST_ERR_CTP_INVALID_JSON_BODY: "validation_failed",
  FST_ERR_VALIDATION: "validation_failed",
};

export function errorBody(
  code: ErrorCode,
  message: string = errorRegistry[code].message,
  category?: string,
): ErrorBody {
  return { error: { code, message, ...(category === undefined ? {} : { category }) } };
}

/** Classifies any thrown value into a registered code and a safe message. */
export function toPublicError(error: unknown): {
  code: ErrorCode;
  message: string;
  status: number;
  category?: string;
} {
  if (error instanceof VeilError) {
    const { category } = error.details;
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      ...(category === undefined ? {} : { category }),
    };
  }
  const e = error as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    return {
      code: "validation_failed",
      message: e.message ?? errorRegistry.validation_failed.message,
      status: 400,
    };
  }
  const mapped = e.code ? fastifyCodes[e.code] : undefined;
  if (mapped)
    return {
      code: mapped,
      message: errorRegistry[mapped].message,
      status: errorRegistry[mapped].status,
    };
  if (e.statusCode === 429)
    return { code: "rate_limited", message: errorRegistry.rate_limited.message, status: 429 };
  if (e.statusCode === 413)
    return { code: "body_too_large", message: errorRegistry.body_too_large.message, status: 413 };
  if (e.statusCode === 415) {
    return {
      code: "unsupported_media_type",
      message: errorRegistry.unsupported_media_type.message,
      status: 415,
    };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      code: "validation_failed",
      message: errorRegistry.validation_failed.message,
      status: 400,
    };
  }
  if (unreachableStorage(error)) {
    return {
      code: "storage_unavailable",
      message: errorRegistry.storage_unavailable.message,
      status: 503,
    };
  }
  return { code: "internal_error", message: errorRegistry.internal_error.message, status: 500 };
}

/**
 * Fastify's `frameworkErrors`: a malformed URL (bad percent-encoding, an over-long
 * parameter) never reaches the error handler, and Fastify would answer it in its own
 * shape, echoing the path.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const mapped = toPublicError(error);
  void reply.status(mapped.status).send(errorBody(mapped.code, mapped.message));
}

/**
 * Node's `clientError`: HTTP that never became a request (garbled framing,
 * headers over the limit). Answered in the one error shape, then closed.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: import("node:stream").Duplex,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    error.code === "HPE_HEADER_OVERFLOW" ? "headers_too_large" : "malformed_request";
  const status = errorRegistry[code].status;
  const body = JSON.stringify(errorBody(code));
  const reason = status === 431 ? "Request Header Fields Too Large" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** One error shape on every failure; 500s are logged with the request id and say nothing more. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const mapped = toPublicError(error);
    if (mapped.code === "storage_unavailable") {
      request.log.warn({ code: (error as { code?: unknown }).code }, "database unreachable");
      reply.header("retry-after", "1");
    } else if (mapped.status >= 500) request.log.error({ err: error }, "request failed");
    if (mapped.code === "rate_limited" && !reply.hasHeader("retry-after")) {
      const seconds = error instanceof VeilError ? error.details.retryAfterSeconds : undefined;
      reply.header("retry-after", String(seconds ?? 60));
    }
    return reply
      .status(mapped.status)
      .send(errorBody(mapped.code, mapped.message, mapped.category));
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send(errorBody("route_not_found")));
}
