// relay-1to1: a direct chat between two users, the sender posting MLS
// application messages with a bounded number in flight, the receiver on the
// WebSocket; Veil (store, then ack) against bare relays that store nothing,
// and, as a peer, ejabberd relaying message stanzas between two XMPP clients.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { directChat as setUpDirectChat } from "../lib/chats.js";
import { withTimeout } from "../lib/child.js";
import { api, call, closeSockets, DeliveryTracker, openSocket, pool } from "../lib/clients.js";
import { entryFrame, entrySeqOf, messageIdFor } from "../lib/payload.js";
import { summariseProfile, timeSql } from "../lib/profile.js";
import { cpuMicros, quantile, sum } from "../lib/stats.js";
import {
  bodyOf,
  closeClients,
  connectClient,
  messageStanza,
  registerUsers,
  StanzaTracker,
} from "../lib/xmpp.js";
import { Ejabberd, xmppDomain } from "../servers/ejabberd.js";

const receiverPhone = "+14155570100";
const baseNames = ["veil", "bareWs", "bareHttp"];

/** Sets up the direct chat on Veil (A finds B by number, adds B's device) and encrypts the messages. */
async function directChat(veil, messageBytes, messageCount, log) {
  const started = performance.now();
  const chat = await setUpDirectChat(veil, {
    phone: receiverPhone,
    bytes: messageBytes,
    count: messageCount,
  });
  log(
    `relay: direct chat ${chat.groupId} set up and ${messageCount} MLS messages of ` +
      `${chat.messages[0].length} base64url characters encrypted in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return { ...chat, ciphertextChars: chat.messages[0].length };
}

/**
 * Sends the messages `seqs` through `target` with at most `window` awaiting
 * their ack, and waits until every one has reached the receiver too.
 */
async function relayRound(target, seqs, window, timeoutMs) {
  const usage = () => target.child.request("usage");
  const stats = () => target.child.request("stats");
  const [before, statsBefore] = [await usage(), await stats()];
  const acks = [];
  const deliveries = [];
  const started = performance.now();
  await pool(seqs, window, async (seq) => {
    const { t0, done } = target.tracker.expect(seq, 1, timeoutMs);
    done.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    deliveries.push(done);
    await target.send(seq);
    acks.push(performance.now() - t0);
  });
  const events = await Promise.all(deliveries);
  const elapsedMs = performance.now() - started;
  const [after, statsAfter] = [await usage(), await stats()];
  return {
    messages: seqs.length,
    elapsedMs,
    cpuUs: cpuMicros(before.cpu, after.cpu),
    statements: statsAfter.statements - statsBefore.statements,
    acks,
    receives: events.map((e) => e.latencies[0]),
    sizes: events.flatMap((e) => [...e.sizes]),
    firstSeq: seqs[0],
    firstFrame: events[0]?.firstText,
  };
}

/**
 * The ejabberd peer: users A and B registered in-band, both connected, B
 * available (initial presence); A sends `<message type="chat"/>` stanzas to
 * B's bare JID with a body as long as Veil's ciphertext. XMPP has no server
 * ack for a message (without XEP-0198), so a message counts as in flight
 * until B has it.
 */
async function ejabberdTarget(ctx, ciphertextChars, filler) {
  const { log } = ctx;
  const server = await Ejabberd.start({ log });
  const password = "bench-password";
  const users = ["relay-a", "relay-b"];
  const registerMs = await registerUsers(server.port, xmppDomain, users, password, 1);
  const tracker = new StanzaTracker();
  const common = { service: server.service, domain: xmppDomain, password };
  const receiver = await connectClient({
    ...common,
    username: users[1],
    onStanza: tracker.onStanza,
    presence: true,
  });
  const sender = await connectClient({ ...common, username: users[0] });
  const to = `${users[1]}@${xmppDomain}`;
  const body = bodyOf(filler, ciphertextChars);
  log(`relay: ejabberd users registered in ${registerMs.toFixed(0)} ms and connected`);
  return {
    server,
    clients: [sender, receiver],
    registerMs,
    target: {
      child: server,
      tracker,
      ackIsDelivery: true,
      async send(seq) {
        const delivered = tracker.delivered(seq);
        await sender.send(messageStanza(to, "chat", seq, body));
        await delivered;
      },
    },
  };
}

function summariseRounds(rounds, ackIsDelivery = false) {
  const messages = sum(rounds.map((r) => r.messages));
  const acks = rounds.flatMap((r) => r.acks);
  const receives = rounds.flatMap((r) => r.receives);
  const sizes = rounds.flatMap((r) => r.sizes);
  return {
    messages,
    messagesPerSecond: messages / (sum(rounds.map((r) => r.elapsedMs)) / 1000),
    cpuPerMessageUs: sum(rounds.map((r) => r.cpuUs)) / messages,
    statementsPerMessage: sum(rounds.map((r) => r.statements)) / messages,
    // A peer without a server ack: its "ack" is the delivery, not reported twice.
    ackP50Ms: ackIsDelivery ? null : quantile(acks, 0.5),
    ackP99Ms: ackIsDelivery ? null : quantile(acks, 0.99),
    receiveP50Ms: quantile(receives, 0.5),
    receiveP99Ms: quantile(receives, 0.99),
    frameBytes: { min: Math.min(...sizes), max: Math.max(...sizes) },
    rounds: rounds.map((r) => ({
      messages: r.messages,
      elapsedMs: r.elapsedMs,
      cpuUs: r.cpuUs,
      statements: r.statements,
    })),
  };
}

/** A FIFO of resolvers: the bare WebSocket relay acks each frame in order. */
function ackQueue() {
  const waiting = [];
  return {
    wait: () => new Promise((resolve) => waiting.push(resolve)),
    onFrame: () => waiting.shift()?.(),
  };
}

export async function relay1to1(ctx) {
  const { options, log } = ctx;
  const timeout = options.eventTimeoutMs;
  const windows = options.relayWindows;
  const perWindow = options.relayMessages;
  // Veil's messages: warm-up, measured, profiled and SQL-timed.
  const veilCount =
    options.relayWarmup + windows.length * perWindow + 2 * options.relayProfileMessages;
  const store = await ctx.newStore("relay");
  const veil = await ctx.startVeil(store);
  const bare = await ctx.startBare();
  const sockets = [];
  const withEjabberd = ctx.peers?.includes("ejabberd") ?? false;
  const names = withEjabberd ? [...baseNames, "ejabberd"] : baseNames;
  let peer = null;
  try {
    const chat = await directChat(veil, options.messageBytes, veilCount, log);
    const wsUrls = { veil: ctx.wsUrl(veil), bare: ctx.wsUrl(bare) };
    let nextMessage = 0;
    const targets = {
      veil: {
        child: veil,
        tracker: new DeliveryTracker(entrySeqOf),
        async send(seq) {
          const message = chat.messages[nextMessage++];
          if (message === undefined) throw new Error("ran out of MLS messages");
          const reply = await api(veil.url, "POST", `/v1/groups/${chat.groupId}/messages`, {
            token: chat.sender.token,
            body: { id: messageIdFor(seq), message },
          });
          if (reply.status !== 201)
            throw new Error(`send: ${reply.status} ${JSON.stringify(reply.body)}`);
        },
      },
      bareWs: { child: bare, tracker: new DeliveryTracker(entrySeqOf) },
      bareHttp: { child: bare, tracker: new DeliveryTracker(entrySeqOf) },
    };
    // Only the receiver's device is connected to Veil: the sender's would get an echo of each message.
    sockets.push(await openSocket(wsUrls.veil, chat.receiver.token, targets.veil.tracker.onFrame));

    let seq = 1;
    const take = (n) => Array.from({ length: n }, () => seq++);
    // Veil first: its first delivered frame is the bare relays' template.
    const warmVeil = await relayRound(targets.veil, take(options.relayWarmup), 8, timeout);
    const template = { text: warmVeil.firstFrame, seq: warmVeil.firstSeq };
    const frameFor = (n) => entryFrame(template.text, template.seq, n);

    const acks = ackQueue();
    const sender = await openSocket(wsUrls.bare, "relay:ws", acks.onFrame);
    sockets.push(
      sender,
      await openSocket(wsUrls.bare, "relay:ws", targets.bareWs.tracker.onFrame),
      await openSocket(wsUrls.bare, "relay:http", targets.bareHttp.tracker.onFrame),
    );
    targets.bareWs.send = (n) => {
      const acked = withTimeout(acks.wait(), timeout, `bare relay: no ack within ${timeout} ms`);
      sender.send(frameFor(n));
      return acked;
    };
    targets.bareHttp.send = (n) =>
      call(bare.url, "POST", "/relay?room=http", 201, { raw: frameFor(n) });
    if (withEjabberd) {
      // The stanza body: as long as Veil's ciphertext, of the same base64url characters.
      peer = await ejabberdTarget(ctx, chat.ciphertextChars, chat.messages[0]);
      targets.ejabberd = peer.target;
    }
    for (const name of names.slice(1))
      await relayRound(targets[name], take(options.relayWarmup), 8, timeout);
    log(
      `relay: warmed up (Veil ${(warmVeil.cpuUs / warmVeil.messages).toFixed(0)} µs CPU per message); ` +
        `${template.text.length}-byte frames`,
    );

    const results = {};
    const clientCpu = {};
    for (const window of windows) {
      const rounds = Object.fromEntries(names.map((name) => [name, []]));
      const size = Math.ceil(perWindow / options.relayRounds);
      const clientBefore = process.cpuUsage();
      for (let r = 0, left = perWindow; left > 0; r++, left -= size) {
        // The servers take turns going first.
        const order = names.map((_, k) => names[(r + k) % names.length]);
        for (const name of order)
          rounds[name].push(
            await relayRound(targets[name], take(Math.min(size, left)), window, timeout),
          );
      }
      clientCpu[window] = cpuMicros(clientBefore, process.cpuUsage()) / 1000;
      results[window] = Object.fromEntries(
        names.map((name) => [name, summariseRounds(rounds[name], targets[name].ackIsDelivery)]),
      );
      const [v, b] = [results[window].veil, results[window].bareWs];
      log(
        `relay, ${window} in flight: ${v.messagesPerSecond.toFixed(0)} vs ${b.messagesPerSecond.toFixed(0)} ` +
          `messages/s; CPU per message ${v.cpuPerMessageUs.toFixed(1)} µs (Veil) vs ` +
          `${b.cpuPerMessageUs.toFixed(1)} µs (bare ws), ${results[window].bareHttp.cpuPerMessageUs.toFixed(1)} µs (bare HTTP)` +
          (withEjabberd
            ? `; ejabberd ${results[window].ejabberd.messagesPerSecond.toFixed(0)} messages/s, ` +
              `${results[window].ejabberd.cpuPerMessageUs.toFixed(1)} µs CPU per message`
            : ""),
      );
    }

    // CPU profiles of more messages at the largest window, Veil's and the WebSocket floor's.
    const profiles = {};
    const profileWindow = Math.max(...windows);
    for (const name of options.relayProfileMessages > 0 ? ["veil", "bareWs"] : []) {
      const { child } = targets[name];
      const file = path.join(ctx.resultsDir, `${child.name}-relay-${ctx.stamp}.cpuprofile`);
      await child.request("profile-start", { samplingIntervalUs: 250 });
      await relayRound(targets[name], take(options.relayProfileMessages), profileWindow, timeout);
      await child.request("profile-stop", { file });
      profiles[name] = {
        file: path.relative(ctx.root, file),
        messages: options.relayProfileMessages,
        window: profileWindow,
        ...summariseProfile(JSON.parse(await readFile(file, "utf8"))),
      };
      log(
        `profiled ${options.relayProfileMessages} ${child.name} relay messages: ${profiles[name].file}`,
      );
    }

    // Where Veil's SQL time goes, per message, one message in flight (SQLite only).
    let sql = null;
    if (options.relayProfileMessages > 0 && store.schema === null) {
      const seqs = take(options.relayProfileMessages);
      sql = await timeSql(veil, seqs.length, () => relayRound(targets.veil, seqs, 1, timeout));
    }

    const strayFrames = sum(names.map((name) => targets[name].tracker.stray));
    if (strayFrames > 0) log(`relay: ${strayFrames} frames matched no message`);
    return {
      strayFrames,
      groupId: chat.groupId,
      messageBytes: options.messageBytes,
      ciphertextChars: chat.ciphertextChars,
      frameBytes: template.text.length,
      messagesPerWindow: perWindow,
      windows,
      results,
      clientCpuMs: clientCpu,
      profiles,
      sql,
      database: (await veil.request("stats")).database,
      peers: peer
        ? {
            ejabberd: {
              version: peer.server.version,
              startMs: peer.server.startMs,
              registerMs: peer.registerMs,
              stanzaBytes: results[windows[0]].ejabberd.frameBytes,
            },
          }
        : {},
    };
  } finally {
    closeSockets(sockets);
    if (peer) await closeClients(peer.clients);
    await Promise.all([veil.stop(), bare.stop(), peer?.server.stop()]);
  }
}
