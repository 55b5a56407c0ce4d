import { href } from "../ui/router.js";

/** The code of an invite, from the code itself or a link that ends with it. */
export function inviteCode(text: string): string {
  const trimmed = text.trim();
  const match = /(?:join\/|veil-invite:)([A-Za-z0-9_-]+)\/?$/.exec(trimmed);
  return match?.[1] ?? trimmed;
}

/** The link a member shares: it opens this app on the invite. */
export function inviteLink(code: string): string {
  return `${window.location.origin}/${href("communities", "join", code)}`;
}
