#!/usr/bin/env node
// Veil benchmarks: the WebSocket gateway's cost per delivered event and memory
// per idle connection, each against a bare `ws` server measured in the same run.
// Usage: npm run bench, or node bench/run.js --help (after npm run build).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Child, killAll } from "./lib/child.js";
import {
  call,
  closeSockets,
  DeliveryTracker,
  openSockets,
  pool,
  registerUser,
} from "./lib/clients.js";
import { aboutFor } from "./lib/payload.js";
import { summariseProfile } from "./lib/profile.js";
import { updateDocs } from "./lib/report.js";
import { cpuMicros, median, quantile, sum } from "./lib/stats.js";

const root = path.resolve(import.meta.dirname, "..");
const resultsDir = path.join(root, "bench", "results");
const veilScript = path.join(root, "bench", "servers", "veil-server.js");
const bareScript = path.join(root, "bench", "servers", "bare-server.js");

/** Flags, each with a BENCH_* variable, a default and bounds. */
const numericFlags = {
  connections: ["BENCH_CONNECTIONS", 500, 1, 20_000, "watchers of the publisher (gateway-fanout)"],
  events: ["BENCH_EVENTS", 200, 1, 10_000, "profile changes measured per server"],
  "warmup-events": ["BENCH_WARMUP_EVENTS", 3, 1, 100, "unmeasured events per server first"],
  "profile-events": [
    "BENCH_PROFILE_EVENTS",
    10,
    0,
    1_000,
    "extra Veil events under the CPU profiler (0: none)",
  ],
  idle: ["BENCH_IDLE_CONNECTIONS", 1000, 1, 20_000, "idle connections measured (idle-memory)"],
  "idle-warmup": [
    "BENCH_IDLE_WARMUP",
    50,
    1,
    1_000,
    "idle connections opened before the baseline snapshot",
  ],
  "about-bytes": ["BENCH_ABOUT_BYTES", 64, 13, 139, "length of the changed `about` text"],
  concurrency: ["BENCH_CONCURRENCY", 50, 1, 500, "registrations and handshakes in flight"],
  "event-timeout-ms": [
    "BENCH_EVENT_TIMEOUT_MS",
    30_000,
    1_000,
    600_000,
    "give up on an event after this",
  ],
  "max-minutes": ["BENCH_MAX_MINUTES", 15, 1, 120, "kill everything and fail after this"],
};

function usage() {
  const line = (flag, text) => `  ${flag.padEnd(26)}${text}`;
  const lines = ["usage: node bench/run.js [flags]", ""];
  for (const [flag, [env, fallback, min, max, what]] of Object.entries(numericFlags)) {
    lines.push(line(`--${flag} <n>`, `${what} (${env}, default ${fallback}, ${min}..${max})`));
  }
  lines.push(line("--docs <file>", "results page to update (default docs/benchmarks.md)"));
  lines.push(line("--no-docs", "do not touch the docs, only write bench/results/"));
  lines.push(
    line("--scenario <name>", "all (default), gateway-fanout or idle-memory (not all: no docs)"),
  );
  return lines.join("\n");
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(numericFlags).map((flag) => [flag, { type: "string" }])),
      docs: { type: "string", default: path.join(root, "docs", "benchmarks.md") },
      "no-docs": { type: "boolean", default: false },
      scenario: { type: "string", default: "all" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  if (!["all", "gateway-fanout", "idle-memory"].includes(values.scenario)) {
    throw new Error(
      `--scenario must be all, gateway-fanout or idle-memory, got ${values.scenario}`,
    );
  }
  // The results page shows every scenario: a partial run only writes bench/results/.
  const docs = values["no-docs"] || values.scenario !== "all" ? null : path.resolve(values.docs);
  const options = { docs, scenario: values.scenario };
  for (const [flag, [env, fallback, min, max]] of Object.entries(numericFlags)) {
    const raw = values[flag] ?? process.env[env];
    const value = raw === undefined || raw === "" ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${flag} (${env}) must be an integer from ${min} to ${max}, got ${raw}`);
    }
    options[flag.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
  }
  return options;
}

/** Temporary data directories, removed on every way out. */
const scratch = new Set();

/** Kills the servers and removes their data: safe on any exit path, synchronous. */
function cleanUp() {
  killAll();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

const began = performance.now();
function log(message) {
  const seconds = ((performance.now() - began) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] ${message}`);
}

/** The parent's environment without VEIL_* (the harness sets those it wants). */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VEIL_")));
}

