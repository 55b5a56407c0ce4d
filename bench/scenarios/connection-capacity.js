import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { withTimeout } from "../lib/child.js";
import { call, closeSockets, openFileLimit, pool, registerUser } from "../lib/clients.js";
import { connectionGrowth } from "../lib/idle-memory.js";
import { cpuMicros, quantile } from "../lib/stats.js";

/** Ephemeral ports a run may use per source address (Linux: 32768..60999, less some slack). */
const portsPerAddress = 25_000;

/** Registers a user with a fresh device key; keeps the key for later sign-ins. */
export async function registerDevice(base, i) {
  const { key, deviceId } = await registerUser(base, `Capacity ${i}`);
  return { key, deviceId };
}

/** Opens a WebSocket from `localAddress`, sends hello, resolves once `ready` arrives. */
function openFrom(wsUrl, token, localAddress, timeoutMs = 30_000) {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false, localAddress });
  const opened = new Promise((resolve, reject) => {
    socket.once("open", () => socket.send(JSON.stringify({ type: "hello", token })));
    socket.once("error", reject);
    socket.once("close", (code) => reject(new Error(`closed before ready (${code})`)));
    socket.once("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === "ready") resolve(socket);
      else reject(new Error(`expected ready, got ${frame.type}`));
    });
  });
  return withTimeout(opened, timeoutMs, `no ready within ${timeoutMs} ms`).catch((error) => {
    socket.terminate();
    throw error;
  });
}

/**
 * Signs `devices` in on `child` and connects them, `concurrency` at a time,
 * from the source addresses in turn; each login is timed from the challenge
 * request to `ready`.
 */
export async function signIn(child, wsUrl, devices, { concurrency, addresses, offset }) {
  const base = child.url;
  const latencies = [];
  const started = performance.now();
  const sockets = await pool(devices, concurrency, async (device, i) => {
    const t0 = performance.now();
    const challenge = await call(base, "POST", "/v1/auth/challenges", 201);
    const session = await call(base, "POST", "/v1/sessions", 201, {
      body: {
        deviceId: device.deviceId,
        challengeId: challenge.challengeId,
        signature: device.key.sign(challenge.challenge),
      },
    });
    const socket = await openFrom(
      wsUrl,
      session.session.token,
      addresses[(offset + i) % addresses.length],
    );
    latencies.push(performance.now() - t0);
    return socket;
  });
  return { sockets, ms: performance.now() - started, latencies };
}

/** Logins and idle memory on a freshly started `child`. */
async function measure(ctx, child, devices, warmup, settings) {
  const url = ctx.wsUrl(child);
  let logins = null;
  let cpuUs = 0;
  let sockets = [];
  try {
    const open = async (from, to) => {
      const before = await child.request("usage");
      const result = await signIn(child, url, devices.slice(from, to), {
        ...settings,
        offset: from,
      });
      if (from > 0) {
        logins = result;
        cpuUs = cpuMicros(before.cpu, (await child.request("usage")).cpu);
      }
      return result;
    };
    const growth = await connectionGrowth(child, { warmup, count: devices.length - warmup, open });
    sockets = growth.sockets;
    const count = logins.latencies.length;
    return {
      logins: count,
      loginsPerSecond: count / (logins.ms / 1000),
      loginP50Ms: quantile(logins.latencies, 0.5),
      loginP99Ms: quantile(logins.latencies, 0.99),
      cpuPerLoginUs: cpuUs / count,
      ...growth.result,
    };
  } finally {
    closeSockets(sockets);
    await child.stop();
  }
}

/** Runs connection-capacity on Veil and the bare floor; resolves with logins and memory of both. */
export async function connectionCapacity(ctx) {
  const { options, log } = ctx;
  const count = options.capacityConnections;
  const warmup = options.idleWarmup;
  const concurrency = options.capacityConcurrency;
  const addressCount = options.capacityAddresses || Math.ceil((count + warmup) / portsPerAddress);
  const addresses = Array.from({ length: addressCount }, (_, i) => `127.0.0.${i + 1}`);
  const needed = count + warmup + 1000;
  if (openFileLimit() < needed) {
    throw new Error(
      `connection-capacity: ${count} connections need about ${needed} open files in the load ` +
        `generator and in each server; this process may open ${openFileLimit()} (raise \`ulimit -n\`)`,
    );
  }
  const store = await ctx.newStore("capacity");
  // The devices are registered on a first server, then signed in on a fresh one.
  const setup = await ctx.startVeil(store);
  let devices;
  try {
    const started = performance.now();
    devices = await pool(
      Array.from({ length: count + warmup }, (_, i) => i),
      options.concurrency,
      (i) => registerDevice(setup.url, i),
    );
    log(
      `capacity: ${devices.length} devices registered in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s; signing in from ` +
        `${addresses.length} source address${addresses.length > 1 ? "es" : ""}, ${concurrency} at a time`,
    );
  } finally {
    await setup.stop();
  }
  const settings = { concurrency, addresses };
  const veil = await measure(
    ctx,
    await ctx.startVeil(store, ctx.idleArgs),
    devices,
    warmup,
    settings,
  );
  const bare = await measure(
    ctx,
    await ctx.startBare("buffer", ctx.idleArgs),
    devices,
    warmup,
    settings,
  );
  for (const [name, r] of [
    ["Veil", veil],
    ["bare", bare],
  ]) {
    log(
      `capacity ${name}: ${r.loginsPerSecond.toFixed(0)} logins/s (p50 ${r.loginP50Ms.toFixed(1)} ms, ` +
        `p99 ${r.loginP99Ms.toFixed(1)} ms); ${(r.perConnection.heapUsed / 1024).toFixed(1)} KiB heap, ` +
        `${(r.perConnection.rss / 1024).toFixed(1)} KiB RSS per idle connection`,
    );
  }
  return { connections: count, warmup, concurrency, addresses: addresses.length, veil, bare };
}
