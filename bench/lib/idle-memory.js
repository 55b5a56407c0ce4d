import { setTimeout as sleep } from "node:timers/promises";

/**
 * Memory growth per idle connection on `child` (a Child started with
 * --expose-gc): `open(from, to)` opens connections from..to-1 and resolves
 * `{ sockets, ms }`; the first `warmup` are opened before the baseline
 * snapshot, the next `count` are measured. Snapshots are taken after forced
 * garbage collection. Resolves `{ sockets, result }`: the sockets still
 * open, for the caller to close.
 */
export async function connectionGrowth(child, { warmup, count, open }) {
  const sockets = [];
  try {
    sockets.push(...(await open(0, warmup)).sockets);
    await sleep(500);
    const before = await child.request("usage", { gc: true });
    const opened = await open(warmup, warmup + count);
    sockets.push(...opened.sockets);
    await sleep(1000);
    const after = await child.request("usage", { gc: true });
    const { connections } = await child.request("stats");
    if (connections !== warmup + count) {
      throw new Error(`${child.name} holds ${connections} connections, expected ${warmup + count}`);
    }
    if (!after.collected) throw new Error(`${child.name} ran without --expose-gc`);
    const grew = (key) => (after.memory[key] - before.memory[key]) / count;
    const result = {
      connectMs: opened.ms,
      before: { ...before.memory, spaces: before.spaces },
      after: { ...after.memory, spaces: after.spaces },
      perConnection: {
        rss: grew("rss"),
        heapUsed: grew("heapUsed"),
        external: grew("external") + grew("arrayBuffers"),
      },
    };
    return { sockets, result };
  } catch (error) {
    for (const socket of sockets) socket.terminate();
    throw error;
  }
}
