// group-fanout: one MLS group of N member devices, all connected; the
// creator posts application messages one after another and each reaches
// every member device as a `group.entry` frame. Veil against a bare `ws`
// server broadcasting the same frame to as many sockets, and, as a peer,
// ejabberd's multi-user chat with as many occupants.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  api,
  call,
  closeSockets,
  DeliveryTracker,
  openSockets,
  pool,
  registerUser,
  verifiedPhone,
} from "../lib/clients.js";
import { fire, summariseEvents, withoutFrames } from "../lib/events.js";
import { encodedKeyPackage, GroupSender } from "../lib/mls.js";
import { entryFrame, entrySeqOf, messageIdFor } from "../lib/payload.js";
import { summariseProfile, timeSql } from "../lib/profile.js";
import { cpuMicros } from "../lib/stats.js";
import {
  closeClients,
  configureInstantRoom,
  connectClients,
  joinRoom,
  messageStanza,
  registerUsers,
  StanzaTracker,
} from "../lib/xmpp.js";
import { Ejabberd, mucDomain, xmppDomain } from "../servers/ejabberd.js";

const claimBatch = 50; // the most user ids one claim takes
const phoneOf = (i) => `+1415556${String(i).padStart(4, "0")}`;

async function directorySize(dir) {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

/**
 * Registers the creator and `members - 1` users with verified numbers and one
 * key package each; the creator finds each by number, claims their key
 * packages and adds every device in one commit.
 */
async function buildGroup(ctx, veil, store, members) {
  const { log, options } = ctx;
  const { concurrency } = options;
  const base = veil.url;
  const timings = {};
  let started = performance.now();
  const creator = await registerUser(base, "Group creator");
  const others = await pool(
    Array.from({ length: members - 1 }, (_, i) => i),
    concurrency,
    async (i) => ({
      ...(await registerUser(base, `Member ${i}`, await verifiedPhone(veil, phoneOf(i)))),
      phone: phoneOf(i),
    }),
  );
  timings.registerMs = performance.now() - started;

  started = performance.now();
  const keyPackages = [];
  for (const member of others) keyPackages.push(await encodedKeyPackage(member.deviceId));
  timings.keyPackagesMs = performance.now() - started;
  started = performance.now();
  await pool(others, concurrency, (member, i) =>
    call(base, "POST", "/v1/key-packages", 200, {
      token: member.token,
      body: { keyPackages: [keyPackages[i]] },
    }),
  );
  // The creator may claim the key packages only of users it can see.
  await pool(others, concurrency, (member) =>
    call(base, "POST", "/v1/lookup/phone", 200, {
      token: creator.token,
      body: { phone: member.phone },
    }),
  );
  const group = await call(base, "POST", "/v1/groups", 201, {
    token: creator.token,
    body: { kind: "group" },
  });
  const claimed = [];
  for (let i = 0; i < others.length; i += claimBatch) {
    const { devices } = await call(base, "POST", "/v1/key-packages/claim", 200, {
      token: creator.token,
      body: { userIds: others.slice(i, i + claimBatch).map((m) => m.id) },
    });
    claimed.push(...devices);
  }
  timings.uploadLookupClaimMs = performance.now() - started;

  started = performance.now();
  const mls = await GroupSender.create(group.id, creator.deviceId);
  const commit = await mls.commitAdds(claimed);
  timings.commitBuildMs = performance.now() - started;
  const before = await veil.request("usage");
  const statementsBefore = (await veil.request("stats")).statements;
  // Accepting the commit, under the profiler (sampling every ms: little overhead).
  const profileFile = path.join(ctx.resultsDir, `veil-commit-${ctx.stamp}.cpuprofile`);
  await veil.request("profile-start", { samplingIntervalUs: 1000 });
  started = performance.now();
  await call(base, "POST", `/v1/groups/${group.id}/commits`, 201, {
    token: creator.token,
    body: commit.body,
  });
  timings.commitAcceptMs = performance.now() - started;
  const after = await veil.request("usage");
  await veil.request("profile-stop", { file: profileFile });
  commit.adopt();
  const accepted = {
    ms: timings.commitAcceptMs,
    cpuMs: cpuMicros(before.cpu, after.cpu) / 1000,
    statements: (await veil.request("stats")).statements - statementsBefore,
    commitChars: commit.body.commit.length,
    welcomeChars: commit.body.welcome.length,
    welcomeBytes: Buffer.from(commit.body.welcome, "base64url").length,
    rssGrowth: after.memory.rss - before.memory.rss,
    profile: {
      file: path.relative(ctx.root, profileFile),
      ...summariseProfile(JSON.parse(await readFile(profileFile, "utf8"))),
    },
  };
  // SQLite: the data directory's size now that every added device has its welcome.
  const storeBytes = store.dataDir && !store.schema ? await directorySize(store.dataDir) : null;
  log(
    `group: ${members} member devices; registered in ${(timings.registerMs / 1000).toFixed(1)} s, ` +
      `commit of ${claimed.length} adds built in ${(timings.commitBuildMs / 1000).toFixed(1)} s ` +
      `(${(accepted.commitChars / 1024).toFixed(0)} KiB commit + ${(accepted.welcomeChars / 1024).toFixed(0)} KiB welcome, base64url), ` +
      `accepted in ${(accepted.ms / 1000).toFixed(1)} s (${accepted.cpuMs.toFixed(0)} ms server CPU)`,
  );
  return {
    creator,
    members: [creator, ...others],
    groupId: group.id,
    mls,
    timings,
    accepted,
    storeBytes,
  };
}

/**
 * The ejabberd peer: `members` users registered in-band and connected; the
 * first creates a MUC room (an instant room: default configuration) and the
 * others join it, without history. Posting is a `groupchat` message to the
 * room, which ejabberd sends to every occupant, the sender included.
 */
async function ejabberdRoom(ctx, members, body) {
  const { log, options } = ctx;
  const server = await Ejabberd.start({ log });
  const password = "bench-password";
  const accounts = Array.from({ length: members }, (_, i) => ({ username: `member-${i}` }));
  const registerMs = await registerUsers(
    server.port,
    xmppDomain,
    accounts.map((a) => a.username),
    password,
  );
  const tracker = new StanzaTracker();
  const connected = await connectClients(
    accounts,
    { service: server.service, domain: xmppDomain, password, onStanza: tracker.onStanza },
    options.concurrency,
  );
  const { clients } = connected;
  const room = `bench@${mucDomain}`;
  const started = performance.now();
  const [owner, ...others] = clients;
  await joinRoom(owner, room, "m0");
  await configureInstantRoom(owner, room);
  await pool(others, options.concurrency, (c, i) => joinRoom(c, room, `m${i + 1}`));
  const joinMs = performance.now() - started;
  log(
    `group: ejabberd: ${members} users registered in ${(registerMs / 1000).toFixed(1)} s, ` +
      `connected in ${(connected.ms / 1000).toFixed(1)} s, joined the room in ${(joinMs / 1000).toFixed(1)} s`,
  );
  return {
    server,
    clients,
    timings: { registerMs, connectMs: connected.ms, joinMs },
    target: {
      child: server,
      tracker,
      connectMs: connected.ms,
      // Resolves once the stanza is written: XMPP has no server ack for it.
      trigger: (seq) => owner.send(messageStanza(room, "groupchat", seq, body)),
    },
  };
}

export async function groupFanout(ctx) {
  const { options, log } = ctx;
  const { groupMembers: members, groupEvents: events, warmupEvents, profileEvents } = options;
  const timeout = options.eventTimeoutMs;
  const store = await ctx.newStore("group");
  const veil = await ctx.startVeil(store);
  const bare = await ctx.startBare();
  const bareString = await ctx.startBare("string");
  const sockets = [];
  const withEjabberd = ctx.peers?.includes("ejabberd") ?? false;
  let peer = null;
  try {
    const group = await buildGroup(ctx, veil, store, members);
    const messages = await group.mls.messages(
      warmupEvents + events + 2 * profileEvents,
      options.messageBytes,
    );
    let nextMessage = 0;
    let template = null;
    const targets = {
      veil: {
        child: veil,
        tokens: group.members.map((m) => m.token),
        async trigger(seq) {
          const reply = await api(veil.url, "POST", `/v1/groups/${group.groupId}/messages`, {
            token: group.creator.token,
            body: { id: messageIdFor(seq), message: messages[nextMessage++] },
          });
          if (reply.status !== 201)
            throw new Error(`send: ${reply.status} ${JSON.stringify(reply.body)}`);
        },
      },
      bare: {
        child: bare,
        tokens: group.members.map(() => "bench"),
        trigger: (seq) =>
          call(bare.url, "POST", "/broadcast-frame", 204, {
            raw: entryFrame(template.text, template.seq, seq),
          }),
      },
      // The same, sending the frame to each socket as a string, as Veil's gateway does.
      bareString: {
        child: bareString,
        tokens: group.members.map(() => "bench"),
        trigger: (seq) =>
          call(bareString.url, "POST", "/broadcast-frame", 204, {
            raw: entryFrame(template.text, template.seq, seq),
          }),
      },
    };
    for (const target of Object.values(targets)) {
      target.tracker = new DeliveryTracker(entrySeqOf);
      const opened = await openSockets(
        ctx.wsUrl(target.child),
        target.tokens,
        target.tracker.onFrame,
        options.concurrency,
      );
      sockets.push(...opened.sockets);
      target.connectMs = opened.ms;
      const { connections } = await target.child.request("stats");
      if (connections !== members)
        throw new Error(
          `${target.child.name} holds ${connections} connections, expected ${members}`,
        );
    }
    if (withEjabberd) {
      // The stanza body: as long as Veil's ciphertext, of the same base64url characters.
      peer = await ejabberdRoom(ctx, members, messages[0]);
      targets.ejabberd = peer.target;
    }
    const names = Object.keys(targets);
    log(`group: ${members} connections open to each of ${names.length} servers`);

    let seq = 1;
    for (let i = 0; i < warmupEvents; i++) {
      const event = await fire(targets.veil, seq++, members, timeout);
      template ??= { text: event.frameText, seq: event.seq };
    }
    for (const name of names.slice(1)) {
      for (let i = 0; i < warmupEvents; i++) await fire(targets[name], seq++, members, timeout);
    }

    const usage = async () =>
      Object.fromEntries(
        await Promise.all(
          names.map(async (name) => [name, await targets[name].child.request("usage")]),
        ),
      );
    const statementsBefore = (await veil.request("stats")).statements;
    const clientBefore = process.cpuUsage();
    const before = await usage();
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < events; i++) {
      // Each server goes first, second and third equally often.
      const order = names.map((_, k) => names[(i + k) % names.length]);
      for (const name of order)
        results[name].push(await fire(targets[name], seq++, members, timeout));
    }
    const after = await usage();
    const clientCpuMs = cpuMicros(clientBefore, process.cpuUsage()) / 1000;
    const statements = (await veil.request("stats")).statements - statementsBefore;

    const fanout = {
      members,
      frameBytes: template.text.length,
      clientCpuMs,
      setup: { timings: group.timings, commit: group.accepted, storeBytes: group.storeBytes },
    };
    for (const name of names) {
      const sizes = results[name].flatMap((e) => e.frameBytes);
      fanout[name] = {
        ...summariseEvents(results[name], cpuMicros(before[name].cpu, after[name].cpu), members),
        frameBytes: { min: Math.min(...sizes), max: Math.max(...sizes) },
        connectMs: targets[name].connectMs,
        events: withoutFrames(results[name]),
      };
    }
    fanout.veil.statementsPerEvent = statements / events;
    if (peer) {
      // The "response" was only the stanza written to the socket: not an ack.
      fanout.ejabberd.responseMedianMs = null;
      fanout.ejabberd.responseP99Ms = null;
      fanout.ejabberd.setup = peer.timings;
      fanout.ejabberd.version = peer.server.version;
      fanout.ejabberd.startMs = peer.server.startMs;
    }
    log(
      `group: last delivery median ${fanout.veil.lastMedianMs.toFixed(2)} ms (Veil) vs ` +
        `${fanout.bare.lastMedianMs.toFixed(2)} ms (bare); CPU per delivered frame ` +
        `${fanout.veil.cpuPerFrameUs.toFixed(2)} µs vs ${fanout.bare.cpuPerFrameUs.toFixed(2)} µs` +
        (peer
          ? `; ejabberd ${fanout.ejabberd.lastMedianMs.toFixed(2)} ms, ${fanout.ejabberd.cpuPerFrameUs.toFixed(2)} µs`
          : ""),
    );

    const profiles = {};
    for (const name of profileEvents > 0 ? ["veil", "bare"] : []) {
      const { child } = targets[name];
      const file = path.join(ctx.resultsDir, `${child.name}-group-${ctx.stamp}.cpuprofile`);
      await child.request("profile-start", { samplingIntervalUs: 250 });
      for (let i = 0; i < profileEvents; i++) await fire(targets[name], seq++, members, timeout);
      await child.request("profile-stop", { file });
      profiles[name] = {
        file: path.relative(ctx.root, file),
        events: profileEvents,
        ...summariseProfile(JSON.parse(await readFile(file, "utf8"))),
      };
      log(`profiled ${profileEvents} ${child.name} group messages: ${profiles[name].file}`);
    }
    fanout.strayFrames = names.reduce((n, name) => n + targets[name].tracker.stray, 0);
    if (fanout.strayFrames > 0) log(`group: ${fanout.strayFrames} frames matched no message`);
    if (profileEvents > 0 && store.schema === null) {
      fanout.sql = await timeSql(veil, profileEvents, async () => {
        for (let i = 0; i < profileEvents; i++) await fire(targets.veil, seq++, members, timeout);
      });
    }
    fanout.profiles = profiles;
    fanout.database = (await veil.request("stats")).database;
    return fanout;
  } finally {
    closeSockets(sockets);
    if (peer) await closeClients(peer.clients);
    await Promise.all([veil.stop(), bare.stop(), bareString.stop(), peer?.server.stop()]);
  }
}
