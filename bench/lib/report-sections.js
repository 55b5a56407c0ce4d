// The results page's sections for offline-drain, connection-capacity and
// cluster, and the charts of every scenario (written next to the page, in
// docs/benchmarks/, and embedded by bench/lib/report.js).
import path from "node:path";
import {
  byPath,
  latencyChart,
  latencySeries,
  ratioChart,
  ratioRows,
  serverName,
  writeCharts,
} from "./charts.js";

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const dec = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const ratio = (a, b) => (Number.isFinite(a / b) && b !== 0 ? `${dec(a / b)}×` : "n/a");
const row = (cells) => `| ${cells.join(" | ")} |`;

/** Markers of the sections this module writes, by section. */
export const markers = {
  offline: ["<!-- bench:offline:start -->", "<!-- bench:offline:end -->"],
  capacity: ["<!-- bench:capacity:start -->", "<!-- bench:capacity:end -->"],
  cluster: ["<!-- bench:cluster:start -->", "<!-- bench:cluster:end -->"],
};

/** One line on the machine the run measured. */
export function machineNote(run) {
  const m = run.machine;
  return (
    `Machine: ${m.cpuCount} × ${m.cpuModel}, ${dec(m.memoryGiB, 1)} GiB RAM, ${m.os}, ` +
    `Node ${m.node}, commit ${m.commit}; run ${run.finishedAt.slice(0, 16).replace("T", " ")} UTC. ` +
    "Load generator and servers share the machine."
  );
}

/** A table of `figures` (`[label, key, format]`) for Veil and a floor, with the ratio. */
function table(veil, floor, figures, floorName = "bare ws") {
  return [
    row(["measure", "Veil", floorName, "Veil / floor"]),
    row(["---", "---:", "---:", "---:"]),
    ...figures.map(([label, key, format = dec]) =>
      row([label, format(veil[key]), format(floor[key]), ratio(veil[key], floor[key])]),
    ),
  ];
}

const offlineFigures = [
  ["messages sent per second, receiver offline", "sendPerSecond", int],
  ["server CPU per message sent (µs)", "sendCpuPerMessageUs", (n) => dec(n, 0)],
  ["sender's ack, p50 (ms)", "ackP50Ms"],
  ["sender's ack, p99 (ms)", "ackP99Ms"],
  ["connect (hello to ready), median (ms)", "connectMs"],
  ["drain: connect to caught up (ms)", "drainMs", int],
  ["drain: messages per second", "drainPerSecond", int],
  ["drain: server CPU per message (µs)", "drainCpuPerMessageUs", (n) => dec(n, 1)],
  ["catch-up page, p50 (ms)", "pageP50Ms"],
  ["catch-up page, p99 (ms)", "pageP99Ms"],
];

export function offlineMarkdown(run) {
  const o = run.offline;
  return [
    machineNote(run),
    "",
    `Reproduce: \`node bench/run.js --scenario offline-drain --offline-messages ${o.messages} ` +
      `--offline-window ${o.window} --offline-rounds ${o.rounds}\``,
    "",
    `### offline-drain: ${int(o.messages)} messages to an offline device, ${o.window} in flight, ` +
      `${o.rounds} rounds per server; catch-up in pages of ${o.pageSize}`,
    "",
    `Veil keeps every message in the chat's log (${o.database}) and the device's cursor; the ` +
      `floor keeps the same ${int(o.entryBytes)}-byte log entries in an in-memory queue and ` +
      "stores nothing durable. Both take the message in an HTTP POST and serve catch-up as " +
      "JSON pages; drain time runs from opening the WebSocket to the cursor moved past the last message.",
    "",
    ...table(o.veil, o.bare, offlineFigures, "bare (in-memory queue)"),
  ].join("\n");
}

