import { readFile, writeFile } from "node:fs/promises";

const start = "<!-- bench:gateway:start -->";
const end = "<!-- bench:gateway:end -->";

/** The hand-written part of docs/benchmarks.md, used when the file does not exist yet. */
const skeleton = `# Benchmarks

Speed and memory are reported as **ratios against a baseline measured in the
same run, on the same machine** (machines are noisy; an absolute number from
another day or another machine means little). No unit test asserts a
wall-clock threshold.

## Running

    npm run bench                                   # builds, then runs every scenario with defaults
    node bench/run.js --connections 1000 --events 50 --idle 2000
    node bench/run.js --scenario idle-memory        # one scenario (then only bench/results/ is written)
    node bench/run.js --help                        # every flag (each also has a BENCH_* variable)

The harness starts each server under test in its own process (so that the
server's CPU and memory are measured apart from the load generator's), on
127.0.0.1, with a fresh SQLite data directory, and kills them at the end,
even on failure. Raw results, per event, go to \`bench/results/\` (ignored by
git) with CPU profiles of the Veil and bare servers; the section below is
rewritten by each full run. SQL statements are counted in the Veil server's
process by wrapping better-sqlite3's \`prepare\` (Kysely prepares every query).

## Scenarios

**gateway-fanout**: N authenticated users each have a publisher S as a
contact (registered through the real HTTP API with Ed25519 device keys; each
found S by phone number). S changes its \`about\` (\`PATCH /v1/me\`) E times,
one change after another; each change reaches every watcher's socket as a
\`profile.updated\` frame. Measured from the client side: the time from
sending the change to the first and the last of the N deliveries; from the
server side: the server process's CPU time (user + system, from
\`process.cpuUsage()\`) over all events, divided by the frames delivered.
The Veil number includes everything a real change costs: the HTTP request,
the transaction, the bus, the privacy check per watcher and the sends.

The baseline is a bare \`ws\` server (perMessageDeflate off) holding the same
number of connections, which, on an HTTP request, sends the same-sized JSON
frame, pre-serialised once into a Buffer, to every socket. A second bare
server sends it as a string, as the gateway does, to show what that costs.
The servers' events are interleaved in rotation so that all see the same
machine noise. Throughput here is deliveries per second of busy time with
one event at a time, not a saturation figure.

The time from change to delivery includes the client side: the load
generator shares the machine's CPUs with the server under test, and on a
small machine it is a good part of the bare server's number. The server CPU
per delivered frame is measured in the server's process alone and is the
steadier ratio.

**idle-memory**: K idle authenticated connections to a freshly started
server (after a warm-up batch), memory measured after forced garbage
collection (\`--expose-gc\`) before and after; the growth divided by K. The
baseline is the bare \`ws\` server with the same number of connections (it
answers \`hello\` with \`ready\` but keeps no state). Both run with the
young generation pinned at 1 MiB
(\`--min-semi-space-size=1 --max-semi-space-size=1\`): left alone it grows by
up to 32 MiB as the connections' short-lived garbage arrives, which would
swamp the signal. The JS heap figure is the reliable one; RSS growth also
depends on how much free memory the process already had resident (Veil
starts with more: migrations, routes, schemas), so it understates Veil's
cost next to a process that starts almost empty. Kernel socket buffers are
in neither.

## Results

${start}
${end}
`;

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const dec = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const ratio = (a, b) => (Number.isFinite(a / b) && b !== 0 ? `${dec(a / b)}×` : "n/a");
const pct = (share) => `${(share * 100).toFixed(1)} %`;

function row(cells) {
  return `| ${cells.join(" | ")} |`;
}

