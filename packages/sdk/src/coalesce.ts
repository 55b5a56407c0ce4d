/**
 * Runs `work` one at a time: a call while it runs makes it run once more
 * afterwards (not once per call), until `stopped()` says to give up.
 */
export function coalesced(work: () => Promise<void>, stopped: () => boolean): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await work();
        } while (again && !stopped());
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
