import { useCallback, useState } from "react";
import { describeInboxError } from "./errors.js";

/** Runs an agent's action: busy while it runs, and a readable error if it fails. */
export function useInboxAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (work: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (e) {
      setError(describeInboxError(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}
