import { MlsError } from "./errors.js";

/**
 * What an MLS credential may carry: an opaque, prefixed id such as the server's device id
 * (`d_` and random base64url). Phone numbers, e-mail addresses and display names do not match
 * (no `+`, `@`, `.` or spaces; a type prefix is required), so they cannot end up in a group's
 * tree by mistake, and a member that puts one there is refused by every other member.
 */
export const credentialIdPattern = /^[a-z][a-z0-9]{0,7}_[A-Za-z0-9_-]{1,64}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function isCredentialId(value: string): boolean {
  return credentialIdPattern.test(value);
}

/** The identity bytes of a basic credential for `credentialId`. */
export function credentialIdentity(credentialId: string): Uint8Array {
  if (typeof credentialId !== "string" || !isCredentialId(credentialId)) {
    throw new MlsError("invalid_argument", "A credential id must be an opaque id such as d_…");
  }
  return encoder.encode(credentialId);
}

/** The credential id in `identity`, or undefined when it is not one of ours. */
export function credentialIdOf(identity: Uint8Array): string | undefined {
  try {
    const value = decoder.decode(identity);
    return isCredentialId(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
