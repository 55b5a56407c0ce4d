import { InboxApiError } from "./api.js";

/** A sentence for the agent; the API's numeric code stays visible for support. */
export function describeInboxError(error: unknown): string {
  if (error instanceof InboxApiError) {
    if (error.status === 0) return error.message;
    if (error.status === 401)
      return "Your session ended, or the details are not right. Sign in again.";
    if (error.status === 403) return "Your role does not allow that.";
    if (error.status === 429) return "Too many attempts. Wait a few minutes and try again.";
    // The API's message already carries its code: "(#131009) Parameter value is not valid: …".
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
