// offline-drain: store and forward in a direct chat. The receiver's only
// device is offline while the sender posts N MLS messages to it (at most W
// awaiting their ack); then the device connects (WebSocket hello) and
// catches up from its cursor: it reads the chat's log in pages and moves its
// cursor to the end. Veil (a durable log per chat, one cursor per device)
// against a bare server keeping the same entries in an in-memory queue.
import { performance } from "node:perf_hooks";
import { directChat } from "../lib/chats.js";
import { api, call, closeSockets, openSocket, pool } from "../lib/clients.js";
import { entryFrame, messageIdFor } from "../lib/payload.js";
import { cpuMicros, quantile, sum } from "../lib/stats.js";

const receiverPhone = "+14155580100";
/** Entries per page of catch-up: the most Veil's log route gives at once. */
export const pageSize = 500;
const names = ["veil", "bare"];

/**
 * One cycle on `target`: `seqs` sent while the receiver is offline, `window`
 * in flight, then the receiver connects and drains them.
 */
export async function cycle(target, seqs, window) {
  const { child } = target;
  const usage = () => child.request("usage");
  let before = await usage();
  const acks = [];
  let started = performance.now();
  await pool(seqs, window, async (seq) => {
    const t0 = performance.now();
    await target.send(seq);
    acks.push(performance.now() - t0);
  });
  const sendMs = performance.now() - started;
  let after = await usage();
  const sendCpuUs = cpuMicros(before.cpu, after.cpu);

  before = after;
  const pages = [];
  started = performance.now();
  const socket = await openSocket(target.wsUrl, target.token, () => {});
  const connectMs = performance.now() - started;
  let received = 0;
  try {
    let cursor = await target.cursor();
    for (;;) {
      const t0 = performance.now();
      const page = await target.page(cursor);
      pages.push(performance.now() - t0);
      if (page.entries.length === 0) break;
      received += page.entries.length;
      cursor = target.seqOf(page, cursor);
      if (cursor >= page.lastSeq) break;
    }
    await target.ack(cursor);
  } finally {
    closeSockets([socket]);
  }
  const drainMs = performance.now() - started;
  after = await usage();
  if (received !== seqs.length)
    throw new Error(`${child.name}: drained ${received} messages, ${seqs.length} were sent`);
  return {
    messages: seqs.length,
    sendMs,
    sendCpuUs,
    acks,
    connectMs,
    drainMs,
    drainCpuUs: cpuMicros(before.cpu, after.cpu),
    pages,
  };
}

export function summarise(cycles) {
  const messages = sum(cycles.map((c) => c.messages));
  const acks = cycles.flatMap((c) => c.acks);
  const pages = cycles.flatMap((c) => c.pages);
  const drainMs = sum(cycles.map((c) => c.drainMs));
  return {
    messages,
    sendPerSecond: messages / (sum(cycles.map((c) => c.sendMs)) / 1000),
    sendCpuPerMessageUs: sum(cycles.map((c) => c.sendCpuUs)) / messages,
    ackP50Ms: quantile(acks, 0.5),
    ackP99Ms: quantile(acks, 0.99),
    connectMs: quantile(
      cycles.map((c) => c.connectMs),
      0.5,
    ),
    drainMs: drainMs / cycles.length,
    drainPerSecond: messages / (drainMs / 1000),
    drainCpuPerMessageUs: sum(cycles.map((c) => c.drainCpuUs)) / messages,
    pageP50Ms: quantile(pages, 0.5),
    pageP99Ms: quantile(pages, 0.99),
    pages: pages.length,
    cycles: cycles.map(({ acks: _a, pages: _p, ...rest }) => rest),
  };
}