function veilEnv(dataDir) {
  const unlimited = "1000000";
  return {
    ...cleanEnv(),
    VEIL_HOST: "127.0.0.1",
    VEIL_PORT: "0",
    VEIL_DATA_DIR: dataDir,
    VEIL_LOG_LEVEL: "warn",
    VEIL_RATE_LIMIT_PER_MINUTE: unlimited,
    VEIL_LOOKUP_LIMIT_PER_ACCOUNT: unlimited,
    VEIL_LOOKUP_LIMIT_PER_ADDRESS: unlimited,
    VEIL_VERIFICATION_LIMIT_PER_ADDRESS: unlimited,
  };
}

/**
 * Node flags of the servers under test. For idle-memory, the young generation
 * is pinned small: left alone it grows by up to 32 MiB as the connections'
 * short-lived garbage arrives, which would swamp the RSS growth per connection.
 */
const serverArgs = ["--expose-gc"];
const idleArgs = [...serverArgs, "--min-semi-space-size=1", "--max-semi-space-size=1"];

const startVeil = (dataDir, execArgv = serverArgs) =>
  Child.start("veil", veilScript, { env: veilEnv(dataDir), execArgv });
/** The bare baseline; `frames: "string"` sends each frame as a string, as the gateway does. */
const startBare = (execArgv = serverArgs, frames = "buffer") =>
  Child.start(frames === "buffer" ? "bare" : `bare-${frames}`, bareScript, {
    env: { ...cleanEnv(), BENCH_BARE_FRAMES: frames },
    execArgv,
  });
const wsUrl = (child) => `${child.url.replace(/^http/, "ws")}/v1/ws`;

async function machine() {
  const cpus = os.cpus();
  const version = async (name) => {
    try {
      const file = path.join(root, "node_modules", name, "package.json");
      return JSON.parse(await readFile(file, "utf8")).version;
    } catch {
      return "?";
    }
  };
  let commit = "unknown";
  try {
    const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
    commit = git("rev-parse", "--short", "HEAD");
    if (git("status", "--porcelain", "--untracked-files=no", "--", "packages") !== "")
      commit += " (+ uncommitted changes)";
  } catch {
    // not a git checkout
  }
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit,
    versions: {
      ws: await version("ws"),
      "better-sqlite3": await version("better-sqlite3"),
      fastify: await version("fastify"),
    },
  };
}

/**
 * Registers the publisher S (with a verified number) and `count` users, the
 * first `watchers` of whom add S as a contact by phone number.
 */
async function setupUsers(veil, count, watchers, concurrency) {
  const base = veil.url;
  const phone = "+14155550100";
  const verification = await call(base, "POST", "/v1/phone-verifications", 201, {
    body: { phone },
  });
  const code = await veil.request("code", { verificationId: verification.verificationId });
  const publisher = await registerUser(base, "Publisher", {
    verificationId: verification.verificationId,
    code,
  });
  const started = performance.now();
  const users = await pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    (i) => registerUser(base, `Bench user ${i}`),
  );
  const registerMs = performance.now() - started;
  await pool(users.slice(0, watchers), concurrency, (user) =>
    call(base, "POST", "/v1/contacts", 201, { token: user.token, body: { phone } }),
  );
  log(
    `registered ${count + 1} users in ${(registerMs / 1000).toFixed(1)} s; ${watchers} watch the publisher`,
  );
  return { publisher, users, registerMs };
}

/** One change on one server, timed from the client side until the last of `count` deliveries. */
async function fire(target, seq, count, timeoutMs) {
  const { t0, done } = target.tracker.expect(seq, count, timeoutMs);
  let responseMs = Number.NaN;
  const triggered = target.trigger(seq).then(() => {
    responseMs = performance.now() - t0;
  });
  const [, event] = await Promise.all([triggered, done]);
  const latencies = event.latencies;
  return {
    seq,
    firstMs: latencies[0],
    lastMs: latencies[latencies.length - 1],
    medianMs: median(latencies),
    responseMs,
    frameBytes: [...event.sizes],
    frame: event.first,
  };
}

function summariseEvents(events, cpuUs, connections) {
  const last = events.map((e) => e.lastMs);
  const frames = events.length * connections;
  return {
    lastMedianMs: median(last),
    lastP95Ms: quantile(last, 0.95),
    firstMedianMs: median(events.map((e) => e.firstMs)),
    deliveryMedianMs: median(events.map((e) => e.medianMs)),
    responseMedianMs: median(events.map((e) => e.responseMs)),
    cpuMs: cpuUs / 1000,
    cpuPerEventMs: cpuUs / 1000 / events.length,
    cpuPerFrameUs: cpuUs / frames,
    framesPerSecond: frames / (sum(last) / 1000),
  };
}

/**
 * gateway-fanout: one publisher's profile changes delivered to `connections`
 * watchers, Veil against the bare servers, events interleaved in rotation.
 */
