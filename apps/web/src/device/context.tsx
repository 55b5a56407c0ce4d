import type { VeilClient, VeilEvents } from "@veil/sdk";
import { createContext, useContext, useEffect, useRef } from "react";

export const ClientContext = createContext<VeilClient | null>(null);

/** The signed-in device; only under <ClientContext.Provider>. */
export function useClient(): VeilClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside a signed-in view");
  return client;
}

/** Subscribes to an SDK event for the component's lifetime (the latest handler always runs). */
export function useClientEvent<K extends keyof VeilEvents>(
  name: K,
  handler: (event: VeilEvents[K]) => void,
): void {
  const client = useClient();
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => client.on(name, (event) => latest.current(event)), [client, name]);
}
