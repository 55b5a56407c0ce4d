import { readFile, writeFile } from "node:fs/promises";
import { extraSections, sectionCharts } from "./report-sections.js";

const start = "<!-- bench:gateway:start -->";
const end = "<!-- bench:gateway:end -->";
const messagingStart = "<!-- bench:messaging:start -->";
const messagingEnd = "<!-- bench:messaging:end -->";
const communitiesStart = "<!-- bench:communities:start -->";
const communitiesEnd = "<!-- bench:communities:end -->";
const channelsStart = "<!-- bench:channels:start -->";
const channelsEnd = "<!-- bench:channels:end -->";

/** The hand-written part of docs/benchmarks.md, used when the file does not exist yet. */
const skeleton = `# Benchmarks

Speed and memory are reported as **ratios against a baseline measured in the
same run, on the same machine** (machines are noisy; an absolute number from
another day or another machine means little). No unit test asserts a
wall-clock threshold.

## Running

    npm run bench                                   # builds, then runs every benchmark with defaults, [1/4]..[4/4]
    node bench/run.js --connections 1000 --events 50 --idle 2000
    node bench/run.js --scenario idle-memory        # some scenarios, comma-separated (then only bench/results/ is written)
    node bench/run.js --scenario relay-1to1 --relay-windows 1,8,64 --relay-messages 5000
    node bench/run.js --scenario group-fanout --group-members 2000 --group-events 100
    node bench/run.js --scenario offline-drain --offline-messages 5000 --offline-window 64
    node bench/run.js --scenario connection-capacity --capacity-connections 60000 --capacity-addresses 3   # after ulimit -n 200000
    node bench/run.js --scenario cluster --cluster-members 1000 --cluster-messages 5000
    node bench/run.js --scenario cluster --cluster-announcement-members 2000 --cluster-logins 5000
    node bench/run.js --database postgres           # Veil on PostgreSQL (bench/results/ only)
    node bench/run.js --help                        # every flag (each also has a BENCH_* variable)

\`npm run bench\` builds, then runs (\`bench/all.js\`) four steps, each
announced as \`[i/4]\` on stderr: \`node bench/run.js\` (every scenario:
gateway-fanout, idle-memory, relay-1to1, group-fanout, announcement-fanout,
channel-fanout, offline-drain, connection-capacity, cluster), \`node
bench/mls.js --sizes 100,1000\`, \`node bench/announcement-keys.js\` and
\`node bench/scenarios/announcement-group-commit.js --write\`. When stderr
is a terminal, \`bench/run.js\` draws one progress bar over the scenarios.
The cluster scenario needs PostgreSQL (\`--database-url\`) and NATS
(\`--bus-url\`). Expect about six to eight minutes for \`node bench/run.js\`
on two cores (an estimate), and about two more for \`npm run bench\`.

The harness starts each server under test in its own process (so that the
server's CPU and memory are measured apart from the load generator's), on
127.0.0.1, with fresh storage for each scenario, and kills them at the end,
even on failure. Storage is a temporary SQLite data directory by default;
with \`--database postgres\` it is a fresh schema (\`VEIL_DATABASE_SCHEMA\`) in
the database at \`--database-url\` (default
\`postgres://postgres@127.0.0.1:5432/test\`), dropped at the end. Raw results,
per event, go to \`bench/results/\` (ignored by git) with CPU profiles of the
Veil and bare servers; the sections below are rewritten by a full run on
SQLite (every scenario; any other run writes only \`bench/results/\`). SQL
statements are counted in the Veil server's process by wrapping
better-sqlite3's statement methods (\`run\`, \`all\`, \`get\`, \`iterate\`: Veil
caches prepared statements, so counting \`prepare\` would miss them) and pg's
\`Client.query\`; both counts include \`begin\` and \`commit\`. On PostgreSQL,
"server CPU" is the Veil process's alone: the database server's CPU is
not in it, so compare PostgreSQL runs with each other, not with SQLite's.

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

The two scenarios below drive the MLS delivery service (see
[messaging.md](messaging.md)) with real MLS bytes from ts-mls (suite
\`MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519\`): key packages whose basic
credential is the device id, a group created under the server's group id,
a public commit (with the ratchet tree in the welcome) adding the claimed
key packages, and application messages encrypted by the sender before the
measurement starts, so that the load generator does no MLS work while it
is measured. The server checks their public framing (group id, epoch,
content type); the receivers do not join or decrypt, they count
\`group.entry\` frames, which keeps the set-up cheap. Messages carry
\`--message-bytes\` of plaintext (default 100). A message's client id carries
its number in fixed width, so every frame of a run has the same size (Veil's
frames also carry the log position, whose digits grow: the baselines'
frames are within a few bytes).

**relay-1to1**: users A and B, registered through the HTTP API; A finds B
by phone number, opens their direct chat (\`POST /v1/groups\`), claims B's
key package and commits adding B's device. B's device is connected on the
WebSocket (A's is not, or Veil would also echo each message to it). A
posts M messages (\`--relay-messages\`, default 2000 per server and window)
to \`POST /v1/groups/:id/messages\`, with at most W awaiting their ack
(\`--relay-windows\`, default 1 and 32), over HTTP keep-alive. Veil answers
only once the message is durable: it checks the session, the membership
and the MLS framing, then appends the message to the group's log in a
transaction (SQLite in WAL mode with \`synchronous=NORMAL\`: the commit
reaches the WAL file without an fsync per commit, so it survives a crash of
the process, not necessarily a power cut), and its gateway then
reads the entry back and pushes a \`group.entry\` frame to B. Measured: messages
per second (all M sent, acked and received, divided by the time), the
sender's ack latency and the time from sending to B's receipt (p50, p99),
and the server process's CPU per message.

The floor is a bare \`ws\` relay that **stores nothing**: A's device sends
the same frame B will receive (Veil's \`group.entry\` frame with the message
id swapped) over its own WebSocket; the relay forwards it, as is, to B and
acks A with a small frame. That is the least any relay must do, so the
ratio is the whole price of Veil's work (HTTP, authentication, validation,
durable storage, the bus, the gateway) and not a like-for-like comparison
of equals. A second bare relay takes the frame in an HTTP POST (as Veil
does) and answers 201 after forwarding it: the ratio to it leaves HTTP out
of the price. Each window's M messages go in rounds (\`--relay-rounds\`,
default 4) with the three servers taking turns, so that all see the same
machine noise. With more than one message in flight, Veil's rate is its
CPU ceiling (one Node thread); latencies then include queueing behind the
other messages in flight. After the measurement, more messages go through
Veil and the bare ws relay under the CPU profiler, and then more through
Veil with every SQL statement timed (SQLite only).

**group-fanout**: a group of D member devices (\`--group-members\`, default
1000): the creator and D - 1 users registered with verified numbers and one
key package each; the creator finds each by number, claims their key
packages (50 users per claim) and adds all D - 1 devices in one commit.
Then all D devices connect, and the creator posts E messages
(\`--group-events\`, default 50), one after another; each reaches every
member device, the creator's own included, as a \`group.entry\` frame.
Measured as in gateway-fanout: the time from sending to the first and the
last of the D deliveries, the sender's ack, and the server's CPU per
delivered frame. The baseline is the bare \`ws\` server holding D
connections which, on an HTTP request carrying the frame, sends it as one
Buffer to every socket; a second bare server sends it as a string, as
Veil's gateway does. The bare server answers the request after its
broadcast, Veil once the message is stored (before or while its gateway
sends), so the two ack times measure different things. Setting up the
group is reported apart (not in the ratios): the commit's size, the
server's time and CPU to accept it (under the CPU profiler), and, on
SQLite, the size of the data directory afterwards. \`--group-members\` stops
at 2000: the server takes a commit and a welcome of up to 1,000,000
base64url characters each, and adding one device takes about 460 of them in
the commit and 480 in the welcome, so a larger group needs several commits.

Reading the two: in the relay, Veil's CPU per message is the sum of
everything a real message costs (the HTTP request, the session lookup, the
membership and framing checks, the durable append, the bus and the push),
against a floor that only moves bytes, so the ratio is large by
construction; the ratio to the bare HTTP relay leaves out HTTP. With more
than one message in flight Veil's rate is its CPU ceiling on one thread. In
the group fan-out both servers spend most of their time in the kernel
writing to a thousand sockets (on loopback a write also does the receiving
side's TCP work), so Veil's own share, and the ratio, are much smaller.

## Results

${start}
${end}

${messagingStart}
${messagingEnd}

${communitiesStart}
${communitiesEnd}

${channelsStart}
${channelsEnd}

<!-- bench:offline:start -->
<!-- bench:offline:end -->

<!-- bench:capacity:start -->
<!-- bench:capacity:end -->

<!-- bench:cluster:start -->
<!-- bench:cluster:end -->
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
    lines.push(
      `### Where the time goes: CPU profiles of ${params.profileEvents} more events on each server`,
      "",
      ...profileTables(profiles.veil, profiles.bare, {
        units: params.profileEvents,
        unit: "event",
        peer: "bare ws",
      }),
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