async function gatewayFanout(servers, setup, options, stamp) {
  const { connections, events, warmupEvents, profileEvents, aboutBytes, concurrency } = options;
  const timeout = options.eventTimeoutMs;
  const watchers = setup.users.slice(0, connections);
  const { veil } = servers;
  const broadcast = (child) => (seq) =>
    call(child.url, "POST", "/broadcast", 204, { body: { seq } });
  const targets = {
    veil: {
      child: veil,
      tokens: watchers.map((u) => u.token),
      trigger: (seq) =>
        call(veil.url, "PATCH", "/v1/me", 200, {
          token: setup.publisher.token,
          body: { about: aboutFor(seq, aboutBytes) },
        }),
    },
    bare: {
      child: servers.bare,
      tokens: watchers.map(() => "bench"),
      trigger: broadcast(servers.bare),
    },
    bareString: {
      child: servers.bareString,
      tokens: watchers.map(() => "bench"),
      trigger: broadcast(servers.bareString),
    },
  };
  const names = Object.keys(targets);
  const sockets = [];
  try {
    for (const target of Object.values(targets)) {
      target.tracker = new DeliveryTracker();
      const opened = await openSockets(
        wsUrl(target.child),
        target.tokens,
        target.tracker.onFrame,
        concurrency,
      );
      sockets.push(...opened.sockets);
      const { connections: held } = await target.child.request("stats");
      if (held !== connections) {
        throw new Error(`${target.child.name} holds ${held} connections, expected ${connections}`);
      }
    }
    log(`${connections} connections open to each of ${names.length} servers`);

    let seq = 1;
    let template = null;
    for (let i = 0; i < warmupEvents; i++) {
      const event = await fire(targets.veil, seq++, connections, timeout);
      template ??= { profile: event.frame.profile, aboutBytes };
    }
    for (const name of names.slice(1)) {
      await targets[name].child.request("template", { template });
      for (let i = 0; i < warmupEvents; i++) await fire(targets[name], seq++, connections, timeout);
    }

    const results = Object.fromEntries(names.map((name) => [name, []]));
    const usage = async () => ({
      ...Object.fromEntries(
        await Promise.all(
          names.map(async (name) => [name, await targets[name].child.request("usage")]),
        ),
      ),
      statements: (await veil.request("stats")).statements,
    });
    const clientBefore = process.cpuUsage();
    const before = await usage();
    for (let i = 0; i < events; i++) {
      // Each server goes first, second and third equally often.
      const order = names.map((_, k) => names[(i + k) % names.length]);
      for (const name of order)
        results[name].push(await fire(targets[name], seq++, connections, timeout));
    }
    const after = await usage();
    const clientCpuMs = cpuMicros(clientBefore, process.cpuUsage()) / 1000;

    const sizes = new Set(
      Object.values(results).flatMap((list) => list.flatMap((e) => e.frameBytes)),
    );
    if (sizes.size !== 1)
      throw new Error(`frame sizes differ between servers: ${[...sizes].join(", ")}`);

    const strip = (list) => list.map(({ frame, ...rest }) => rest);
    const fanout = { frameBytes: [...sizes][0], clientCpuMs, strayFrames: 0 };
    for (const name of names) {
      const cpu = cpuMicros(before[name].cpu, after[name].cpu);
      fanout[name] = {
        ...summariseEvents(results[name], cpu, connections),
        events: strip(results[name]),
      };
      fanout.strayFrames += targets[name].tracker.stray;
    }
    fanout.veil.statementsPerEvent = (after.statements - before.statements) / events;
    log(
      `fanout: last delivery median ${fanout.veil.lastMedianMs.toFixed(2)} ms (Veil) vs ` +
        `${fanout.bare.lastMedianMs.toFixed(2)} ms (bare); CPU per frame ` +
        `${fanout.veil.cpuPerFrameUs.toFixed(2)} µs vs ${fanout.bare.cpuPerFrameUs.toFixed(2)} µs ` +
        `(bare with string frames: ${fanout.bareString.cpuPerFrameUs.toFixed(2)} µs)`,
    );

    // CPU profiles of a few more events, Veil's and the baseline's, side by side.
    const profiles = {};
    for (const name of profileEvents > 0 ? ["veil", "bare"] : []) {
      const { child } = targets[name];
      const file = path.join(resultsDir, `${child.name}-fanout-${stamp}.cpuprofile`);
      await child.request("profile-start", { samplingIntervalUs: 250 });
      for (let i = 0; i < profileEvents; i++)
        await fire(targets[name], seq++, connections, timeout);
      await child.request("profile-stop", { file });
      profiles[name] = {
        file: path.relative(root, file),
        ...summariseProfile(JSON.parse(await readFile(file, "utf8"))),
      };
      log(`profiled ${profileEvents} ${child.name} events: ${path.relative(root, file)}`);
    }
    return { fanout, profiles };
  } finally {
    closeSockets(sockets);
  }
}

