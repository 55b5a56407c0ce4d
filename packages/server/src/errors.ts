import { type ErrorCode, errorRegistry } from "@veil/protocol";

/** A failure with a stable code from the registry in @veil/protocol. */
export class VeilError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = errorRegistry[code].message,
    /** For `rate_limited`: when the client may try again. */
    readonly details: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "VeilError";
    this.status = errorRegistry[code].status;
  }
}
