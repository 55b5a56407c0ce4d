import type { VeilClient } from "@veil/sdk";
import { useEffect, useState } from "react";
import { CallManager, type CallView } from "./call-manager.js";

const managers = new WeakMap<VeilClient, CallManager>();

/** The call manager of a signed-in client: one per client, following its call events from first use. */
export function callManager(client: VeilClient): CallManager {
  let manager = managers.get(client);
  if (!manager) {
    manager = new CallManager(client);
    manager.listen();
    managers.set(client, manager);
    debugCalls(manager);
  }
  return manager;
}

/** The current call (re-rendered on every change), and the manager to act on it. */
export function useCall(client: VeilClient): { call: CallView | null; calls: CallManager } {
  const calls = callManager(client);
  const [call, setCall] = useState<CallView | null>(calls.current);
  useEffect(() => {
    setCall(calls.current);
    return calls.subscribe(() => setCall(calls.current));
  }, [calls]);
  return { call, calls };
}

/**
 * With `localStorage["veil.debug"] = "calls"`, the call manager is `window.veilCalls`:
 * tests seal probe frames and check which keys open them. Nothing secret is
 * exposed that this page's own scripts could not reach anyway.
 */
function debugCalls(manager: CallManager): void {
  try {
    if (localStorage.getItem("veil.debug") !== "calls") return;
  } catch {
    return;
  }
  (window as unknown as { veilCalls?: CallManager }).veilCalls = manager;
}
