/**
 * The agent's session token, kept in sessionStorage: it lasts as long as the
 * tab and is never shared with other tabs or written to disk by the page.
 */
const key = "veil-inbox-session";

export function loadSession(): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export function saveSession(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(key, token);
    else sessionStorage.removeItem(key);
  } catch {}
}

/**
 * The invitation token of a first-time link (`/inbox/#invite=<token>`), taken
 * out of the address bar at once so it stays in no history entry.
 */
export function takeInvitation(): string | null {
  const match = /^#invite=([A-Za-z0-9_\-.~%]+)$/.exec(window.location.hash);
  if (!match?.[1]) return null;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return decodeURIComponent(match[1]);
}