const capacityFigures = [
  ["logins per second (sign-in + hello)", "loginsPerSecond", int],
  ["login, p50 (ms)", "loginP50Ms"],
  ["login, p99 (ms)", "loginP99Ms"],
  ["server CPU per login (µs)", "cpuPerLoginUs", int],
];

export function capacityMarkdown(run) {
  const c = run.capacity;
  const memory = [
    ["JS heap per idle connection (bytes)", "heapUsed"],
    ["external + array buffers per connection (bytes)", "external"],
    ["RSS per idle connection (bytes)", "rss"],
  ];
  return [
    machineNote(run),
    "",
    `Reproduce: \`node bench/run.js --scenario connection-capacity --capacity-connections ` +
      `${c.connections} --capacity-concurrency ${c.concurrency}\` (past about 19,000 ` +
      "connections raise `ulimit -n`; `--capacity-addresses` spreads the client sockets over " +
      "127.0.0.1..N, one address per 25,000 by default)",
    "",
    `### connection-capacity: ${int(c.connections)} devices signing in, ${c.concurrency} at a ` +
      `time, from ${c.addresses} source address${c.addresses > 1 ? "es" : ""}; then idle (+${c.warmup} warm-up)`,
    "",
    "A login is the full device sign-in: a challenge, signed with the device's Ed25519 key, " +
      "exchanged for a session, then the WebSocket hello until `ready`. The floor answers the " +
      "same requests with the same shapes without checking anything (no store, no signature check).",
    "",
    ...table(c.veil, c.bare, capacityFigures),
    ...memory.map(([label, key]) => {
      const [a, b] = [c.veil.perConnection[key], c.bare.perConnection[key]];
      return row([label, int(a), int(b), Math.abs(b) < 64 ? "n/a (floor ≈ 0)" : ratio(a, b)]);
    }),
  ].join("\n");
}

const clusterParts = [
  [
    "relay",
    "relay-1to1",
    [
      ["messages per second", "relay.messagesPerSecond", int, "msgs/s"],
      ["server CPU per message (µs, all nodes)", "relay.cpuPerMessageUs", int, "CPU/msg"],
      ["send to receive, p50 (ms)", "relay.receiveP50Ms", dec, "p50"],
      ["send to receive, p99 (ms)", "relay.receiveP99Ms", dec, "p99"],
    ],
  ],
  [
    "group",
    "group-fanout",
    [
      ["server CPU per delivered frame (µs, all nodes)", "group.cpuPerFrameUs", dec, "CPU/frame"],
      ["send to last delivery, p50 (ms)", "group.lastMedianMs", dec, "last p50"],
      ["send to last delivery, p99 (ms)", "group.lastP99Ms", dec, "last p99"],
    ],
  ],
  [
    "channel",
    "channel post",
    [
      ["server CPU per delivery (µs, all nodes)", "channel.cpuPerFrameUs", dec, "CPU/frame"],
      ["post to last delivery, p50 (ms)", "channel.lastMedianMs", dec, "last p50"],
      ["post to last delivery, p99 (ms)", "channel.lastP99Ms", dec, "last p99"],
    ],
  ],
  [
    "announcement",
    "announcement fan-out",
    [
      ["server CPU per delivery (µs, all nodes)", "announcement.cpuPerFrameUs", dec, "CPU/frame"],
      ["post to last delivery, p50 (ms)", "announcement.lastMedianMs", dec, "last p50"],
      ["post to last delivery, p99 (ms)", "announcement.lastP99Ms", dec, "last p99"],
    ],
  ],
  [
    "offline",
    "offline store-and-forward and drain",
    [
      ["sent per second (receiver offline)", "offline.sendPerSecond", int, "sent/s"],
      [
        "server CPU per message sent (µs, all nodes)",
        "offline.sendCpuPerMessageUs",
        int,
        "CPU/sent",
      ],
      ["drained per second", "offline.drainPerSecond", int, "drained/s"],
      [
        "server CPU per message drained (µs, all nodes)",
        "offline.drainCpuPerMessageUs",
        int,
        "CPU/drained",
      ],
      ["connect and drain (ms)", "offline.drainMs", dec, "drain ms"],
      ["send ack, p50 (ms)", "offline.ackP50Ms", dec, "ack p50"],
      ["send ack, p99 (ms)", "offline.ackP99Ms", dec, "ack p99"],
    ],
  ],
  [
    "storm",
    "reaction storm",
    [
      ["reactions acked per second", "storm.perSecond", int, "reactions/s"],
      ["server CPU per reaction (µs, all nodes)", "storm.cpuPerReactionUs", int, "CPU/reaction"],
      ["reaction ack, p50 (ms)", "storm.ackP50Ms", dec, "ack p50"],
      ["reaction ack, p99 (ms)", "storm.ackP99Ms", dec, "ack p99"],
    ],
  ],
  [
    "logins",
    "logins",
    [
      ["logins per second", "logins.loginsPerSecond", int, "logins/s"],
      ["server CPU per login (µs, all nodes)", "logins.cpuPerLoginUs", int, "CPU/login"],
      ["challenge to ready, p50 (ms)", "logins.loginP50Ms", dec, "p50"],
      ["challenge to ready, p99 (ms)", "logins.loginP99Ms", dec, "p99"],
    ],
  ],
];

