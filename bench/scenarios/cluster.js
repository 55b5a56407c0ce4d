// cluster: the relay of a direct chat, a group message's fan-out and a
// channel post's fan-out on three Veil nodes (bench/servers/veil-server.js
// processes) sharing one PostgreSQL schema and a NATS bus, the clients
// spread over the nodes: the sender posts to node 1, the receivers connect
// round-robin. Compared with one Veil node on the same PostgreSQL (its bus
// in memory) and with the bare `ws` floor, one process that stores nothing.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { directChat, memberGroup } from "../lib/chats.js";
import { api, call, closeSockets, DeliveryTracker, openSockets, pool } from "../lib/clients.js";
import { fire, summariseEvents } from "../lib/events.js";
import { entryFrame, entrySeqOf, messageIdFor } from "../lib/payload.js";
import { cpuMicros, quantile } from "../lib/stats.js";
import { channelPostSeqOf } from "./channel-fanout.js";

const relayPhone = "+14155599990";
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

/** The three measurements on Veil `nodes` (setup on node 1); frames kept for the floor. */
async function measureVeil(ctx, nodes, settings) {
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
    for (const [k, node] of nodes.entries()) {
      const tokens = group.members.filter((_, i) => i % nodes.length === k).map((m) => m.token);
      sockets.push(
        ...(
          await openSockets(
            ctx.wsUrl(node),
            tokens,
            dispatch(groupTracker, channelTracker),
            options.concurrency,
          )
        ).sockets,
      );
    }
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
    const channelRun = await fanout(
      {
        tracker: channelTracker,
        trigger: (n) =>
          call(first.url, "POST", `/v1/channels/${channel.id}/posts`, 201, {
            token: owner.token,
            body: { id: messageIdFor(n), text: postText },
          }),
      },
      nodes,
      seq,
      members,
      options.warmupEvents,
      events,
      timeout,
    );
    const { firstFrame, ...relayResult } = relay.result;
    const result = {
      nodes: nodes.length,
      relay: { ...relayResult, cpuPerMessageUs: relay.cpuUs / messages },
      group: groupRun.summary,
      channel: channelRun.summary,
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

/** Runs the cluster scenario: N nodes, then one node, then the floor; resolves with the three. */
export async function cluster(ctx) {
  const { options, log } = ctx;
  const settings = {
    members: options.clusterMembers,
    messages: options.clusterMessages,
    window: options.clusterWindow,
    events: options.clusterEvents,
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
      const measured = await measureVeil(ctx, nodes, settings);
      result[topology] = measured.result;
      frames ??= measured.frames;
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  }
  const bare = await ctx.startBare();
  try {
    result.bare = await measureBare(ctx, bare, frames, settings);
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
