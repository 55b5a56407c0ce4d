// announcement-fanout: a community of N members, every one of them in its
// announcement group and connected; the admin posts sender-key messages one
// after another and each reaches every member device as a `group.entry`
// frame. Veil against a bare `ws` server broadcasting the same frame to as
// many sockets. Also measured: what a membership change costs the server
// (joins by invite link) — existing members' devices do no work at all, as
// the announcement group has no MLS tree (docs/communities.md).
import { performance } from "node:perf_hooks";
import { createSenderKey, encryptWithSenderKey } from "../../packages/crypto/dist/index.js";
import {
  api,
  call,
  closeSockets,
  DeliveryTracker,
  openSockets,
  pool,
  registerUser,
} from "../lib/clients.js";
import { fire, summariseEvents, withoutFrames } from "../lib/events.js";
import { entryFrame, entrySeqOf, messageIdFor } from "../lib/payload.js";
import { cpuMicros } from "../lib/stats.js";

/** `count` sender-key posts of `bytes` plaintext bytes each, in sending order, base64url. */
export async function posts(groupId, count, bytes) {
  let key = await createSenderKey(groupId);
  const out = [];
  for (let i = 0; i < count; i++) {
    const text = `${i} `.padEnd(bytes, "x").slice(0, bytes);
    const sealed = await encryptWithSenderKey(key, new TextEncoder().encode(text));
    key = sealed.state;
    out.push(Buffer.from(sealed.message).toString("base64url"));
  }
  if (new Set(out.map((m) => m.length)).size > 1) throw new Error("post sizes differ");
  return out;
}

/**
 * The admin and `members - 1` users; the admin creates the community and an
 * invite link; everyone joins by it. The joins are timed in batches: the
 * first `batch` joins, then the rest, with the server's CPU for each batch.
 */
export async function buildCommunity(ctx, veil, members, batch) {
  const { log, options } = ctx;
  const base = veil.url;
  let started = performance.now();
  const admin = await registerUser(base, "Community admin");
  const others = await pool(
    Array.from({ length: members - 1 }, (_, i) => i),
    options.concurrency,
    (i) => registerUser(base, `Member ${i}`),
  );
  const registerMs = performance.now() - started;
  const community = await call(base, "POST", "/v1/communities", 201, {
    token: admin.token,
    body: { name: "Bench community" },
  });
  const { code } = await call(base, "POST", `/v1/communities/${community.id}/invites`, 201, {
    token: admin.token,
    body: {},
  });
  const join = (member) =>
    call(base, "POST", `/v1/invites/${code}/join`, 200, { token: member.token });
  // One membership change at a time first (latency), then the rest in parallel (throughput).
  const first = others.slice(0, batch);
  let before = await veil.request("usage");
  const statementsBefore = (await veil.request("stats")).statements;
  started = performance.now();
  for (const member of first) await join(member);
  const sequentialMs = performance.now() - started;
  let after = await veil.request("usage");
  const statements = (await veil.request("stats")).statements - statementsBefore;
  const joins = {
    sequential: {
      count: first.length,
      msEach: sequentialMs / first.length,
      cpuMsEach: cpuMicros(before.cpu, after.cpu) / 1000 / first.length,
      statementsEach: statements / first.length,
    },
  };
  before = after;
  started = performance.now();
  const rest = others.slice(batch);
  await pool(rest, options.concurrency, join);
  const parallelMs = performance.now() - started;
  after = await veil.request("usage");
  joins.parallel = {
    count: rest.length,
    perSecond: rest.length / (parallelMs / 1000),
    cpuMsEach: rest.length === 0 ? 0 : cpuMicros(before.cpu, after.cpu) / 1000 / rest.length,
  };
  const view = await call(base, "GET", `/v1/communities/${community.id}`, 200, {
    token: admin.token,
  });
  if (view.memberCount !== members)
    throw new Error(`the community has ${view.memberCount} members, expected ${members}`);
  log(
    `announcement: ${members} members registered in ${(registerMs / 1000).toFixed(1)} s; ` +
      `a join costs the server ${joins.sequential.cpuMsEach.toFixed(2)} ms of CPU ` +
      `(${joins.sequential.msEach.toFixed(2)} ms one at a time, ` +
      `${joins.parallel.perSecond.toFixed(0)} joins/s ${options.concurrency} at a time)`,
  );
  return {
    admin,
    members: [admin, ...others],
    groupId: community.announcementGroupId,
    registerMs,
    joins,
  };
}

