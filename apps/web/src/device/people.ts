import type { VeilClient } from "@veil/sdk";
import { useEffect, useState } from "react";

/** What the server lets this user see of another (the privacy rules decide every field). */
export interface Person {
  id: string;
  name?: string;
  phone?: string;
  username?: string;
  about?: string;
  photo?: string;
}

const cache = new Map<string, Promise<Person | null>>();

/** One request per person per page load; a person the rules hide is `null`, like a missing one. */
export function loadPerson(client: VeilClient, userId: string): Promise<Person | null> {
  let entry = cache.get(userId);
  if (!entry) {
    entry = client.api.user(userId).then(
      (profile) => profile as Person,
      () => null,
    );
    cache.set(userId, entry);
  }
  return entry;
}

/** Forgets what was loaded (after a profile change event, say). */
export function forgetPerson(userId: string): void {
  cache.delete(userId);
}

export function personName(person: Person | null | undefined, fallback = "Someone"): string {
  return person?.name ?? person?.username ?? fallback;
}

export function usePerson(client: VeilClient, userId: string | null | undefined): Person | null {
  const [person, setPerson] = useState<Person | null>(null);
  useEffect(() => {
    let live = true;
    setPerson(null);
    if (userId) void loadPerson(client, userId).then((p) => live && setPerson(p));
    return () => {
      live = false;
    };
  }, [client, userId]);
  return person;
}