/** Runs offline-drain on Veil and the in-memory floor; resolves with both summaries. */
export async function offlineDrain(ctx) {
  const { options, log } = ctx;
  const count = options.offlineMessages;
  const window = options.offlineWindow;
  const rounds = options.offlineRounds;
  const warmup = Math.min(options.relayWarmup, count);
  const store = await ctx.newStore("offline");
  const veil = await ctx.startVeil(store);
  const bare = await ctx.startBare();
  try {
    const started = performance.now();
    const chat = await directChat(veil, {
      phone: receiverPhone,
      bytes: options.messageBytes,
      count: warmup + rounds * count,
    });
    log(
      `offline: direct chat set up, ${chat.messages.length} MLS messages encrypted in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    let nextMessage = 0;
    let template = null;
    const box = "offline";
    let bareCursor = 0;
    const targets = {
      veil: {
        child: veil,
        wsUrl: ctx.wsUrl(veil),
        token: chat.receiver.token,
        async send(seq) {
          const reply = await api(veil.url, "POST", `/v1/groups/${chat.groupId}/messages`, {
            token: chat.sender.token,
            body: { id: messageIdFor(seq), message: chat.messages[nextMessage++] },
          });
          if (reply.status !== 201)
            throw new Error(`send: ${reply.status} ${JSON.stringify(reply.body)}`);
        },
        async cursor() {
          const group = await call(veil.url, "GET", `/v1/groups/${chat.groupId}`, 200, {
            token: chat.receiver.token,
          });
          return Math.max(group.cursor, group.joinedSeq);
        },
        async page(after) {
          const page = await call(
            veil.url,
            "GET",
            `/v1/groups/${chat.groupId}/log?after=${after}&limit=${pageSize}`,
            200,
            { token: chat.receiver.token },
          );
          if (!template && page.entries.length > 0) {
            const entry = page.entries.find((e) => e.kind === "application");
            if (entry) template = { text: JSON.stringify(entry), seq: Number(entry.id.slice(4)) };
          }
          return page;
        },
        seqOf: (page) => page.entries[page.entries.length - 1].seq,
        ack: (seq) =>
          call(veil.url, "PUT", `/v1/groups/${chat.groupId}/cursor`, 204, {
            token: chat.receiver.token,
            body: { seq },
          }),
      },
      bare: {
        child: bare,
        wsUrl: ctx.wsUrl(bare),
        token: "bench",
        send: (seq) =>
          call(bare.url, "POST", `/queue?box=${box}`, 201, {
            raw: entryFrame(template.text, template.seq, seq),
          }),
        cursor: async () => bareCursor,
        page: (after) =>
          call(bare.url, "GET", `/queue?box=${box}&after=${after}&limit=${pageSize}`, 200),
        seqOf: (page, cursor) => cursor + page.entries.length,
        ack: async (seq) => {
          await call(bare.url, "POST", `/queue-ack?box=${box}&upTo=${seq}`, 204, { raw: "" });
          bareCursor = seq;
        },
      },
    };

    let seq = 1;
    const take = (n) => Array.from({ length: n }, () => seq++);
    // Veil first: its first log entry is the bare server's template.
    await cycle(targets.veil, take(warmup), window);
    if (!template) throw new Error("offline: no application entry in Veil's log");
    await cycle(targets.bare, take(warmup), window);
    const cycles = Object.fromEntries(names.map((name) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const name of order) cycles[name].push(await cycle(targets[name], take(count), window));
    }
    const result = {
      messages: count,
      window,
      rounds,
      pageSize,
      entryBytes: template.text.length,
      database: (await veil.request("stats")).database,
    };
    for (const name of names) result[name] = summarise(cycles[name]);
    const [v, b] = [result.veil, result.bare];
    log(
      `offline: sent ${v.sendPerSecond.toFixed(0)} vs ${b.sendPerSecond.toFixed(0)} messages/s ` +
        `(Veil vs bare); drained ${count} in ${v.drainMs.toFixed(0)} vs ${b.drainMs.toFixed(0)} ms ` +
        `(${v.drainPerSecond.toFixed(0)} vs ${b.drainPerSecond.toFixed(0)} messages/s)`,
    );
    return result;
  } finally {
    await Promise.all([veil.stop(), bare.stop()]);
  }
}
