import { randomBytes } from "node:crypto";

/**
 * The Cloud API's error codes this gateway answers with (the Graph API's
 * shape: `{ error: { message, type, code, error_subcode?, fbtrace_id } }`).
 */
export const cloudErrors = {
  /** Invalid OAuth access token: missing, unknown or revoked API key. */
  invalid_token: { code: 190, status: 401, message: "Invalid OAuth access token" },
  /** The key is valid but lacks the scope the route needs. */
  permission_denied: { code: 10, status: 403, message: "Permission denied" },
  /** A malformed request: not JSON, not an object, an unknown object id. */
  invalid_parameter: { code: 100, status: 400, message: "Invalid parameter" },
  /** A path the API does not have, or an unsupported version. */
  unknown_path: { code: 2500, status: 400, message: "Unknown path components" },
  /** A required field is absent. */
  parameter_missing: { code: 131008, status: 400, message: "Required parameter is missing" },
  /** A field has a value the API does not accept. */
  parameter_invalid: { code: 131009, status: 400, message: "Parameter value is not valid" },
  /** The recipient cannot be reached (no chat, and none can be started). */
  undeliverable: { code: 131026, status: 400, message: "Message undeliverable" },
  /** A message type this gateway does not send. */
  unsupported_type: { code: 131051, status: 400, message: "Unsupported message type" },
  /** Too many requests. */
  rate_limited: { code: 4, status: 429, message: "Application request limit reached" },
  /** Anything unexpected; never described further. */
  generic: { code: 131000, status: 500, message: "Something went wrong" },
  /** Inbox: no such object, or one the caller may not see (the same answer for both). */
  not_found: { code: 100, status: 404, message: "Object does not exist" },
  /** Inbox: the change conflicts with what is stored (a taken email or name, a role in use). */
  conflict: { code: 100, status: 409, message: "Conflicts with the current state" },
  /** Inbox: a wrong email or password (the same answer for both), or an unusable invitation. */
  sign_in_failed: { code: 190, status: 401, message: "Sign-in failed" },
} as const;

export type CloudErrorName = keyof typeof cloudErrors;

export interface CloudErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: "whatsapp"; details: string };
    fbtrace_id: string;
  };
}

/** A Cloud API error to throw from a handler; the error handler renders it. */
export class CloudError extends Error {
  constructor(
    readonly kind: CloudErrorName,
    readonly details?: string,
    readonly subcode?: number,
  ) {
    super(cloudErrors[kind].message);
    this.name = "CloudError";
  }

  get status(): number {
    return cloudErrors[this.kind].status;
  }

  body(): CloudErrorBody {
    const entry = cloudErrors[this.kind];
    return {
      error: {
        message: this.details
          ? `(#${entry.code}) ${entry.message}: ${this.details}`
          : `(#${entry.code}) ${entry.message}`,
        type: "OAuthException",
        code: entry.code,
        ...(this.subcode !== undefined ? { error_subcode: this.subcode } : {}),
        ...(this.details
          ? { error_data: { messaging_product: "whatsapp" as const, details: this.details } }
          : {}),
        fbtrace_id: randomBytes(12).toString("base64url"),
      },
    };
  }
}
