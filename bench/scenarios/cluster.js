// cluster: the relay of a direct chat, a group message's fan-out, a
// channel post's fan-out and a reaction storm on it, a community
// announcement's fan-out, offline store-and-forward with the drain on
// another node, and logins, on three Veil nodes
// (bench/servers/veil-server.js processes) sharing one PostgreSQL schema and
// a NATS bus, the clients spread over the nodes: the sender posts to node 1,
// the receivers connect round-robin. Compared with one Veil node on the same
// PostgreSQL (its bus in memory) and with the bare `ws` floor, one process
// that stores nothing.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { directChat, memberGroup } from "../lib/chats.js";
import { api, call, closeSockets, DeliveryTracker, openSockets, pool } from "../lib/clients.js";
import { fire, summariseEvents } from "../lib/events.js";
import { entryFrame, entrySeqOf, messageIdFor } from "../lib/payload.js";
import { cpuMicros, quantile, sum } from "../lib/stats.js";
import { buildCommunity, posts } from "./announcement-fanout.js";
import { channelPostSeqOf, countsCounter, openStoreDb, reactionStorm } from "./channel-fanout.js";
import { registerDevice, signIn } from "./connection-capacity.js";
import { cycle, pageSize, summarise } from "./offline-drain.js";

const relayPhone = "+14155599990";
const offlinePhone = "+14155599991";
const phoneOf = (i) => `+1415559${String(i).padStart(4, "0")}`;
const postText = "Bench post ".padEnd(100, "x");
const relayWarmup = 50;

/** CPU microseconds used by all of `children` while `work` ran. */
async function cpuOf(children, work) {
  const usage = () => Promise.all(children.map((c) => c.request("usage")));
  const before = await usage();
  const result = await work();
  const after = await usage();
  const cpuUs = before.reduce((total, b, i) => total + cpuMicros(b.cpu, after[i].cpu), 0);
  return { result, cpuUs };
}

/**
 * The Veil `nodes` seen as one server by the scenario modules' helpers:
 * requests go to node 1; CPU and SQL statements are summed over the nodes.
 */
function allNodes(nodes) {
  return {
    name: nodes.length > 1 ? "veil-cluster" : nodes[0].name,
    url: nodes[0].url,
    async request(kind) {
      const all = await Promise.all(nodes.map((node) => node.request(kind)));
      if (kind === "usage") {
        const cpu = {
          user: sum(all.map((u) => u.cpu.user)),
          system: sum(all.map((u) => u.cpu.system)),
        };
        return { ...all[0], cpu };
      }
      if (kind === "stats") {
        const statements = sum(all.map((s) => s.statements));
        return { ...all[0], statements, connections: sum(all.map((s) => s.connections ?? 0)) };
      }
      throw new Error(`cluster: no combined ${kind}`);
    },
  };
}

/** Opens `tokens` round-robin over `nodes`: token i on node i mod N. */
async function openRoundRobin(ctx, nodes, tokens, onFrame) {
  const sockets = [];
  for (const [k, node] of nodes.entries()) {
    const mine = tokens.filter((_, i) => i % nodes.length === k);
    const opened = await openSockets(ctx.wsUrl(node), mine, onFrame, ctx.options.concurrency);
    sockets.push(...opened.sockets);
  }
  return sockets;
}

/** `seqs` through `send`, `window` awaiting their ack, each also awaited at the receiver. */
async function relayRun(send, tracker, seqs, window, timeoutMs) {
  const acks = [];
  const deliveries = [];
  const started = performance.now();
  await pool(seqs, window, async (seq) => {
    const { t0, done } = tracker.expect(seq, 1, timeoutMs);
    done.catch(() => {}); // awaited below
    deliveries.push(done);
    await send(seq);
    acks.push(performance.now() - t0);
  });
  const events = await Promise.all(deliveries);
  const elapsedMs = performance.now() - started;
  const receives = events.map((e) => e.latencies[0]);
  return {
    messages: seqs.length,
    messagesPerSecond: seqs.length / (elapsedMs / 1000),
    ackP50Ms: quantile(acks, 0.5),
    ackP99Ms: quantile(acks, 0.99),
    receiveP50Ms: quantile(receives, 0.5),
    receiveP99Ms: quantile(receives, 0.99),
    firstFrame: events[0]?.firstText,
  };
}

