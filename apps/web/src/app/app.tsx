import type { VeilClient } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { Welcome } from "../account/welcome.js";
import { ClientContext } from "../device/context.js";
import { openDevice } from "../device/open-device.js";
import { describeError } from "../ui/errors.js";
import { Shell } from "./shell.js";

type Phase =
  | { kind: "opening" }
  | { kind: "failed"; error: string }
  | { kind: "welcome"; client: VeilClient }
  | { kind: "ready"; client: VeilClient };

/** Opens this browser's device, then shows the welcome (no device yet) or the app. */
export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "opening" });

  const enter = useCallback(async (client: VeilClient) => {
    setPhase({ kind: "ready", client });
    // Offline is fine: the SDK reconnects and catches up by itself.
    client.start().catch(() => undefined);
  }, []);

  useEffect(() => {
    let cancelled = false;
    if (!window.isSecureContext) {
      setPhase({
        kind: "failed",
        error:
          "This page is not served over HTTPS, so the browser withholds the cryptography Veil needs. Open it over https://, or at http://localhost on the server's own machine.",
      });
      return;
    }
    openDevice()
      .then((client) => {
        if (cancelled) return;
        if (client.registered) void enter(client);
        else setPhase({ kind: "welcome", client });
      })
      .catch((error: unknown) => {
        if (!cancelled) setPhase({ kind: "failed", error: describeError(error) });
      });
    return () => {
      cancelled = true;
    };
  }, [enter]);

  switch (phase.kind) {
    case "opening":
      return (
        <p className="splash" aria-live="polite">
          Opening Veil…
        </p>
      );
    case "failed":
      return (
        <main className="welcome">
          <h1>Veil cannot start</h1>
          <p role="alert">{phase.error}</p>
          <p>Veil keeps its keys in this browser's storage: private windows may not allow it.</p>
        </main>
      );
    case "welcome":
      return <Welcome client={phase.client} onReady={() => void enter(phase.client)} />;
    case "ready":
      return (
        <ClientContext.Provider value={phase.client}>
          <Shell />
        </ClientContext.Provider>
      );
  }
}