/** The parts of `c` (a cluster result) that it measured: older results have only the first three. */
const clusterPartsOf = (c) => clusterParts.filter(([part]) => c.cluster?.[part] !== undefined);

export function clusterMarkdown(run) {
  const c = run.cluster;
  const lines = [
    machineNote(run),
    "",
    `Reproduce: \`node bench/run.js --scenario cluster --cluster-members ${c.members} ` +
      `--cluster-messages ${c.messages} --cluster-window ${c.window} --cluster-events ${c.events} ` +
      `--cluster-nodes ${c.nodes}` +
      (c.announcementMembers === undefined
        ? ""
        : ` --cluster-announcement-members ${c.announcementMembers} ` +
          `--cluster-offline-messages ${c.offlineMessages} --cluster-storm-rounds ${c.stormRounds} ` +
          `--cluster-logins ${c.logins}`) +
      "` (needs PostgreSQL at " +
      "`--database-url` and NATS at `--bus-url`)",
    "",
    `### cluster: ${c.nodes} Veil nodes on one PostgreSQL schema and NATS, against one node ` +
      "on the same PostgreSQL and the bare floor",
    "",
    `Relay: ${int(c.messages)} messages, ${c.window} in flight, sender on node 1, receiver on ` +
      `node 2. Group: ${int(c.members)} member devices, ${int(c.events)} messages. Channel: ` +
      `${int(c.members)} connected followers, ${int(c.events)} posts. Receivers round-robin over ` +
      "the nodes; the sender posts to node 1. Server CPU is summed over the Veil node " +
      "processes; PostgreSQL's and NATS's CPU is not in it.",
    "",
  ];
  if (c.announcementMembers !== undefined) {
    const storm = (t) =>
      `${c[t].storm.exact ? "exact" : "WRONG"}, ${dec(c[t].storm.pushesPerSecond)} counts ` +
      "pushes per follower per second";
    lines.push(
      `Announcement: a community of ${int(c.announcementMembers)} members (joined by invite ` +
        `link through node 1), connected round-robin, ${int(c.events)} posts by the admin to ` +
        `node 1. Offline: ${int(c.offlineMessages)} messages sent to node 1 while the receiver ` +
        `is offline, ${c.window} in flight, then the receiver connects to node 2 and drains ` +
        `the log there. Reaction storm: the ${int(c.members)} channel followers react to a ` +
        `post, ${c.stormRounds} round${c.stormRounds > 1 ? "s" : ""} of three overlapping ` +
        "requests each and a last one, each through the node after the one it is connected " +
        `to; counts on ${c.nodes} nodes ${storm("cluster")}, on 1 node ${storm("single")}. ` +
        "The floor answers as many HTTP requests and stores and pushes nothing. Logins: " +
        `${int(c.logins)} registered devices sign in (challenge, session, WebSocket ` +
        "`ready`), each node its share at once; the floor checks nothing.",
      "",
    );
  }
  for (const [, title, figures] of clusterPartsOf(c)) {
    lines.push(
      `#### ${title}`,
      "",
      row([
        "measure",
        `${c.nodes} nodes`,
        "1 node",
        "bare ws",
        `${c.nodes} nodes / floor`,
        "1 node / floor",
      ]),
      row(["---", "---:", "---:", "---:", "---:", "---:"]),
    );
    for (const [label, key, format = dec] of figures) {
      const [a, s, b] = ["cluster", "single", "bare"].map((t) => byPath(c[t], key));
      lines.push(row([label, format(a), format(s), format(b), ratio(a, b), ratio(s, b)]));
    }
    lines.push("");
  }
  return lines.join("\n").trimEnd();
}

