import { useCallback, useState } from "react";
import { describeError } from "./errors.js";

/** Runs a user's action: busy while it runs, a readable error if it fails, a note when done. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = useCallback(async (work: () => Promise<unknown>, ok: string | null = null) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await work();
      setDone(ok);
      return true;
    } catch (e) {
      setError(describeError(e));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, done, run };
}
