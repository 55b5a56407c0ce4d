import { type ErrorCode, errorRegistry, type GuidelineCategory } from "@veil/protocol";

/** A failure with a stable code from the registry in @veil/protocol. */
export class VeilError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = errorRegistry[code].message,
    /**
     * For `rate_limited`: when the client may try again. For `content_rejected`:
     * the guideline broken (sent to the client as the error's `category`).
     */
    readonly details: { retryAfterSeconds?: number; category?: GuidelineCategory } = {},
  ) {
    super(message);
    this.name = "VeilError";
    this.status = errorRegistry[code].status;
  }
}
