import { isVeilError } from "@veil/sdk";

const friendly: Record<string, string> = {
  phone_invalid:
    "That does not look like a phone number. Include the country code, e.g. +1 415 555 0101.",
  phone_verification_failed: "That code is not right, or it expired. Ask for a new one.",
  username_invalid: "That username cannot be used: try letters, digits and underscores.",
  phone_taken: "That number already has an account. Link this browser to it instead.",
  username_taken: "That username is taken. Try another.",
  user_not_found: "Nobody can be found with that number.",
  rate_limited: "Too many attempts. Wait a minute and try again.",
  not_group_admin: "Only admins can do that here.",
  network_error: "The server cannot be reached. Check your connection; Veil retries by itself.",
};

/** A sentence for a person, never a stack trace; the stable code stays visible for support. */
export function describeError(error: unknown): string {
  if (isVeilError(error)) {
    const text = friendly[error.code];
    return text ? text : `${error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