/** Ratio and latency charts of a fan-out scenario (`results`: servers by key). */
function fanoutCharts(name, title, results, floor = "bare") {
  const figures = [
    ["server CPU per delivery", "cpuPerFrameUs"],
    ["last delivery p50", "lastMedianMs"],
    ["last delivery p99", "lastP99Ms"],
    ["first delivery p50", "firstMedianMs"],
    ["deliveries per second", "framesPerSecond"],
  ];
  return [
    {
      name: `${name}-ratios`,
      title: `${title}: ratio to the floor (${serverName(floor)})`,
      svg: ratioChart(
        `${title}: ratio to the floor (${serverName(floor)})`,
        ratioRows(results, floor, figures),
      ),
    },
    {
      name: `${name}-latency`,
      title: `${title}: last delivery p50 and p99`,
      svg: latencyChart(
        `${title}: last delivery p50 and p99`,
        latencySeries(results, "lastMedianMs", "lastP99Ms", floor),
      ),
    },
  ];
}

const chart = (name, title, svgOf) => ({ name, title, svg: svgOf(title) });

/** Every chart of `run`, by section of the page. */
function chartsOf(run) {
  const sections = {};
  if (run.fanout || run.idle) {
    sections.gateway = [
      ...(run.fanout ? fanoutCharts("gateway-fanout", "gateway-fanout", run.fanout) : []),
      ...(run.idle
        ? [
            chart("idle-memory-ratios", "idle-memory: per connection, ratio to bare ws", (t) =>
              ratioChart(
                t,
                ratioRows(
                  run.idle,
                  "bare",
                  [
                    ["JS heap", "heapUsed"],
                    ["external", "external"],
                    ["RSS", "rss"],
                  ],
                  { get: (s, k) => s?.perConnection?.[k] },
                ),
              ),
            ),
          ]
        : []),
    ];
  }
  const messaging = [];
  for (const window of run.relay?.windows ?? []) {
    const results = run.relay.results[window];
    messaging.push(
      chart(
        `relay-1to1-ratios-w${window}`,
        `relay-1to1, ${window} in flight: ratio to bare ws relay`,
        (t) =>
          ratioChart(
            t,
            ratioRows(results, "bareWs", [
              ["messages per second", "messagesPerSecond"],
              ["server CPU per message", "cpuPerMessageUs"],
              ["ack p50", "ackP50Ms"],
              ["send to receive p50", "receiveP50Ms"],
              ["send to receive p99", "receiveP99Ms"],
            ]),
          ),
      ),
      chart(
        `relay-1to1-latency-w${window}`,
        `relay-1to1, ${window} in flight: send to receive p50 and p99`,
        (t) => latencyChart(t, latencySeries(results, "receiveP50Ms", "receiveP99Ms", "bareWs")),
      ),
    );
  }
  if (run.group) messaging.push(...fanoutCharts("group-fanout", "group-fanout", run.group));
  if (messaging.length > 0) sections.messaging = messaging;
  if (run.announcement)
    sections.communities = fanoutCharts(
      "announcement-fanout",
      "announcement-fanout",
      run.announcement,
    );
  if (run.channels)
    sections.channels = fanoutCharts("channel-fanout", "channel-fanout", run.channels);
  if (run.offline) {
    const o = run.offline;
    sections.offline = [
      chart("offline-drain-ratios", "offline-drain: ratio to the in-memory floor", (t) =>
        ratioChart(
          t,
          ratioRows(
            o,
            "bare",
            offlineFigures.map(([label, key]) => [label, key]),
          ),
        ),
      ),
      chart(
        "offline-drain-latency",
        "offline-drain: sender's ack and catch-up page, p50 and p99",
        (t) =>
          latencyChart(t, [
            ...latencySeries(o, "ackP50Ms", "ackP99Ms", "bare").map((s) => ({
              ...s,
              name: `${s.name}, ack`,
            })),
            ...latencySeries(o, "pageP50Ms", "pageP99Ms", "bare").map((s) => ({
              ...s,
              name: `${s.name}, page`,
            })),
          ]),
      ),
    ];
  }
  if (run.capacity) {
    const c = run.capacity;
    sections.capacity = [
      chart("connection-capacity-ratios", "connection-capacity: ratio to bare ws", (t) =>
        ratioChart(t, [
          ...ratioRows(
            c,
            "bare",
            capacityFigures.map(([label, key]) => [label, key]),
          ),
          ...ratioRows(
            c,
            "bare",
            [
              ["JS heap per connection", "heapUsed"],
              ["RSS per connection", "rss"],
            ],
            { get: (s, k) => s?.perConnection?.[k] },
          ),
        ]),
      ),
      chart("connection-capacity-latency", "connection-capacity: login p50 and p99", (t) =>
        latencyChart(t, latencySeries(c, "loginP50Ms", "loginP99Ms", "bare")),
      ),
    ];
  }
  if (run.cluster) {
    const c = run.cluster;
    const servers = { cluster: c.cluster, single: c.single, bare: c.bare };
    sections.cluster = [
      chart("cluster-ratios", `cluster: ${c.nodes} nodes and 1 node, ratio to bare ws`, (t) =>
        ratioChart(
          t,
          clusterPartsOf(c).flatMap(([part, , figures]) =>
            ratioRows(
              servers,
              "bare",
              figures.map(([, key, , short]) => [`${part} ${short}`, key]),
              { get: byPath },
            ),
          ),
        ),
      ),
      ...clusterPartsOf(c).map(([part, title, figures]) =>
        chart(`cluster-latency-${part}`, `cluster, ${title}: p50 and p99`, (t) =>
          latencyChart(
            t,
            latencySeries(servers, figures.at(-2)[1], figures.at(-1)[1], "bare", byPath),
          ),
        ),
      ),
    ];
  }
  return sections;
}

/**
 * Writes the charts of `run` into the `benchmarks/` folder next to the page
 * `file`; resolves with the Markdown embedding them, by section.
 */
export async function sectionCharts(run, file) {
  const dir = path.join(path.dirname(file), path.basename(file, ".md"));
  const out = {};
  for (const [section, charts] of Object.entries(chartsOf(run))) {
    out[section] = await writeCharts(dir, charts);
  }
  return out;
}

/** `[start, end, content]` of each new section that `run` has results for. */
export function extraSections(run, charts) {
  const sections = [];
  const add = (key, markdown) => {
    if (!run[key]) return;
    const [from, to] = markers[key];
    sections.push([from, to, `${markdown(run)}\n\n${charts[key] ?? ""}`.trimEnd()]);
  };
  add("offline", offlineMarkdown);
  add("capacity", capacityMarkdown);
  add("cluster", clusterMarkdown);
  return sections;
}
