import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import v8 from "node:v8";

/**
 * The child side of the harness's IPC: answers `{ id, type }` requests with
 * the handler of that type, and exits if the harness goes away (no orphans).
 */
export function serveControl(handlers) {
  const all = { ...commonHandlers(), ...handlers };
  process.on("message", async (message) => {
    const handler = all[message?.type];
    try {
      if (!handler) throw new Error(`unknown request ${JSON.stringify(message?.type)}`);
      const result = await handler(message);
      process.send?.({ id: message.id, result: result ?? null });
    } catch (error) {
      process.send?.({ id: message.id, error: String(error?.stack ?? error) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

/** Usage, a GC'd memory snapshot and a CPU profile: the same for every server under test. */
function commonHandlers() {
  let session = null;
  return {
    async usage({ gc }) {
      const collected = Boolean(gc && typeof globalThis.gc === "function");
      if (collected) {
        // Several passes with turns of the event loop between them, so that
        // finalisers and weak callbacks have run before the snapshot.
        for (let i = 0; i < 4; i++) {
          globalThis.gc();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const spaces = Object.fromEntries(
        v8
          .getHeapSpaceStatistics()
          .map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
      );
      return { cpu: process.cpuUsage(), memory: process.memoryUsage(), spaces, collected };
    },
    /** For investigations: `v8.writeHeapSnapshot` (open it in Chrome DevTools). */
    "heap-snapshot"({ file }) {
      return { file: v8.writeHeapSnapshot(file) };
    },
    async "profile-start"({ samplingIntervalUs = 250 }) {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
      await session.post("Profiler.start");
    },
    async "profile-stop"({ file }) {
      if (!session) throw new Error("no profile running");
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      session = null;
      await writeFile(file, JSON.stringify(profile));
      return { file };
    },
  };
}
