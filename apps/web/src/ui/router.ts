import { useEffect, useState } from "react";

/** A route is the part of the hash after `#/`, split on `/`: `#/chats/g_1` is ["chats", "g_1"]. */
export type Route = string[];

function current(): Route {
  return window.location.hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((part) => decodeURIComponent(part));
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(current);
  useEffect(() => {
    const update = () => setRoute(current());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The href of a route, for links. */
export function href(...parts: string[]): string {
  return `#/${parts.map((part) => encodeURIComponent(part)).join("/")}`;
}

export function navigate(...parts: string[]): void {
  window.location.hash = href(...parts);
}
