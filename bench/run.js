#!/usr/bin/env node
// Veil benchmarks, each against a bare `ws` server measured in the same run:
// the WebSocket gateway's cost per delivered event, memory per idle
// connection, the 1:1 relay of MLS messages (store, then ack), the fan-out
// of a group message to every member device, announcements and channel
// posts, store and forward to an offline device (offline-drain), sign-ins
// and idle connections at scale (connection-capacity) and a 3-node cluster
// (relay, group, channel, announcement, offline drain, reactions, logins).
// Usage: npm run bench, or node bench/run.js --help (after npm run build).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { Child, killAll, withTimeout } from "./lib/child.js";
import {
  call,
  closeSockets,
  DeliveryTracker,
  openSockets,
  pool,
  registerUser,
} from "./lib/clients.js";
import { fire, summariseEvents, withoutFrames } from "./lib/events.js";
import { connectionGrowth } from "./lib/idle-memory.js";
import { aboutFor } from "./lib/payload.js";
import { summariseProfile } from "./lib/profile.js";
import { Progress } from "./lib/progress.js";
import { updateDocs } from "./lib/report.js";
import { cpuMicros } from "./lib/stats.js";
import { summaryRows } from "./lib/summary.js";
import { announcementFanout } from "./scenarios/announcement-fanout.js";
import { channelFanout } from "./scenarios/channel-fanout.js";
import { cluster } from "./scenarios/cluster.js";
import { connectionCapacity } from "./scenarios/connection-capacity.js";
import { groupFanout } from "./scenarios/group-fanout.js";
import { offlineDrain } from "./scenarios/offline-drain.js";
import { relay1to1 } from "./scenarios/relay-1to1.js";
import { availablePeers, killAllEjabberd } from "./servers/ejabberd.js";

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
    "extra events per server under the CPU profiler (0: none)",
  ],
  "relay-messages": [
    "BENCH_RELAY_MESSAGES",
    2000,
    10,
    200_000,
    "messages per server and window (relay-1to1)",
  ],
  "relay-rounds": [
    "BENCH_RELAY_ROUNDS",
    4,
    1,
    100,
    "rounds per window, servers taking turns (relay-1to1)",
  ],
  "relay-warmup": ["BENCH_RELAY_WARMUP", 500, 1, 10_000, "unmeasured messages per server first"],
  "relay-profile-messages": [
    "BENCH_RELAY_PROFILE_MESSAGES",
    500,
    0,
    100_000,
    "extra relay messages under the CPU profiler (0: none)",
  ],
  "group-members": [
    "BENCH_GROUP_MEMBERS",
    1000,
    2,
    2000,
    "member devices of the group, all connected (group-fanout)",
  ],
  "group-events": ["BENCH_GROUP_EVENTS", 50, 1, 10_000, "messages posted to the group per server"],
  "announcement-members": [
    "BENCH_ANNOUNCEMENT_MEMBERS",
    5000,
    2,
    9000,
    "community members, all connected (announcement-fanout)",
  ],
  "announcement-events": [
    "BENCH_ANNOUNCEMENT_EVENTS",
    30,
    1,
    10_000,
    "announcements posted per server (announcement-fanout)",
  ],
  "channel-followers": [
    "BENCH_CHANNEL_FOLLOWERS",
    1_000_000,
    1,
    5_000_000,
    "follower rows of the channel, the connected ones included (channel-fanout)",
  ],
  "channel-connected": [
    "BENCH_CHANNEL_CONNECTED",
    10_000,
    1,
    20_000,
    "followers registered through the API and connected (channel-fanout)",
  ],
  "channel-posts": ["BENCH_CHANNEL_POSTS", 30, 1, 10_000, "posts per server (channel-fanout)"],
  "storm-followers": [
    "BENCH_STORM_FOLLOWERS",
    1000,
    1,
    20_000,
    "connected followers reacting in the storm (channel-fanout)",
  ],
  "storm-rounds": [
    "BENCH_STORM_ROUNDS",
    5,
    1,
    1_000,
    "storm rounds: each follower sends 3 overlapping requests a round (channel-fanout)",
  ],
  "offline-messages": [
    "BENCH_OFFLINE_MESSAGES",
    2000,
    1,
    200_000,
    "messages sent to the offline device per server and round (offline-drain)",
  ],
  "offline-window": [
    "BENCH_OFFLINE_WINDOW",
    32,
    1,
    1000,
    "messages in flight while sending (offline-drain)",
  ],
  "offline-rounds": ["BENCH_OFFLINE_ROUNDS", 2, 1, 100, "send-then-drain rounds per server"],
  "capacity-connections": [
    "BENCH_CAPACITY_CONNECTIONS",
    5000,
    1,
    500_000,
    "devices signing in and staying connected (connection-capacity; past ~19,000 raise ulimit -n)",
  ],
  "capacity-concurrency": [
    "BENCH_CAPACITY_CONCURRENCY",
    50,
    1,
    2000,
    "sign-ins in flight (connection-capacity)",
  ],
  "capacity-addresses": [
    "BENCH_CAPACITY_ADDRESSES",
    0,
    0,
    254,
    "client source addresses 127.0.0.1..N (0: one per 25,000 connections)",
  ],
  "cluster-nodes": ["BENCH_CLUSTER_NODES", 3, 2, 8, "Veil nodes of the cluster (cluster)"],
  "cluster-members": [
    "BENCH_CLUSTER_MEMBERS",
    300,
    2,
    2000,
    "group members and channel followers, connected round-robin (cluster)",
  ],
  "cluster-messages": [
    "BENCH_CLUSTER_MESSAGES",
    1000,
    1,
    100_000,
    "relay messages per topology (cluster)",
  ],
  "cluster-window": [
    "BENCH_CLUSTER_WINDOW",
    16,
    1,
    1000,
    "relay and offline messages in flight (cluster)",
  ],
  "cluster-events": [
    "BENCH_CLUSTER_EVENTS",
    20,
    1,
    10_000,
    "group messages, channel posts and announcements per topology (cluster)",
  ],
  "cluster-announcement-members": [
    "BENCH_CLUSTER_ANNOUNCEMENT_MEMBERS",
    1000,
    2,
    20_000,
    "community members in the announcement fan-out, connected round-robin (cluster)",
  ],
  "cluster-offline-messages": [
    "BENCH_CLUSTER_OFFLINE_MESSAGES",
    1000,
    1,
    100_000,
    "messages stored while the receiver is offline, then drained on node 2 (cluster)",
  ],
  "cluster-storm-rounds": [
    "BENCH_CLUSTER_STORM_ROUNDS",
    3,
    1,
    100,
    "reaction storm rounds by every channel follower (cluster)",
  ],
  "cluster-logins": [
    "BENCH_CLUSTER_LOGINS",
    2000,
    1,
    50_000,
    "sign-ins spread over the nodes (cluster)",
  ],
  "message-bytes": [
    "BENCH_MESSAGE_BYTES",
    100,
    1,
    16_384,
    "plaintext bytes of each MLS application message",
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
  "max-minutes": ["BENCH_MAX_MINUTES", 30, 1, 240, "kill everything and fail after this"],
};