/**
 * The tables of two CPU profiles side by side (Veil's and a baseline's):
 * self time by origin, then Veil's functions with the most self and
 * inclusive time. Times per `unit`, in ms, or in µs with `micro`.
 */
function profileTables(pv, pb, { units, unit, peer, micro = false, intervalUs = 250 }) {
  const per = (ms) => (micro ? dec((ms * 1000) / units, 0) : dec(ms / units, 2));
  const measure = micro ? "µs" : "ms";
  const find = (p, name) => p.byOrigin.find((o) => o.name === name);
  const weight = (name) => (find(pv, name)?.ms ?? 0) + (find(pb, name)?.ms ?? 0);
  const origins = [...new Set([...pv.byOrigin, ...pb.byOrigin].map((o) => o.name))].sort(
    (x, y) => weight(y) - weight(x),
  );
  const cell = (o) => (o ? `${per(o.ms)} (${pct(o.share)})` : "");
  return [
    `Sampled every ${intervalUs} µs; the profiler adds overhead, so compare shares rather than totals. ` +
      `Self time in ${measure} per ${unit} (share), by origin; native code counts for the JavaScript ` +
      "that called it:",
    "",
    row(["origin", "Veil", peer]),
    row(["---", "---:", "---:"]),
    row(["**busy CPU**", per(pv.busyMs), per(pb.busyMs)]),
    ...origins.map((name) => row([`\`${name}\``, cell(find(pv, name)), cell(find(pb, name))])),
    "",
    `Veil: the functions with the most self time (${measure} per ${unit}):`,
    "",
    row(["function", measure, "share"]),
    row(["---", "---:", "---:"]),
    ...pv.topSelf.map((o) => row([`\`${o.name}\``, per(o.ms), pct(o.share)])),
    "",
    `Veil's own functions with the most inclusive time (${measure} per ${unit}; synchronous stack only: ` +
      "code resumed after an `await` starts a new stack, so async callers look cheaper than they are):",
    "",
    row(["function", measure, "share"]),
    row(["---", "---:", "---:"]),
    ...pv.topInclusive.map((o) => row([`\`${o.name}\``, per(o.ms), pct(o.share)])),
    "",
  ];
}

