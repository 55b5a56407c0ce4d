import { type ErrorCode, errorRegistry, isErrorCode } from "@veil/protocol";

/**
 * Codes of failures found on the client. Together with the server's registry
 * (`errorRegistry` in @veil/protocol) they are every `code` a VeilError carries.
 * Switch on the code, never on the message.
 */
export const clientErrorCodes = {
  network_error: "The server could not be reached.",
  bad_response: "The server answered with something unexpected.",
  not_signed_in: "This client holds no device yet: register, or link it to an account.",
  already_registered: "This store already holds a device.",
  store_locked: "Another process is using this store.",
  store_corrupt: "A record in the store cannot be read.",
  websocket_unavailable: "No WebSocket implementation here: pass one in the options.",
  client_closed: "The client was closed.",
  timeout: "The operation did not finish in time.",
  chat_pending: "This device has not joined the chat yet; it waits for a welcome.",
  group_unknown: "This device holds no state for that group.",
  group_left: "This device is no longer a member of the group.",
  commit_conflict: "The group kept moving; the change could not be committed.",
  key_package_missing: "No key package of this device matches the welcome.",
  message_undecryptable: "A message could not be decrypted or authenticated.",
  envelope_invalid: "A decrypted message is not a valid Veil envelope.",
  attachment_integrity: "The attachment does not match its hash or size.",
  device_key_mismatch: "A device presented another key than the one seen before.",
  device_removed: "This device was removed from the account.",
  link_expired: "The device link was not approved in time.",
  link_invalid: "Not a device link code.",
  invalid_argument: "The argument is not accepted.",
  call_full: "The call already has the most participants it takes (8).",
} as const;

export type ClientErrorCode = keyof typeof clientErrorCodes;
/** Every code a VeilError may carry: the server's and the client's. */
export type VeilErrorCode = ErrorCode | ClientErrorCode;

/**
 * The one error the SDK throws and emits. `code` is stable; `status` is the
 * HTTP status when the server answered.
 * @example
 * try { await client.sendText(groupId, "hi"); }
 * catch (e) { if (isVeilError(e, "group_not_found")) … }
 */
export class VeilError extends Error {
  override readonly name = "VeilError";
  readonly code: VeilErrorCode;
  readonly status: number | null;
  /** For `content_rejected`: the guideline the content breaks (`fraud`, `hate`, …). */
  readonly category: string | null;

  constructor(
    code: VeilErrorCode,
    message?: string,
    options: { status?: number; cause?: unknown; category?: string } = {},
  ) {
    super(message ?? defaultMessage(code), { cause: options.cause });
    this.code = code;
    this.status = options.status ?? null;
    this.category = options.category ?? null;
  }

  /** True when the server (or the network) might answer differently if asked again. */
  get retryable(): boolean {
    return (
      this.code === "network_error" ||
      this.code === "shutting_down" ||
      this.code === "not_ready" ||
      this.code === "storage_unavailable" ||
      this.code === "internal_error" ||
      this.code === "rate_limited"
    );
  }
}

export function isVeilError(value: unknown, code?: VeilErrorCode): value is VeilError {
  return value instanceof VeilError && (code === undefined || value.code === code);
}

function defaultMessage(code: VeilErrorCode): string {
  if (isErrorCode(code)) return errorRegistry[code].message;
  return clientErrorCodes[code];
}

/** `value` as a VeilError: kept if it is one, wrapped under `code` otherwise. */
export function asVeilError(value: unknown, code: ClientErrorCode): VeilError {
  if (value instanceof VeilError) return value;
  return new VeilError(code, undefined, { cause: value });
}
