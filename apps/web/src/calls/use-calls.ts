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