/** Passes each frame to the tracker of its kind. */
function dispatch(group, channel) {
  return (data) => {
    const text = data.toString();
    if (text.startsWith('{"type":"channel.post"')) channel.onFrame(data);
    else group.onFrame(data);
  };
}

/** Fan-out events on `target`, `warmup` unmeasured first; CPU over `children`. */
async function fanout(target, children, seq, count, warmup, events, timeoutMs) {
  let first = null;
  for (let i = 0; i < warmup; i++) first ??= await fire(target, seq(), count, timeoutMs);
  const { result, cpuUs } = await cpuOf(children, async () => {
    const list = [];
    for (let i = 0; i < events; i++) list.push(await fire(target, seq(), count, timeoutMs));
    return list;
  });
  return { summary: summariseEvents(result, cpuUs, count), first };
}

/**
 * Relay, group, channel post and reaction storm on Veil `nodes` (setup on
 * node 1); frames kept for the floor.
 */
async function measureVeil(ctx, nodes, store, settings) {
  const { options, log } = ctx;
  const { members, messages, window, events } = settings;
  const timeout = options.eventTimeoutMs;
  const [first] = nodes;
  const nodeOf = (i) => nodes[i % nodes.length];
  let started = performance.now();
  const chat = await directChat(first, {
    phone: relayPhone,
    bytes: options.messageBytes,
    count: relayWarmup + messages,
  });
  const group = await memberGroup(first, {
    members,
    concurrency: options.concurrency,
    phoneOf,
  });
  const owner = chat.sender;
  const channel = await call(first.url, "POST", "/v1/channels", 201, {
    token: owner.token,
    body: { name: "Bench Cluster", handle: "bench_cluster", category: "news" },
  });
  await pool(group.members, options.concurrency, (member) =>
    call(first.url, "PUT", `/v1/channels/${channel.id}/follow`, 200, {
      token: member.token,
      body: {},
    }),
  );
  const groupMessages = await group.mls.messages(
    options.warmupEvents + events,
    options.messageBytes,
  );
  log(
    `cluster (${nodes.length} node${nodes.length > 1 ? "s" : ""}): direct chat, a group of ` +
      `${members} and a channel set up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const relayTracker = new DeliveryTracker(entrySeqOf);
  const groupTracker = new DeliveryTracker(entrySeqOf);
  const channelTracker = new DeliveryTracker(channelPostSeqOf);
  const counter = countsCounter(dispatch(groupTracker, channelTracker));
  const db = await openStoreDb(store, options.clusterDatabaseUrl);
  const sockets = [];
  try {
    const receiverNode = nodeOf(1);
    sockets.push(
      ...(
        await openSockets(
          ctx.wsUrl(receiverNode),
          [chat.receiver.token],
          relayTracker.onFrame,
          options.concurrency,
        )
      ).sockets,
    );
    // Members connect round-robin: member i to node i mod N.
    started = performance.now();
    sockets.push(
      ...(await openRoundRobin(
        ctx,
        nodes,
        group.members.map((m) => m.token),
        (data) => counter.onFrame(data),
      )),
    );
    log(`cluster: ${members + 1} sockets open in ${(performance.now() - started).toFixed(0)} ms`);

    let next = 1;
    const seq = () => next++;
    let message = 0;
    const sendRelay = async (n) => {
      const reply = await api(first.url, "POST", `/v1/groups/${chat.groupId}/messages`, {
        token: chat.sender.token,
        body: { id: messageIdFor(n), message: chat.messages[message++] },
      });
      if (reply.status !== 201) throw new Error(`send: ${reply.status}`);
    };
    const warm = Array.from({ length: relayWarmup }, seq);
    const warmRun = await relayRun(sendRelay, relayTracker, warm, 8, timeout);
    const relaySeqs = Array.from({ length: messages }, seq);
    const relay = await cpuOf(nodes, () =>
      relayRun(sendRelay, relayTracker, relaySeqs, window, timeout),
    );

    let groupMessage = 0;
    const groupRun = await fanout(
      {
        tracker: groupTracker,
        trigger: async (n) => {
          const reply = await api(first.url, "POST", `/v1/groups/${group.groupId}/messages`, {
            token: group.creator.token,
            body: { id: messageIdFor(n), message: groupMessages[groupMessage++] },
          });
          if (reply.status !== 201) throw new Error(`group send: ${reply.status}`);
        },
      },
      nodes,
      seq,
      members,
      options.warmupEvents,
      events,
      timeout,
    );
    let lastPost = 0;
    const channelRun = await fanout(
      {
        tracker: channelTracker,
        trigger: async (n) => {
          const post = await call(first.url, "POST", `/v1/channels/${channel.id}/posts`, 201, {
            token: owner.token,
            body: { id: messageIdFor(n), text: postText },
          });
          lastPost = post.seq;
        },
      },
      nodes,
      seq,
      members,
      options.warmupEvents,
      events,
      timeout,
    );
    // Follower i, connected to node i mod N, reacts through the next node.
    const storm = await reactionStorm(
      ctx,
      allNodes(nodes),
      db,
      { owner, channelId: channel.id, users: group.members },
      lastPost,
      members,
      settings.stormRounds,
      counter,
      (i) => nodeOf(i + 1).url,
    );
    const { firstFrame, ...relayResult } = relay.result;
    const result = {
      nodes: nodes.length,
      relay: { ...relayResult, cpuPerMessageUs: relay.cpuUs / messages },
      group: groupRun.summary,
      channel: channelRun.summary,
      storm,
      strayFrames: relayTracker.stray + groupTracker.stray + channelTracker.stray,
    };
    const frames = {
      relay: { text: warmRun.firstFrame, seq: warm[0] },
      group: { text: groupRun.first.frameText, seq: groupRun.first.seq },
      channel: { text: channelRun.first.frameText, seq: channelRun.first.seq },
    };
    log(
      `cluster (${nodes.length} node${nodes.length > 1 ? "s" : ""}): relay ` +
        `${result.relay.messagesPerSecond.toFixed(0)} messages/s; group last delivery p50 ` +
        `${result.group.lastMedianMs.toFixed(1)} ms; channel ${result.channel.lastMedianMs.toFixed(1)} ms`,
    );
    return { result, frames };
  } finally {
    closeSockets(sockets);
    await db.close().catch(() => {});
  }
}

/** The same three on the bare floor, with Veil's frames. */
async function measureBare(ctx, bare, frames, settings) {
  const { options } = ctx;
  const { members, messages, window, events } = settings;
  const timeout = options.eventTimeoutMs;
  const relayTracker = new DeliveryTracker(entrySeqOf);
  const groupTracker = new DeliveryTracker(entrySeqOf);
  const channelTracker = new DeliveryTracker(channelPostSeqOf);
  const url = ctx.wsUrl(bare);
  const frame = (kind, n) => entryFrame(frames[kind].text, frames[kind].seq, n);
  let next = 1;
  const seq = () => next++;
  const receiver = await openSockets(url, ["relay:cluster"], relayTracker.onFrame, 1);
  let relay;
  try {
    const send = (n) =>
      call(bare.url, "POST", "/relay?room=cluster", 201, { raw: frame("relay", n) });
    await relayRun(send, relayTracker, Array.from({ length: relayWarmup }, seq), 8, timeout);
    const seqs = Array.from({ length: messages }, seq);
    relay = await cpuOf([bare], () => relayRun(send, relayTracker, seqs, window, timeout));
  } finally {
    // Closed before the broadcasts, which go to every socket.
    closeSockets(receiver.sockets);
  }
  const { sockets } = await openSockets(
    url,
    Array.from({ length: members }, () => "bench"),
    dispatch(groupTracker, channelTracker),
    options.concurrency,
  );
  try {
    const broadcast = (tracker, kind) => ({
      tracker,
      trigger: (n) => call(bare.url, "POST", "/broadcast-frame", 204, { raw: frame(kind, n) }),
    });
    const run = (target) =>
      fanout(target, [bare], seq, members, options.warmupEvents, events, timeout);
    const group = await run(broadcast(groupTracker, "group"));
    const channel = await run(broadcast(channelTracker, "channel"));
    const { firstFrame, ...relayResult } = relay.result;
    return {
      nodes: 1,
      relay: { ...relayResult, cpuPerMessageUs: relay.cpuUs / messages },
      group: group.summary,
      channel: channel.summary,
    };
  } finally {
    closeSockets(sockets);
  }
}

/**
 * A community's announcement fan-out on Veil `nodes`: the members join by
 * invite link (through node 1), connect round-robin and the admin posts
 * sender-key messages to node 1.
 */
async function announcementVeil(ctx, nodes, settings) {
  const { options } = ctx;
  const members = settings.announcementMembers;
  const [first] = nodes;
  const community = await buildCommunity(
    ctx,
    allNodes(nodes),
    members,
    Math.min(50, Math.floor(members / 2)),
  );
  const messages = await posts(
    community.groupId,
    options.warmupEvents + settings.events,
    options.messageBytes,
  );
  const tracker = new DeliveryTracker(entrySeqOf);
  const sockets = await openRoundRobin(
    ctx,
    nodes,
    community.members.map((m) => m.token),
    tracker.onFrame,
  );
  try {
    let next = 1;
    let message = 0;
    const run = await fanout(
      {
        tracker,
        trigger: (n) =>
          call(first.url, "POST", `/v1/groups/${community.groupId}/messages`, 201, {
            token: community.admin.token,
            body: { id: messageIdFor(n), message: messages[message++] },
          }),
      },
      nodes,
      () => next++,
      members,
      options.warmupEvents,
      settings.events,
      options.eventTimeoutMs,
    );
    return {
      result: { ...run.summary, strayFrames: tracker.stray },
      frame: { text: run.first.frameText, seq: run.first.seq },
    };
  } finally {
    closeSockets(sockets);
  }
}

/**
 * Offline store-and-forward on Veil `nodes`: the sender posts to node 1
 * while the receiver's only device is offline; the device then connects to
 * node 2 and drains the chat's log there (offline-drain's cycle).
 */
async function offlineVeil(ctx, nodes, settings) {
  const { options } = ctx;
  const count = settings.offlineMessages;
  const warmup = Math.min(options.relayWarmup, count);
  const [first] = nodes;
  const drainNode = nodes[1 % nodes.length];
  const chat = await directChat(first, {
    phone: offlinePhone,
    bytes: options.messageBytes,
    count: warmup + count,
  });
  const token = chat.receiver.token;
  let message = 0;
  let template = null;
  const target = {
    child: allNodes(nodes),
    wsUrl: ctx.wsUrl(drainNode),
    token,
    send: (n) =>
      call(first.url, "POST", `/v1/groups/${chat.groupId}/messages`, 201, {
        token: chat.sender.token,
        body: { id: messageIdFor(n), message: chat.messages[message++] },
      }),
    async cursor() {
      const group = await call(drainNode.url, "GET", `/v1/groups/${chat.groupId}`, 200, { token });
      return Math.max(group.cursor, group.joinedSeq);
    },
    async page(after) {
      const page = await call(
        drainNode.url,
        "GET",
        `/v1/groups/${chat.groupId}/log?after=${after}&limit=${pageSize}`,
        200,
        { token },
      );
      const entry = template ? null : page.entries.find((e) => e.kind === "application");
      if (entry) template = { text: JSON.stringify(entry), seq: Number(entry.id.slice(4)) };
      return page;
    },
    seqOf: (page) => page.entries[page.entries.length - 1].seq,
    ack: (seq) =>
      call(drainNode.url, "PUT", `/v1/groups/${chat.groupId}/cursor`, 204, {
        token,
        body: { seq },
      }),
  };
  let next = 1;
  const take = (n) => Array.from({ length: n }, () => next++);
  await cycle(target, take(warmup), settings.window);
  if (!template) throw new Error("cluster: no application entry in Veil's log");
  const measured = await cycle(target, take(count), settings.window);
  return { result: summarise([measured]), template };
}

/**
 * Logins spread over Veil `nodes`: devices registered on node 1, then each
 * node signs in its share at once (connection-capacity's signIn), the
 * concurrency split between them.
 */
async function loginsVeil(ctx, nodes, settings) {
  const { options } = ctx;
  const all = allNodes(nodes);
  const devices = await pool(
    Array.from({ length: settings.logins }, (_, i) => i),
    options.concurrency,
    (i) => registerDevice(nodes[0].url, i),
  );
  const concurrency = Math.max(1, Math.floor(options.concurrency / nodes.length));
  const share = (k) => devices.filter((_, i) => i % nodes.length === k);
  return loginRun(all, devices.length, () =>
    Promise.all(
      nodes.map((node, k) =>
        signIn(node, ctx.wsUrl(node), share(k), {
          concurrency,
          addresses: ["127.0.0.1"],
          offset: 0,
        }),
      ),
    ),
  );
}

/** Times `signIns` (resolving with signIn's results) and sums `child`'s CPU. */
async function loginRun(child, count, signIns) {
  const started = performance.now();
  const { result, cpuUs } = await cpuOf([child], signIns);
  const ms = performance.now() - started;
  const latencies = result.flatMap((r) => r.latencies);
  closeSockets(result.flatMap((r) => r.sockets));
  return {
    logins: count,
    loginsPerSecond: count / (ms / 1000),
    loginP50Ms: quantile(latencies, 0.5),
    loginP99Ms: quantile(latencies, 0.99),
    cpuPerLoginUs: cpuUs / count,
  };
}

/** The extra measurements on Veil `nodes`, each with its own users; frames kept for the floor. */
async function measureVeilExtra(ctx, nodes, settings) {
  const { log } = ctx;
  const label = `cluster (${nodes.length} node${nodes.length > 1 ? "s" : ""})`;
  const announcement = await announcementVeil(ctx, nodes, settings);
  const offline = await offlineVeil(ctx, nodes, settings);
  const logins = await loginsVeil(ctx, nodes, settings);
  log(
    `${label}: announcement last delivery p50 ${announcement.result.lastMedianMs.toFixed(1)} ms; ` +
      `offline drained ${offline.result.drainPerSecond.toFixed(0)} messages/s; ` +
      `${logins.loginsPerSecond.toFixed(0)} logins/s`,
  );
  return {
    result: { announcement: announcement.result, offline: offline.result, logins },
    frames: { announcement: announcement.frame, offline: offline.template },
  };
}

/**
 * The extra measurements on the bare floor: the announcement's frame
 * broadcast to as many sockets, the same entries through an in-memory
 * mailbox, one HTTP request acked per reaction (the floor stores and pushes
 * nothing), and unchecked sign-ins.
 */
async function measureBareExtra(ctx, bare, frames, settings) {
  const { options } = ctx;
  const timeout = options.eventTimeoutMs;
  const members = settings.announcementMembers;
  const tracker = new DeliveryTracker(entrySeqOf);
  const { sockets } = await openSockets(
    ctx.wsUrl(bare),
    Array.from({ length: members }, () => "bench"),
    tracker.onFrame,
    options.concurrency,
  );
  let announcement;
  try {
    const { text, seq: first } = frames.announcement;
    let next = 1;
    const run = await fanout(
      {
        tracker,
        trigger: (n) =>
          call(bare.url, "POST", "/broadcast-frame", 204, { raw: entryFrame(text, first, n) }),
      },
      [bare],
      () => next++,
      members,
      options.warmupEvents,
      settings.events,
      timeout,
    );
    announcement = run.summary;
  } finally {
    closeSockets(sockets);
  }

  const box = "cluster";
  let cursor = 0;
  const template = frames.offline;
  const target = {
    child: bare,
    wsUrl: ctx.wsUrl(bare),
    token: "bench",
    send: (n) =>
      call(bare.url, "POST", `/queue?box=${box}`, 201, {
        raw: entryFrame(template.text, template.seq, n),
      }),
    cursor: async () => cursor,
    page: (after) =>
      call(bare.url, "GET", `/queue?box=${box}&after=${after}&limit=${pageSize}`, 200),
    seqOf: (page, at) => at + page.entries.length,
    ack: async (seq) => {
      await call(bare.url, "POST", `/queue-ack?box=${box}&upTo=${seq}`, 204, { raw: "" });
      cursor = seq;
    },
  };
  let next = 1;
  const take = (n) => Array.from({ length: n }, () => next++);
  const count = settings.offlineMessages;
  await cycle(target, take(Math.min(options.relayWarmup, count)), settings.window);
  const offline = summarise([await cycle(target, take(count), settings.window)]);

  // As many requests as Veil's storm: per round three per follower, then one each.
  const requests = settings.members * (settings.stormRounds * 3 + 1);
  const body = JSON.stringify({ emoji: "👍" });
  const acks = [];
  const started = performance.now();
  const { cpuUs } = await cpuOf([bare], () =>
    pool(Array.from({ length: requests }), options.concurrency, async () => {
      const t0 = performance.now();
      await call(bare.url, "POST", "/relay?room=cluster-storm", 201, { raw: body });
      acks.push(performance.now() - t0);
    }),
  );
  const ingestMs = performance.now() - started;
  const storm = {
    reactions: requests,
    perSecond: requests / (ingestMs / 1000),
    ackP50Ms: quantile(acks, 0.5),
    ackP99Ms: quantile(acks, 0.99),
    cpuPerReactionUs: cpuUs / requests,
  };

  const devices = Array.from({ length: settings.logins }, (_, i) => ({
    deviceId: `bench-${i}`,
    key: { sign: () => "bench" },
  }));
  const logins = await loginRun(bare, devices.length, async () => [
    await signIn(bare, ctx.wsUrl(bare), devices, {
      concurrency: options.concurrency,
      addresses: ["127.0.0.1"],
      offset: 0,
    }),
  ]);
  return { announcement, offline, storm, logins };
}

/** Runs the cluster scenario: N nodes, then one node, then the floor; resolves with the three. */
export async function cluster(ctx) {
  const { options, log } = ctx;
  const settings = {
    members: options.clusterMembers,
    messages: options.clusterMessages,
    window: options.clusterWindow,
    events: options.clusterEvents,
    announcementMembers: options.clusterAnnouncementMembers,
    offlineMessages: options.clusterOfflineMessages,
    stormRounds: options.clusterStormRounds,
    logins: options.clusterLogins,
  };
  const result = { ...settings, nodes: options.clusterNodes, database: "postgres" };
  let frames = null;
  for (const [topology, count] of [
    ["cluster", options.clusterNodes],
    ["single", 1],
  ]) {
    const store = await ctx.newStore(`cluster_${topology}`, true);
    // One node runs on its in-memory bus; several share a NATS subject prefix of their own.
    const env =
      count > 1
        ? {
            VEIL_BUS_URL: options.busUrl,
            VEIL_BUS_PREFIX: `bench_${randomBytes(4).toString("hex")}`,
          }
        : {};
    const nodes = [];
    try {
      // One after another: the first runs the migrations.
      for (let i = 0; i < count; i++)
        nodes.push(await ctx.startVeil(store, undefined, env, `veil-${i + 1}`));
      log(`cluster: ${count} Veil node${count > 1 ? "s" : ""} on schema ${store.schema}`);
      const measured = await measureVeil(ctx, nodes, store, settings);
      const extra = await measureVeilExtra(ctx, nodes, settings);
      result[topology] = { ...measured.result, ...extra.result };
      frames ??= { ...measured.frames, ...extra.frames };
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  }
  const bare = await ctx.startBare();
  try {
    result.bare = {
      ...(await measureBare(ctx, bare, frames, settings)),
      ...(await measureBareExtra(ctx, bare, frames, settings)),
    };
  } finally {
    await bare.stop();
  }
  log(
    `cluster: relay ${result.cluster.relay.messagesPerSecond.toFixed(0)} (3 nodes) vs ` +
      `${result.single.relay.messagesPerSecond.toFixed(0)} (1 node) vs ` +
      `${result.bare.relay.messagesPerSecond.toFixed(0)} (bare) messages/s`,
  );
  return result;
}