export async function announcementFanout(ctx) {
  const { options, log } = ctx;
  const members = options.announcementMembers;
  const events = options.announcementEvents;
  const { warmupEvents } = options;
  const timeout = options.eventTimeoutMs;
  const store = await ctx.newStore("announcement");
  const veil = await ctx.startVeil(store);
  const bare = await ctx.startBare();
  const sockets = [];
  try {
    const community = await buildCommunity(ctx, veil, members, Math.min(1000, members - 1));
    const messages = await posts(community.groupId, warmupEvents + events, options.messageBytes);
    let nextMessage = 0;
    let template = null;
    const targets = {
      veil: {
        child: veil,
        tokens: community.members.map((m) => m.token),
        async trigger(seq) {
          const reply = await api(veil.url, "POST", `/v1/groups/${community.groupId}/messages`, {
            token: community.admin.token,
            body: { id: messageIdFor(seq), message: messages[nextMessage++] },
          });
          if (reply.status !== 201)
            throw new Error(`announce: ${reply.status} ${JSON.stringify(reply.body)}`);
        },
      },
      bare: {
        child: bare,
        tokens: community.members.map(() => "bench"),
        trigger: (seq) =>
          call(bare.url, "POST", "/broadcast-frame", 204, {
            raw: entryFrame(template.text, template.seq, seq),
          }),
      },
    };
    const names = Object.keys(targets);
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
    }
    log(`announcement: ${members} connections open to each of ${names.length} servers`);

    let seq = 1;
    for (let i = 0; i < warmupEvents; i++) {
      const event = await fire(targets.veil, seq++, members, timeout);
      template ??= { text: event.frameText, seq: event.seq };
    }
    for (let i = 0; i < warmupEvents; i++) await fire(targets.bare, seq++, members, timeout);

    const usage = async () =>
      Object.fromEntries(
        await Promise.all(
          names.map(async (name) => [name, await targets[name].child.request("usage")]),
        ),
      );
    const statementsBefore = (await veil.request("stats")).statements;
    const before = await usage();
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < events; i++) {
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order)
        results[name].push(await fire(targets[name], seq++, members, timeout));
    }
    const after = await usage();
    const statements = (await veil.request("stats")).statements - statementsBefore;
    const fanout = {
      members,
      frameBytes: template.text.length,
      registerMs: community.registerMs,
      joins: community.joins,
    };
    for (const name of names) {
      fanout[name] = {
        ...summariseEvents(results[name], cpuMicros(before[name].cpu, after[name].cpu), members),
        connectMs: targets[name].connectMs,
        events: withoutFrames(results[name]),
      };
    }
    fanout.veil.statementsPerEvent = statements / events;
    fanout.strayFrames = names.reduce((n, name) => n + targets[name].tracker.stray, 0);
    log(
      `announcement: last delivery p50 ${fanout.veil.lastMedianMs.toFixed(1)} ms (Veil) vs ` +
        `${fanout.bare.lastMedianMs.toFixed(1)} ms (bare), p99 ${fanout.veil.lastP99Ms.toFixed(1)} vs ` +
        `${fanout.bare.lastP99Ms.toFixed(1)} ms; CPU per delivery ${fanout.veil.cpuPerFrameUs.toFixed(2)} µs vs ` +
        `${fanout.bare.cpuPerFrameUs.toFixed(2)} µs`,
    );
    return fanout;
  } finally {
    closeSockets(sockets);
    await Promise.all([veil.stop(), bare.stop()]);
  }
}