/** The generated results section, from a run's results. */
export function resultsMarkdown(run) {
  const { machine, params, fanout, idle, profiles } = run;
  const lines = [];
  const v = fanout.veil;
  const b = fanout.bare;
  const s = fanout.bareString;
  lines.push(
    `Last run: ${run.finishedAt.slice(0, 16).replace("T", " ")} UTC, commit ${machine.commit}, ` +
      `${machine.cpuCount} × ${machine.cpuModel}, ${dec(machine.memoryGiB, 1)} GiB RAM, ` +
      `${machine.os}, Node ${machine.node} (ws ${machine.versions.ws}, ` +
      `better-sqlite3 ${machine.versions["better-sqlite3"]}, fastify ${machine.versions.fastify}). ` +
      "Load generator and servers share the machine.",
    "",
    `Command: \`${run.command}\``,
    "",
    `### gateway-fanout: ${int(params.connections)} connections, ${int(params.events)} events ` +
      `per server (+${params.warmupEvents} warm-up each), ${fanout.frameBytes}-byte frames`,
    "",
    row(["measure", "Veil", "bare ws", "Veil / bare"]),
    row(["---", "---:", "---:", "---:"]),
  );
  const measures = [
    ["server CPU per delivered frame (µs)", "cpuPerFrameUs", dec],
    ["server CPU per event (ms)", "cpuPerEventMs", dec],
    ["change to last delivery, median (ms)", "lastMedianMs", dec],
    ["change to last delivery, p95 (ms)", "lastP95Ms", dec],
    ["change to first delivery, median (ms)", "firstMedianMs", dec],
    ["deliveries per second (one event at a time)", "framesPerSecond", int],
  ];
  for (const [name, key, format] of measures) {
    lines.push(row([name, format(v[key]), format(b[key]), ratio(v[key], b[key])]));
  }
  lines.push(
    "",
    `Veil ran ${dec(v.statementsPerEvent, 1)} SQL statements per event. ` +
      `The same bare server sending the frame as a string (as the gateway does) instead of a ` +
      `Buffer used ${dec(s.cpuPerFrameUs)} µs of CPU per frame (${ratio(s.cpuPerFrameUs, b.cpuPerFrameUs)} ` +
      `the baseline; last delivery ${dec(s.lastMedianMs)} ms). ` +
      `The load generator used ${dec(fanout.clientCpuMs / (3 * params.events), 1)} ms of CPU per event.`,
    "",
  );

  if (profiles?.veil && profiles?.bare) {
    const n = params.profileEvents;
    const perEvent = (ms) => dec(ms / n, 2);
    const pv = profiles.veil;
    const pb = profiles.bare;
    const find = (p, name) => p.byOrigin.find((o) => o.name === name);
    const weight = (name) => (find(pv, name)?.ms ?? 0) + (find(pb, name)?.ms ?? 0);
    const origins = [...new Set([...pv.byOrigin, ...pb.byOrigin].map((o) => o.name))].sort(
      (x, y) => weight(y) - weight(x),
    );
    const cell = (o) => (o ? `${perEvent(o.ms)} (${pct(o.share)})` : "");
    lines.push(
      `### Where the time goes: CPU profiles of ${n} more events on each server`,
      "",
      "Sampled every 250 µs; the profiler adds overhead, so compare shares rather than totals. " +
        "Self time in ms per event (share), by origin; native code counts for the JavaScript " +
        "that called it:",
      "",
      row(["origin", "Veil", "bare ws"]),
      row(["---", "---:", "---:"]),
      row(["**busy CPU**", perEvent(pv.busyMs), perEvent(pb.busyMs)]),
      ...origins.map((name) => row([`\`${name}\``, cell(find(pv, name)), cell(find(pb, name))])),
      "",
      "Veil: the functions with the most self time (ms per event):",
      "",
      row(["function", "ms", "share"]),
      row(["---", "---:", "---:"]),
      ...pv.topSelf.map((o) => row([`\`${o.name}\``, perEvent(o.ms), pct(o.share)])),
      "",
      "Veil's own functions with the most inclusive time (ms per event; synchronous stack only: " +
        "code resumed after an `await` starts a new stack, so async callers look cheaper than they are):",
      "",
      row(["function", "ms", "share"]),
      row(["---", "---:", "---:"]),
      ...pv.topInclusive.map((o) => row([`\`${o.name}\``, perEvent(o.ms), pct(o.share)])),
      "",
    );
  }

  const iv = idle.veil;
  const ib = idle.bare;
  lines.push(
    `### idle-memory: ${int(params.idle)} idle authenticated connections ` +
      `(+${params.idleWarmup} warm-up), after GC`,
    "",
    row(["per connection", "Veil", "bare ws", "Veil / bare"]),
    row(["---", "---:", "---:", "---:"]),
  );
  const memory = [
    ["JS heap used (bytes)", "heapUsed"],
    ["external + array buffers (bytes)", "external"],
    ["RSS (bytes)", "rss"],
  ];
  for (const [name, key] of memory) {
    const a = iv.perConnection[key];
    const c = ib.perConnection[key];
    // A ratio to a baseline of next to nothing says nothing.
    lines.push(row([name, int(a), int(c), Math.abs(c) < 64 ? "n/a (baseline ≈ 0)" : ratio(a, c)]));
  }
  lines.push(
    row([
      `time to open and authenticate all ${int(params.idle)} (ms)`,
      int(iv.connectMs),
      int(ib.connectMs),
      ratio(iv.connectMs, ib.connectMs),
    ]),
    "",
    `Raw results: \`${run.resultsFile}\`; CPU profiles (open in Chrome DevTools): ` +
      `${Object.values(profiles ?? {})
        .map((p) => `\`${p.file}\``)
        .join(", ")}.`,
  );
  return lines.join("\n");
}

/** Rewrites the generated section of `file`, creating the file if needed. */
export async function updateDocs(file, run) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
    text = skeleton;
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file}: the markers ${start} … ${end} are missing`);
  const next = `${text.slice(0, from + start.length)}\n${resultsMarkdown(run)}\n${text.slice(to)}`;
  await writeFile(file, next);
}