/** The SQL statements Veil spent the most time in, per `unit`. */
function sqlTable(sql, unit) {
  return [
    row(["statement", `calls per ${unit}`, `µs per ${unit}`, "share"]),
    row(["---", "---:", "---:", "---:"]),
    row(["**all SQL**", dec(sql.callsPerUnit, 1), dec(sql.usPerUnit, 0), "100 %"]),
    ...sql.statements.map((s) =>
      row([
        `\`${s.sql.replaceAll("|", "\\|")}\``,
        dec(s.callsPerUnit, 1),
        dec(s.usPerUnit, 0),
        pct(s.share),
      ]),
    ),
    "",
  ];
}

const mib = (bytes) => dec(bytes / 2 ** 20, 1);
/** Frame sizes `[{ min, max }]` as "677" or "677–679". */
function sizes(ranges) {
  const min = Math.min(...ranges.map((r) => r.min));
  const max = Math.max(...ranges.map((r) => r.max));
  return min === max ? String(min) : `${min}–${max}`;
}

/** The ejabberd peer's rows in relay-1to1, and what it does and does not do (bench/servers/ejabberd.js). */
function ejabberdRelayLines(relay) {
  const peer = relay.peers?.ejabberd;
  if (!peer) return [];
  const lines = [
    `#### Peer: ejabberd ${peer.version}, in the same rounds`,
    "",
    `User A sends \`<message type="chat"/>\` stanzas to B's bare JID over a plain TCP XMPP stream ` +
      `(@xmpp/client, SASL PLAIN on loopback, no TLS, as the Veil runs use plain HTTP); the body has ` +
      `as many base64url characters as Veil's ciphertext (${relay.ciphertextChars}), so B receives ` +
      `${sizes([peer.stanzaBytes])}-byte stanzas. XMPP has no server ack for a message (without ` +
      "XEP-0198), so a message is in flight until B has it: there is no ack row. CPU is the Erlang " +
      "VM's (every thread, from /proc), which may use both cores; Veil is one Node thread.",
    "",
    row([
      "measure",
      "in flight",
      "ejabberd",
      "bare ws relay",
      "ejabberd / bare ws",
      "Veil / ejabberd",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:"]),
  ];
  const measures = [
    ["messages per second", "messagesPerSecond", int],
    ["server CPU per message (µs)", "cpuPerMessageUs", (n) => dec(n, 1)],
    ["send to receive, p50 (ms)", "receiveP50Ms", dec],
    ["send to receive, p99 (ms)", "receiveP99Ms", dec],
  ];
  for (const [name, key, format] of measures) {
    for (const window of relay.windows) {
      const { veil, bareWs, ejabberd } = relay.results[window];
      lines.push(
        row([
          name,
          String(window),
          format(ejabberd[key]),
          format(bareWs[key]),
          ratio(ejabberd[key], bareWs[key]),
          ratio(veil[key], ejabberd[key]),
        ]),
      );
    }
  }
  lines.push(
    "",
    "What the comparison leaves out. Veil stores every message durably (in its database, before " +
      "the ack) and only ever sees MLS ciphertext (end-to-end encryption); it checks the session, " +
      "the membership and the MLS framing of each message. ejabberd here authenticates the stream " +
      "once, parses each stanza, routes it by JID to B's available session and relays it " +
      "in memory: nothing is written to disk for an online receiver (offline storage is on, for " +
      "receivers that are not connected; no MAM archive, no stream management), and there is no " +
      "end-to-end encryption (no OMEMO: the body is opaque text of the same length). What ejabberd " +
      "does that Veil does not: federation with other XMPP servers (s2s, not configured here). " +
      `Users registered in-band (XEP-0077) in ${dec(peer.registerMs, 0)} ms; ejabberd started in ` +
      `${dec(peer.startMs / 1000, 1)} s. Reproduce: \`node bench/run.js --scenario relay-1to1\` ` +
      "(ejabberd installed; `--no-peers` leaves it out).",
    "",
  );
  return lines;
}

/** The ejabberd peer's rows in group-fanout. */
function ejabberdGroupLines(group) {
  const e = group.ejabberd;
  if (!e) return [];
  const v = group.veil;
  const b = group.bare;
  const lines = [
    `#### Peer: ejabberd ${e.version}, a multi-user chat room of ${int(group.members)} occupants`,
    "",
    `The same number of XMPP clients, all in one room; the first posts \`<message type="groupchat"/>\` ` +
      `stanzas (a body as long as Veil's ciphertext), and ejabberd sends each to every occupant, ` +
      `the sender included (${sizes([e.frameBytes])}-byte stanzas), interleaved with the other servers' messages.`,
    "",
    row(["measure", "ejabberd", "bare ws", "ejabberd / bare", "Veil / ejabberd"]),
    row(["---", "---:", "---:", "---:", "---:"]),
  ];
  const measures = [
    ["server CPU per delivered stanza (µs)", "cpuPerFrameUs", dec],
    ["server CPU per message (ms)", "cpuPerEventMs", dec],
    ["send to last delivery, p50 (ms)", "lastMedianMs", dec],
    ["send to last delivery, p99 (ms)", "lastP99Ms", dec],
    ["send to first delivery, p50 (ms)", "firstMedianMs", dec],
    ["deliveries per second (one message at a time)", "framesPerSecond", int],
  ];
  for (const [name, key, format] of measures) {
    lines.push(
      row([name, format(e[key]), format(b[key]), ratio(e[key], b[key]), ratio(v[key], e[key])]),
    );
  }
  const t = e.setup;
  lines.push(
    "",
    "The room keeps no history (`history_size: 0`), archives nothing (no MAM) and broadcasts only " +
      "moderators' presence; it holds the messages in memory only. Veil stores each message once, " +
      "durably, before its gateway pushes it, and the server sees only MLS ciphertext; ejabberd " +
      "has no end-to-end encryption here (no OMEMO). What ejabberd does that Veil does not: " +
      "federation (rooms open to users of other XMPP servers; not configured here). " +
      `Set-up (not measured above): ${int(group.members)} users registered in-band in ` +
      `${dec(t.registerMs / 1000, 1)} s, connected in ${dec(t.connectMs / 1000, 1)} s, joined the ` +
      `room in ${dec(t.joinMs / 1000, 1)} s. Reproduce: \`node bench/run.js --scenario group-fanout\` ` +
      "(`--no-peers` leaves ejabberd out).",
    "",
  );
  return lines;
}

/** The generated section of the delivery-service scenarios (relay-1to1, group-fanout). */
export function messagingMarkdown(run) {
  const { relay, group, params } = run;
  const lines = [`Same run as above (\`${run.command}\`, ${relay.database}).`, ""];

  const windows = relay.windows;
  lines.push(
    `### relay-1to1: a direct chat, ${int(relay.messagesPerWindow)} messages per server and ` +
      `window (+${params.relayWarmup} warm-up each), ${relay.messageBytes}-byte MLS messages ` +
      `(${relay.ciphertextChars} base64url characters)`,
    "",
    "Veil stores every message (SQLite, WAL, `synchronous=NORMAL`) before it acks; " +
      "the bare relays store nothing. Frames to the receiver: " +
      `${sizes(windows.map((w) => relay.results[w].veil.frameBytes))} bytes from Veil, ` +
      `${sizes(windows.flatMap((w) => [relay.results[w].bareWs.frameBytes, relay.results[w].bareHttp.frameBytes]))} from the bare relays.`,
    "",
    row([
      "measure",
      "in flight",
      "Veil",
      "bare ws relay",
      "Veil / bare ws",
      "bare HTTP relay",
      "Veil / bare HTTP",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]),
  );
  const relayMeasures = [
    ["messages per second", "messagesPerSecond", int],
    ["server CPU per message (µs)", "cpuPerMessageUs", (n) => dec(n, 1)],
    ["sender's ack, p50 (ms)", "ackP50Ms", dec],
    ["sender's ack, p99 (ms)", "ackP99Ms", dec],
    ["send to receive, p50 (ms)", "receiveP50Ms", dec],
    ["send to receive, p99 (ms)", "receiveP99Ms", dec],
  ];
  for (const [name, key, format] of relayMeasures) {
    for (const window of windows) {
      const { veil, bareWs, bareHttp } = relay.results[window];
      lines.push(
        row([
          name,
          String(window),
          format(veil[key]),
          format(bareWs[key]),
          ratio(veil[key], bareWs[key]),
          format(bareHttp[key]),
          ratio(veil[key], bareHttp[key]),
        ]),
      );
    }
  }
  const statements = windows.map((w) => dec(relay.results[w].veil.statementsPerMessage, 1));
  lines.push(
    "",
    `Veil ran ${[...new Set(statements)].join(" / ")} SQL statements per message. ` +
      `The load generator used ${windows
        .map(
          (w) =>
            `${dec((relay.clientCpuMs[w] * 1000) / (3 * relay.messagesPerWindow), 0)} µs (${w} in flight)`,
        )
        .join(", ")} of CPU per message sent.`,
    "",
  );
  const rp = relay.profiles;
  if (rp?.veil && rp?.bareWs) {
    lines.push(
      `#### Where Veil's time goes in the relay: CPU profiles of ${int(rp.veil.messages)} more ` +
        `messages on Veil and the bare ws relay, ${rp.veil.window} in flight`,
      "",
      ...profileTables(rp.veil, rp.bareWs, {
        units: rp.veil.messages,
        unit: "message",
        peer: "bare ws relay",
        micro: true,
      }),
    );
  }
  if (relay.sql) {
    lines.push(
      `SQL time per message in Veil, one message in flight (${int(relay.sql.units)} more messages; ` +
        "each statement timed around its run on the server's main thread, rows read and WAL " +
        "written at commit included; prepares counted together):",
      "",
      ...sqlTable(relay.sql, "message"),
    );
  }
  lines.push(...ejabberdRelayLines(relay));

  const v = group.veil;
  const b = group.bare;
  const s = group.bareString;
  lines.push(
    `### group-fanout: ${int(group.members)} member devices, all connected, ` +
      `${int(params.groupEvents)} messages per server (+${params.warmupEvents} warm-up each), ` +
      `${sizes([v.frameBytes])}-byte frames (bare: ${sizes([b.frameBytes, s.frameBytes])})`,
    "",
    row(["measure", "Veil", "bare ws", "Veil / bare"]),
    row(["---", "---:", "---:", "---:"]),
  );
  const groupMeasures = [
    ["server CPU per delivered frame (µs)", "cpuPerFrameUs", dec],
    ["server CPU per message (ms)", "cpuPerEventMs", dec],
    ["send to last delivery, p50 (ms)", "lastMedianMs", dec],
    ["send to last delivery, p99 (ms)", "lastP99Ms", dec],
    ["send to first delivery, p50 (ms)", "firstMedianMs", dec],
    ["deliveries per second (one message at a time)", "framesPerSecond", int],
  ];
  for (const [name, key, format] of groupMeasures) {
    lines.push(row([name, format(v[key]), format(b[key]), ratio(v[key], b[key])]));
  }
  // Not a ratio: the bare server answers after its broadcast, Veil once the message is stored.
  lines.push(
    row([
      "sender's ack, p50 (ms; not comparable, see above)",
      dec(v.responseMedianMs),
      dec(b.responseMedianMs),
      "",
    ]),
  );
  const setup = group.setup;
  const commit = setup.commit;
  lines.push(
    "",
    `Veil ran ${dec(v.statementsPerEvent, 1)} SQL statements per message. ` +
      `The same bare server sending the frame to each socket as a string (as the gateway does) ` +
      `instead of one Buffer used ${dec(s.cpuPerFrameUs)} µs of CPU per frame ` +
      `(${ratio(s.cpuPerFrameUs, b.cpuPerFrameUs)} the baseline; last delivery ${dec(s.lastMedianMs)} ms). ` +
      `The load generator used ${dec(group.clientCpuMs / (3 * params.groupEvents), 1)} ms of CPU per message.`,
    "",
    `Setting the group up (not measured above): ${int(group.members)} users registered with ` +
      `verified numbers in ${dec(setup.timings.registerMs / 1000, 1)} s; one commit adding ` +
      `${int(group.members - 1)} devices built by the creator in ${dec(setup.timings.commitBuildMs / 1000, 1)} s ` +
      `(${int(commit.commitChars / 1024)} KiB commit and ${int(commit.welcomeChars / 1024)} KiB welcome, ` +
      `base64url); the server accepted it in ${dec(commit.ms / 1000, 1)} s with ` +
      `${dec(commit.cpuMs / 1000, 1)} s of CPU and ${int(commit.statements)} SQL statements` +
      (setup.storeBytes === null
        ? "."
        : `, and its data directory then held ${mib(setup.storeBytes)} MiB ` +
          `(each added device's mailbox keeps its own copy of the ${int(commit.welcomeBytes / 1024)} KiB welcome).`),
    "",
  );
  if (commit.profile) {
    const cp = commit.profile;
    const ms = (o) => dec(o.ms, 0);
    lines.push(
      "Where the server's time goes while accepting that commit (CPU profile, sampled every ms; ms in total):",
      "",
      row(["function (self time)", "ms", "share"]),
      row(["---", "---:", "---:"]),
      row(["**busy CPU**", ms({ ms: cp.busyMs }), ""]),
      ...cp.topSelf.slice(0, 6).map((o) => row([`\`${o.name}\``, ms(o), pct(o.share)])),
      ...cp.topInclusive
        .slice(0, 4)
        .map((o) => row([`\`${o.name}\` (inclusive)`, ms(o), pct(o.share)])),
      "",
    );
  }
  const gp = group.profiles;
  if (gp?.veil && gp?.bare) {
    lines.push(
      `#### Where Veil's time goes in the group fan-out: CPU profiles of ${gp.veil.events} more ` +
        "messages on each server",
      "",
      ...profileTables(gp.veil, gp.bare, {
        units: gp.veil.events,
        unit: "message",
        peer: "bare ws",
      }),
    );
  }
  if (group.sql) {
    lines.push(
      `SQL time per group message in Veil (${int(group.sql.units)} more messages, timed as above):`,
      "",
      ...sqlTable(group.sql, "message"),
    );
  }
  lines.push(...ejabberdGroupLines(group));
  const files = [rp?.veil, rp?.bareWs, commit.profile, gp?.veil, gp?.bare].filter(Boolean);
  lines.push(
    `Raw results: \`${run.resultsFile}\`; CPU profiles: ${files.map((p) => `\`${p.file}\``).join(", ")}.`,
  );
  return lines.join("\n");
}

/** The announcement group's section, from a run's results. */
export function communitiesMarkdown(run) {
  const { announcement: a, group } = run;
  const v = a.veil;
  const b = a.bare;
  const lines = [
    `Same run as above (\`${run.command}\`).`,
    "",
    `### announcement-fanout: ${int(a.members)} members, all connected, ` +
      `${int(v.events.length)} announcements per server, ${int(a.frameBytes)}-byte frames`,
    "",
    row(["measure", "Veil", "bare ws", "Veil / bare"]),
    row(["---", "---:", "---:", "---:"]),
  ];
  const measures = [
    ["server CPU per delivery (µs)", "cpuPerFrameUs", dec],
    ["server CPU per announcement (ms)", "cpuPerEventMs", dec],
    ["admin's post to last delivery, p50 (ms)", "lastMedianMs", dec],
    ["admin's post to last delivery, p99 (ms)", "lastP99Ms", dec],
    ["admin's post to first delivery, p50 (ms)", "firstMedianMs", dec],
    ["deliveries per second (one announcement at a time)", "framesPerSecond", int],
  ];
  for (const [name, key, format] of measures) {
    lines.push(row([name, format(v[key]), format(b[key]), ratio(v[key], b[key])]));
  }
  const j = a.joins;
  lines.push(
    "",
    `Veil ran ${dec(v.statementsPerEvent, 1)} SQL statements per announcement.`,
    "",
    "Membership changes. Joining (by invite link) costs the server " +
      `${dec(j.sequential.cpuMsEach)} ms of CPU and ${dec(j.sequential.statementsEach, 0)} SQL statements ` +
      `(${dec(j.sequential.msEach)} ms each, ${int(j.sequential.count)} one after another); ` +
      `${int(j.parallel.count)} more joined ${int(j.parallel.perSecond)} per second, ` +
      `${dec(j.parallel.cpuMsEach)} ms of CPU each. Adding 1000 members therefore costs the ` +
      `server about ${dec((j.sequential.cpuMsEach * 1000) / 1000, 1)} s of CPU in all, and ` +
      "**each existing member's device nothing**: there is no commit to process. " +
      "A member who leaves costs each remaining device one small decryption when an admin next " +
      "posts (a new sender key over its key channel; see docs/crypto.md for the measured costs).",
  );
  if (group?.setup?.commit) {
    const c = group.setup.commit;
    lines.push(
      "",
      `For comparison, an ordinary MLS group (group-fanout above): one commit adding ` +
        `${int(group.members - 1)} devices took the server ${dec(c.ms / 1000, 2)} s ` +
        `(${dec(c.cpuMs / 1000, 2)} s of CPU), and every existing member device must process it.`,
    );
  }
  lines.push("", `Raw results: \`${run.resultsFile}\`.`);
  return lines.join("\n");
}

/** The channel section, from a run's results. */
export function channelsMarkdown(run) {
  const c = run.channels;
  const v = c.veil;
  const b = c.bare;
  const st = c.storm;
  const lines = [
    `From \`${run.command}\`.`,
    "",
    `### channel-fanout: ${int(c.followers)} followers, ${int(c.connected)} of them connected, ` +
      `${int(v.events.length)} posts per server, ${int(c.frameBytes)}-byte frames`,
    "",
    row(["measure", "Veil", "bare ws", "Veil / bare"]),
    row(["---", "---:", "---:", "---:"]),
  ];
  const measures = [
    ["server CPU per delivery (µs)", "cpuPerFrameUs", dec],
    ["server CPU per post (ms)", "cpuPerEventMs", dec],
    ["post to last delivery, p50 (ms)", "lastMedianMs", dec],
    ["post to last delivery, p99 (ms)", "lastP99Ms", dec],
    ["post to first delivery, p50 (ms)", "firstMedianMs", dec],
    ["deliveries per second (one post at a time)", "framesPerSecond", int],
  ];
  for (const [name, key, format] of measures) {
    lines.push(row([name, format(v[key]), format(b[key]), ratio(v[key], b[key])]));
  }
  const s = c.setup;
  lines.push(
    "",
    `Rows written per post: ${dec(v.rowsPerPost, 2)} (\`channel_posts\`, counted before and after), ` +
      `${dec(v.statementsPerEvent, 1)} SQL statements per post, whatever the number of followers.` +
      (c.interleaved
        ? " The two servers' posts were interleaved."
        : " The bare server ran after Veil (both at once need more open files than the load " +
          "generator may have)."),
    "",
    `Set-up (not measured): ${int(c.connected)} followers registered in ${dec(s.registerMs / 1000, 1)} s ` +
      `and followed in ${dec(s.followMs / 1000, 1)} s through the API; ${int(s.insertedRows)} more ` +
      `follower rows (users and channel_followers) written straight into the store in ` +
      `${dec(s.insertMs / 1000, 1)} s.`,
    "",
    `#### Reaction storm: ${int(st.reactors)} connected followers, ${int(st.rounds)} rounds of ` +
      `${int(st.overlap)} overlapping requests each (set, switch, remove) and a last reaction: ` +
      `${int(st.reactions)} requests, ${int(st.concurrency)} in flight`,
    "",
    row(["measure", "value"]),
    row(["---", "---:"]),
    row(["reactions acked per second", int(st.perSecond)]),
    row(["reaction ack, p50 / p99 (ms)", `${dec(st.ackP50Ms, 1)} / ${dec(st.ackP99Ms, 1)}`]),
    row(["server CPU per reaction (µs)", int(st.cpuPerReactionUs)]),
    row(["SQL statements per reaction", dec(st.statementsPerReaction, 1)]),
    row(["final counts (stored; last push)", `${fmtCounts(st.stored)}; ${fmtCounts(st.pushed)}`]),
    row(["expected counts", fmtCounts(st.expected)]),
    row(["exact", st.exact ? "yes" : "**no**"]),
    row([
      "`channel.counts` pushes per connected follower",
      `${dec(st.pushes, 1)} in ${dec(st.windowMs / 1000, 1)} s (${dec(st.pushesPerSecond, 2)}/s)`,
    ]),
    "",
    `Raw results: \`${run.resultsFile}\`.`,
  );
  return lines.join("\n");
}

const fmtCounts = (counts) =>
  Object.entries(counts)
    .map(([e, n]) => `${e} ${int(n)}`)
    .join(", ") || "none";

/** Replaces what lies between the markers `from` and `to` in `text`. */
function replaceBetween(text, from, to, content, file) {
  const at = text.indexOf(from);
  const until = text.indexOf(to);
  if (at < 0 || until < at) throw new Error(`${file}: the markers ${from} … ${to} are missing`);
  return `${text.slice(0, at + from.length)}\n${content}\n${text.slice(until)}`;
}

/** Rewrites the generated sections of `file`, creating the file if needed. */
export async function updateDocs(file, run) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
    text = skeleton;
  }
  // SVG charts in docs/benchmarks/, embedded after each section's tables.
  const charts = await sectionCharts(run, file);
  const withCharts = (markdown, section) =>
    charts[section] ? `${markdown}\n\n${charts[section].trimEnd()}` : markdown;
  text = replaceBetween(text, start, end, withCharts(resultsMarkdown(run), "gateway"), file);
  text = replaceBetween(
    text,
    messagingStart,
    messagingEnd,
    withCharts(messagingMarkdown(run), "messaging"),
    file,
  );
  if (!text.includes(communitiesStart))
    text = `${text.trimEnd()}\n\n${communitiesStart}\n${communitiesEnd}\n`;
  text = replaceBetween(
    text,
    communitiesStart,
    communitiesEnd,
    withCharts(communitiesMarkdown(run), "communities"),
    file,
  );
  if (run.channels) {
    if (!text.includes(channelsStart))
      text = `${text.trimEnd()}\n\n${channelsStart}\n${channelsEnd}\n`;
    text = replaceBetween(
      text,
      channelsStart,
      channelsEnd,
      withCharts(channelsMarkdown(run), "channels"),
      file,
    );
  }
  for (const [from, to, content] of extraSections(run, charts)) {
    if (!text.includes(from)) text = `${text.trimEnd()}\n\n${from}\n${to}\n`;
    text = replaceBetween(text, from, to, content, file);
  }
  await writeFile(file, text);
}
