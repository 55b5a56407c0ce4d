import type { VeilClient } from "../client.js";

export interface Terminal {
  line(text: string): void;
  error(text: string): void;
}

export interface Peer {
  userId: string;
  /** What to call them: their name if the privacy model shows it, else their id. */
  name: string;
}

const userIdPattern = /^u_[A-Za-z0-9_-]+$/;

export function requireRegistered(client: VeilClient): void {
  if (!client.registered) {
    throw new Error(
      "this profile has no account yet: run `veil-chat register` or `veil-chat link`",
    );
  }
}

/**
 * A user id as given, or the user a phone number belongs to (a lookup, which
 * also lets this user see them, as the privacy model's R2 requires to chat).
 */
export async function resolvePeer(client: VeilClient, peer: string): Promise<Peer> {
  const profile = userIdPattern.test(peer)
    ? await client.api.user(peer)
    : await client.api.lookupPhone(peer);
  return { userId: profile.id, name: profile.name ?? profile.id };
}

/** 60 digits as 12 groups of 5, in three rows, as safety numbers are shown. */
export function safetyNumberGroups(number: string): string[] {
  const groups = number.match(/\d{5}/g) ?? [];
  return [0, 4, 8].map((i) => groups.slice(i, i + 4).join(" "));
}