const scenarios = [
  "gateway-fanout",
  "idle-memory",
  "relay-1to1",
  "group-fanout",
  "announcement-fanout",
  "channel-fanout",
  "offline-drain",
  "connection-capacity",
  "cluster",
];
const defaultDatabaseUrl = "postgres://postgres@127.0.0.1:5432/test";

function usage() {
  const line = (flag, text) => `  ${flag.padEnd(29)} ${text}`;
  const lines = ["usage: node bench/run.js [flags]", ""];
  for (const [flag, [env, fallback, min, max, what]] of Object.entries(numericFlags)) {
    lines.push(line(`--${flag} <n>`, `${what} (${env}, default ${fallback}, ${min}..${max})`));
  }
  lines.push(line("--docs <file>", "results page to update (default docs/benchmarks.md)"));
  lines.push(line("--no-docs", "do not touch the docs, only write bench/results/"));
  lines.push(
    line(
      "--peers <list>",
      "peer servers in relay-1to1 and group-fanout: ejabberd (default) or none (BENCH_PEERS)",
    ),
    line("--no-peers", "the same as --peers none"),
  );
  lines.push(
    line(
      "--relay-windows <list>",
      "messages in flight, comma-separated (BENCH_RELAY_WINDOWS, default 1,32)",
    ),
    line(
      "--database <name>",
      "sqlite (default: a fresh temporary data dir) or postgres (BENCH_DATABASE)",
    ),
    line(
      "--database-url <url>",
      `PostgreSQL for --database postgres and for cluster; a fresh schema, dropped after (default ${defaultDatabaseUrl})`,
    ),
    line(
      "--bus-url <url>",
      "NATS for the cluster scenario's nodes (BENCH_BUS_URL, default nats://127.0.0.1:4222)",
    ),
    line(
      "--scenario <names>",
      `all (default) or comma-separated of ${scenarios.join(", ")} (not all: no docs)`,
    ),
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
      "relay-windows": { type: "string" },
      database: { type: "string" },
      "database-url": { type: "string" },
      "bus-url": { type: "string" },
      peers: { type: "string" },
      "no-peers": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const wanted = values.scenario === "all" ? scenarios : values.scenario.split(",");
  const unknown = wanted.filter((name) => !scenarios.includes(name));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(
      `--scenario must be all or some of ${scenarios.join(", ")}, got ${values.scenario}`,
    );
  }
  const database = values.database ?? (process.env.BENCH_DATABASE || "sqlite");
  if (!["sqlite", "postgres"].includes(database)) {
    throw new Error(`--database must be sqlite or postgres, got ${database}`);
  }
  const rawWindows = values["relay-windows"] ?? (process.env.BENCH_RELAY_WINDOWS || "1,32");
  const relayWindows = [...new Set(rawWindows.split(",").map(Number))];
  if (relayWindows.some((w) => !Number.isInteger(w) || w < 1 || w > 1000)) {
    throw new Error(`--relay-windows must list integers from 1 to 1000, got ${rawWindows}`);
  }
  // The results page shows every scenario on the default backend: any other
  // run only writes bench/results/.
  const full = wanted.length === scenarios.length && database === "sqlite";
  const docs = values["no-docs"] || !full ? null : path.resolve(values.docs);
  const options = {
    docs,
    noDocs: values["no-docs"],
    scenario: values.scenario,
    scenarios: new Set(wanted),
    database,
    databaseUrl:
      database === "postgres"
        ? (values["database-url"] ?? (process.env.BENCH_DATABASE_URL || defaultDatabaseUrl))
        : null,
    // The cluster scenario runs on PostgreSQL and NATS whatever --database says.
    clusterDatabaseUrl:
      values["database-url"] ?? (process.env.BENCH_DATABASE_URL || defaultDatabaseUrl),
    busUrl: values["bus-url"] ?? (process.env.BENCH_BUS_URL || "nats://127.0.0.1:4222"),
    relayWindows,
    // Peer servers (bench/servers/ejabberd.js): one not installed is left out, loudly.
    peers: values["no-peers"]
      ? []
      : (values.peers ?? (process.env.BENCH_PEERS || "ejabberd"))
          .split(",")
          .filter((name) => name !== "" && name !== "none"),
  };
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

/** Temporary data directories and PostgreSQL schemas, removed on every way out. */
const scratch = new Set();
const schemas = new Set();
let databaseUrl = null;
/** Where the run's schemas live: --database postgres's, or the cluster scenario's. */
let pgUrl = null;

/** Kills the servers and removes their data directories: safe on any exit path, synchronous. */
function cleanUp() {
  killAll();
  killAllEjabberd();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}

/** Drops the PostgreSQL schemas of this run (after `cleanUp`: the servers are gone). */
async function dropSchemas() {
  if (schemas.size === 0) return;
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("set lock_timeout = '20s'");
    for (const schema of schemas) {
      await client.query(`drop schema if exists ${client.escapeIdentifier(schema)} cascade`);
      schemas.delete(schema);
    }
  } catch (error) {
    console.error(`bench: could not drop ${[...schemas].join(", ")}: ${error?.message ?? error}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Every way out: servers killed, data removed, schemas dropped (within 30 s). */
async function cleanUpAll() {
  cleanUp();
  await withTimeout(dropSchemas(), 30_000, "dropping schemas timed out").catch((error) =>
    console.error(`bench: ${error.message}`),
  );
}

/**
 * Fresh storage for a Veil server: a temporary data directory, and with
 * --database postgres a fresh schema in it too (several servers started on
 * the same store share their data).
 */
async function newStore(label, postgres = Boolean(databaseUrl)) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `veil-bench-${label}-`));
  scratch.add(dataDir);
  if (!postgres) return { dataDir, schema: null };
  const schema = `veil_bench_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  schemas.add(schema);
  return { dataDir, schema };
}

const began = performance.now();
/** The run's progress bar (stderr, terminals only); log lines go through it. */
const progress = new Progress();
function log(message) {
  const seconds = ((performance.now() - began) / 1000).toFixed(1).padStart(6);
  progress.log(`[${seconds}s] ${message}`);
}

/** The parent's environment without VEIL_* (the harness sets those it wants). */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VEIL_")));
}

function veilEnv(store) {
  const unlimited = "1000000";
  return {
    ...cleanEnv(),
    ...(store.schema ? { VEIL_DATABASE_URL: pgUrl, VEIL_DATABASE_SCHEMA: store.schema } : {}),
    VEIL_HOST: "127.0.0.1",
    VEIL_PORT: "0",
    VEIL_DATA_DIR: store.dataDir,
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

const startVeil = (store, execArgv = serverArgs, env = {}, name = "veil") =>
  Child.start(name, veilScript, { env: { ...veilEnv(store), ...env }, execArgv });
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

    const fanout = { frameBytes: [...sizes][0], clientCpuMs, strayFrames: 0 };
    for (const name of names) {
      const cpu = cpuMicros(before[name].cpu, after[name].cpu);
      fanout[name] = {
        ...summariseEvents(results[name], cpu, connections),
        events: withoutFrames(results[name]),
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
  let sockets = [];
  try {
    const ignore = () => {};
    const url = wsUrl(child);
    const open = (from, to) => openSockets(url, tokens.slice(from, to), ignore, concurrency);
    const growth = await connectionGrowth(child, { warmup, count, open });
    sockets = growth.sockets;
    const result = growth.result;
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
  databaseUrl = options.databaseUrl;
  pgUrl = databaseUrl ?? (options.scenarios.has("cluster") ? options.clusterDatabaseUrl : null);
  const watchdog = setTimeout(async () => {
    console.error(`bench: still running after ${options.maxMinutes} min; killing the servers`);
    await cleanUpAll();
    process.exit(1);
  }, options.maxMinutes * 60_000);
  watchdog.unref();

  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  await mkdir(resultsDir, { recursive: true });
  const run = {
    command: `node bench/run.js ${process.argv.slice(2).join(" ")}`.trim(),
    startedAt: startedAt.toISOString(),
    machine: await machine(),
    params: { ...options, docs: undefined, scenarios: [...options.scenarios] },
  };
  log(
    `machine: ${run.machine.cpuCount} × ${run.machine.cpuModel}, Node ${run.machine.node}; ` +
      `database: ${options.database}; scenarios: ${[...options.scenarios].join(", ")}`,
  );
  const fanout = options.scenarios.has("gateway-fanout");
  const idle = options.scenarios.has("idle-memory");
  const context = {
    options,
    log,
    root,
    resultsDir,
    stamp,
    newStore,
    startVeil,
    startBare: (frames = "buffer", execArgv = serverArgs) => startBare(execArgv, frames),
    idleArgs,
    wsUrl,
    peers:
      options.scenarios.has("relay-1to1") || options.scenarios.has("group-fanout")
        ? availablePeers(options.peers, (message) => console.warn(message))
        : [],
  };
  progress.start([...options.scenarios]);
  try {
    if (fanout || idle) {
      progress.scenario(fanout ? "gateway-fanout" : "idle-memory");
      await gatewayScenarios(run, options, stamp, fanout, idle);
    }
    /** Runs scenario `name` if it was asked for, under the progress bar. */
    const scenario = async (name, work) => {
      if (!options.scenarios.has(name)) return undefined;
      progress.scenario(name);
      return work(context);
    };
    run.relay = await scenario("relay-1to1", relay1to1);
    run.group = await scenario("group-fanout", groupFanout);
    run.announcement = await scenario("announcement-fanout", announcementFanout);
    run.channels = await scenario("channel-fanout", channelFanout);
    run.offline = await scenario("offline-drain", offlineDrain);
    run.capacity = await scenario("connection-capacity", connectionCapacity);
    run.cluster = await scenario("cluster", cluster);
    progress.stop();
  } finally {
    progress.stop(false);
    await cleanUpAll();
  }

  run.finishedAt = new Date().toISOString();
  run.resultsFile = path.relative(root, path.join(resultsDir, `run-${stamp}.json`));
  const json = `${JSON.stringify(run, null, 2)}\n`;
  await writeFile(path.join(root, run.resultsFile), json);
  await writeFile(path.join(resultsDir, "latest.json"), json);
  log(`results: ${run.resultsFile}`);
  if (options.docs) {
    await updateDocs(options.docs, run);
    log(`updated ${path.relative(root, options.docs)}`);
  } else if (!options.noDocs) {
    log("docs not updated: only a run of every scenario on SQLite rewrites them");
  }
  printSummary(run);
}

/** gateway-fanout and idle-memory: one Veil store, the users registered once for both. */
async function gatewayScenarios(run, options, stamp, fanout, idle) {
  const store = await newStore("gateway");
  const servers = { veil: await startVeil(store) };
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
    if (fanout) progress.scenario("idle-memory");
    const tokens = setup.users.map((u) => u.token);
    const { idleWarmup, idle: count, concurrency } = options;
    run.idle = {
      veil: await idleMemory(
        () => startVeil(store, idleArgs),
        tokens,
        idleWarmup,
        count,
        concurrency,
      ),
      bare: await idleMemory(() => startBare(idleArgs), tokens, idleWarmup, count, concurrency),
    };
  }
}

function printSummary(run) {
  const { fanout, idle, relay, group, announcement, channels } = run;
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
  for (const window of relay?.windows ?? []) {
    const { veil, bareWs } = relay.results[window];
    table[`relay ×${window}: messages per second`] = [
      veil.messagesPerSecond,
      bareWs.messagesPerSecond,
    ];
    table[`relay ×${window}: CPU per message (µs)`] = [
      veil.cpuPerMessageUs,
      bareWs.cpuPerMessageUs,
    ];
    table[`relay ×${window}: send to receive p50 (ms)`] = [veil.receiveP50Ms, bareWs.receiveP50Ms];
  }
  if (group) {
    table["group: last delivery p50 (ms)"] = [group.veil.lastMedianMs, group.bare.lastMedianMs];
    table["group: CPU per delivered frame (µs)"] = [
      group.veil.cpuPerFrameUs,
      group.bare.cpuPerFrameUs,
    ];
  }
  if (announcement) {
    const { veil, bare } = announcement;
    table["announcement: last delivery p50 (ms)"] = [veil.lastMedianMs, bare.lastMedianMs];
    table["announcement: last delivery p99 (ms)"] = [veil.lastP99Ms, bare.lastP99Ms];
    table["announcement: CPU per delivery (µs)"] = [veil.cpuPerFrameUs, bare.cpuPerFrameUs];
  }
  if (channels) {
    const { veil, bare } = channels;
    table["channel: last delivery p50 (ms)"] = [veil.lastMedianMs, bare.lastMedianMs];
    table["channel: last delivery p99 (ms)"] = [veil.lastP99Ms, bare.lastP99Ms];
    table["channel: CPU per delivery (µs)"] = [veil.cpuPerFrameUs, bare.cpuPerFrameUs];
  }
  Object.assign(table, summaryRows(run));
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
  process.once(signal, async () => {
    await cleanUpAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`bench failed: ${error?.stack ?? error}`);
  await cleanUpAll();
  process.exit(1);
}
