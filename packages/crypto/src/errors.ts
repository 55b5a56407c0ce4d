/**
 * Why an MLS or sender-key operation refused its input. Callers switch on `code`, never on the
 * message. A throwing operation leaves every Group and sender-key state untouched: keep using
 * the one you had.
 */
export const mlsErrorCodes = {
  /** The bytes are not the MLS structure expected here, or it breaks an MLS rule. */
  malformed: "The MLS message is malformed.",
  /** The message or welcome is addressed to another group or another key package. */
  not_for_this_group: "The MLS message is not for this group.",
  /** Built on an epoch this device is not at (stale, too old, or from the future). */
  wrong_epoch: "The MLS message is for another epoch.",
  /** Authentication failed: AEAD, HPKE, signature, membership or confirmation tag. */
  decrypt_failed: "The MLS message could not be decrypted or authenticated.",
  /** Its key was already used: a replay, this device's own message, or one too old to keep. */
  duplicate: "The MLS message was already processed.",
  /** A commit this device made itself: adopt the pending Group kept from add, remove or update. */
  own_commit: "The commit was made by this device.",
  /** This device is no longer a member of the group. */
  removed: "This device was removed from the group.",
  /** Valid MLS that Veil does not use (proposals, external commits, other credentials). */
  unsupported: "The MLS feature is not supported.",
  /** A key package that cannot be added: undecodable, expired, wrong suite or already a member. */
  invalid_key_package: "The key package cannot be added.",
  /** No member of the group has that credential id. */
  unknown_member: "No member has that credential id.",
  /** The caller passed something the interface does not accept. */
  invalid_argument: "The argument is not accepted.",
  /** A sender-key message under a key id this state is not: wait for its distribution. */
  sender_key_unknown: "No sender key held here matches the message.",
  /** A sender-key message more iterations ahead of the chain than a receiver derives. */
  too_far_ahead: "The message is too far ahead of the sender key's chain.",
} as const;

export type MlsErrorCode = keyof typeof mlsErrorCodes;

/**
 * The only error the MLS interface throws.
 * @example
 * try { ({ next: group } = await group.process(bytes)); }
 * catch (e) { if (e instanceof MlsError && e.code === "duplicate") return; throw e; }
 */
export class MlsError extends Error {
  override readonly name = "MlsError";
  constructor(
    readonly code: MlsErrorCode,
    message: string = mlsErrorCodes[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