/** Memory growth per idle authenticated connection on a freshly started server. */
async function idleMemory(start, tokens, warmup, count, concurrency) {
  const child = await start();
  const sockets = [];
  try {
    const ignore = () => {};
    const url = wsUrl(child);
    sockets.push(...(await openSockets(url, tokens.slice(0, warmup), ignore, concurrency)).sockets);
    await sleep(500);
    const before = await child.request("usage", { gc: true });
    const opened = await openSockets(
      url,
      tokens.slice(warmup, warmup + count),
      ignore,
      concurrency,
    );
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
    log(
      `idle ${child.name}: ${(result.perConnection.rss / 1024).toFixed(1)} KiB RSS, ` +
        `${(result.perConnection.heapUsed / 1024).toFixed(1)} KiB heap per connection`,
    );
    return result;
  } finally {
    closeSockets(sockets);
    await child.stop();
  }
}

async function main() {
  const options = readOptions();
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${options.maxMinutes} min; killing the servers`);
    cleanUp();
    process.exit(1);
  }, options.maxMinutes * 60_000);
  watchdog.unref();

  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  await mkdir(resultsDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "veil-bench-"));
  scratch.add(dataDir);
  const run = {
    command: `node bench/run.js ${process.argv.slice(2).join(" ")}`.trim(),
    startedAt: startedAt.toISOString(),
    machine: await machine(),
    params: { ...options, docs: undefined },
  };
  log(`machine: ${run.machine.cpuCount} × ${run.machine.cpuModel}, Node ${run.machine.node}`);
  const fanout = options.scenario !== "idle-memory";
  const idle = options.scenario !== "gateway-fanout";
  try {
    const servers = { veil: await startVeil(dataDir) };
    if (fanout) {
      servers.bare = await startBare();
      servers.bareString = await startBare(serverArgs, "string");
    }
    log(
      Object.values(servers)
        .map((c) => `${c.name} pid ${c.pid} at ${c.url}`)
        .join("; "),
    );
    let setup;
    try {
      const watchers = fanout ? options.connections : 0;
      const users = Math.max(watchers, idle ? options.idleWarmup + options.idle : 0);
      setup = await setupUsers(servers.veil, users, watchers, options.concurrency);
      if (fanout) Object.assign(run, await gatewayFanout(servers, setup, options, stamp));
    } finally {
      await Promise.all(Object.values(servers).map((child) => child.stop()));
    }
    if (idle) {
      const tokens = setup.users.map((u) => u.token);
      const { idleWarmup, idle: count, concurrency } = options;
      run.idle = {
        veil: await idleMemory(
          () => startVeil(dataDir, idleArgs),
          tokens,
          idleWarmup,
          count,
          concurrency,
        ),
        bare: await idleMemory(() => startBare(idleArgs), tokens, idleWarmup, count, concurrency),
      };
    }
  } finally {
    cleanUp();
  }

  run.finishedAt = new Date().toISOString();
  run.resultsFile = path.relative(root, path.join(resultsDir, `gateway-${stamp}.json`));
  const json = `${JSON.stringify(run, null, 2)}\n`;
  await writeFile(path.join(root, run.resultsFile), json);
  await writeFile(path.join(resultsDir, "latest.json"), json);
  log(`results: ${run.resultsFile}`);
  if (options.docs) {
    await updateDocs(options.docs, run);
    log(`updated ${path.relative(root, options.docs)}`);
  }
  printSummary(run);
}

function printSummary(run) {
  const { fanout, idle } = run;
  const table = {};
  if (fanout) {
    table["last delivery, median (ms)"] = [fanout.veil.lastMedianMs, fanout.bare.lastMedianMs];
    table["CPU per delivered frame (µs)"] = [fanout.veil.cpuPerFrameUs, fanout.bare.cpuPerFrameUs];
    table["deliveries per second"] = [fanout.veil.framesPerSecond, fanout.bare.framesPerSecond];
  }
  if (idle) {
    for (const key of ["rss", "heapUsed", "external"]) {
      table[`idle ${key} per connection (B)`] = [
        idle.veil.perConnection[key],
        idle.bare.perConnection[key],
      ];
    }
  }
  console.table(
    Object.fromEntries(
      Object.entries(table).map(([name, [v, b]]) => [
        name,
        {
          veil: Number(v.toFixed(2)),
          bare: Number(b.toFixed(2)),
          "veil/bare": `${(v / b).toFixed(2)}×`,
        },
      ]),
    ),
  );
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanUp();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`bench failed: ${error?.stack ?? error}`);
  cleanUp();
  process.exit(1);
}
