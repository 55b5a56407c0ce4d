import { isVeilError } from "@veil/sdk";
import { guidelineNames, isGuideline } from "./guidelines.js";

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
  channel_suspended:
    "This channel is suspended for breaking the content guidelines, so it cannot post.",
  not_moderator: "Only the platform's moderators can open the moderation tools.",
  case_claimed: "Another moderator is working on this case. Reload to see who has it.",
  case_closed: "This case is already decided. Reload to see the decision.",
  appeal_exists: "This decision was already appealed: each decision can be appealed once.",
};

/**
 * Why the content checks refused something, naming the guideline in words:
 * "This breaks the content guidelines on fraud and scams, so it was not posted."
 */
export function rejectionText(category: string | null, outcome = "it was not posted"): string {
  const guideline = category && isGuideline(category) ? guidelineNames[category] : null;
  return guideline
    ? `This breaks the content guidelines on ${guideline}, so ${outcome}.`
    : `This breaks the content guidelines, so ${outcome}.`;
}

/** A content check's refusal (`content_rejected`), whatever the registry's codes are today. */
export function isRejection(error: unknown): error is { category: string | null } {
  return isVeilError(error) && (error.code as string) === "content_rejected";
}

/** A sentence for a person, never a stack trace; the stable code stays visible for support. */
export function describeError(error: unknown): string {
  if (isRejection(error)) return rejectionText(error.category);
  if (isVeilError(error)) {
    const text = friendly[error.code];
    return text ? text : `${error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
