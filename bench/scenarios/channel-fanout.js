import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import SqliteDriver from "better-sqlite3";
import pg from "pg";
import {
  api,
  call,
  closeSockets,
  DeliveryTracker,
  openFileLimit,
  openSockets,
  pool,
  registerUser,
} from "../lib/clients.js";
import { fire, summariseEvents, withoutFrames } from "../lib/events.js";
import { entryFrame, messageIdFor } from "../lib/payload.js";
import { cpuMicros, quantile } from "../lib/stats.js";

const insertBatch = 50_000;
const emoji = ["👍", "❤️"];
/** Requests each storm follower has in flight at once: set one emoji, the other, and remove. */
const stormOverlap = 3;
const postText = "Bench post ".padEnd(100, "x");
const postStart = '{"type":"channel.post",';
const countsStart = '{"type":"channel.counts",';
const idKey = '"id":"msg-';

/** The event number of a `channel.post` frame (text), or -1. */
export function channelPostSeqOf(text) {
  if (!text.startsWith(postStart)) return -1;
  const at = text.indexOf(idKey);
  if (at < 0) return -1;
  const seq = Number(text.slice(at + idKey.length, at + idKey.length + 8));
  return Number.isInteger(seq) ? seq : -1;
}

/**
 * Direct access to the server's store, for the bulk insert and row counts:
 * the SQLite file of the data directory (WAL: the server keeps running), or
 * the run's PostgreSQL schema.
 */
export async function openStoreDb(store, databaseUrl) {
  if (!store.schema) {
    const db = new SqliteDriver(path.join(store.dataDir, "veil.sqlite"));
    db.pragma("busy_timeout = 30000");
    db.pragma("synchronous = OFF");
    db.pragma("foreign_keys = OFF");
    return {
      async count(table) {
        return db.prepare(`select count(*) as n from ${table}`).get().n;
      },
      async reactionRows(channelId, seq) {
        const rows = db
          .prepare(
            "select emoji, count(*) as n from channel_reactions " +
              "where channel_id = ? and seq = ? group by emoji",
          )
          .all(channelId, seq);
        return Object.fromEntries(rows.map((r) => [r.emoji, Number(r.n)]));
      },
      async insertFollowers(channelId, template, from, to) {
        const user = db.prepare(
          "insert into users (id, name, about, privacy_phone, privacy_photo, privacy_about, " +
            "privacy_presence, discoverable_by_phone, created_at, updated_at) " +
            "values (?, ?, '', ?, ?, ?, ?, ?, ?, ?)",
        );
        const follower = db.prepare(
          "insert into channel_followers (channel_id, user_id, handle, muted, followed_at) " +
            "values (?, ?, ?, 0, ?)",
        );
        const t = template;
        const now = Date.now();
        const batch = db.transaction((lo, hi) => {
          for (let i = lo; i < hi; i++) {
            const id = `ub${String(i).padStart(9, "0")}`;
            user.run(
              id,
              `Follower ${i}`,
              t.privacy_phone,
              t.privacy_photo,
              t.privacy_about,
              t.privacy_presence,
              t.discoverable_by_phone,
              now,
              now,
            );
            follower.run(channelId, id, `f_bench${i}`, now);
          }
        });
        for (let lo = from; lo < to; lo += insertBatch) batch(lo, Math.min(lo + insertBatch, to));
        db.prepare(
          "update channels set follower_count = " +
            "(select count(*) from channel_followers where channel_id = ?) where id = ?",
        ).run(channelId, channelId);
        db.pragma("wal_checkpoint(TRUNCATE)");
      },
      async userTemplate(userId) {
        return db.prepare("select * from users where id = ?").get(userId);
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`set search_path to ${client.escapeIdentifier(store.schema)}`);
  return {
    async count(table) {
      return Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
    },
    async reactionRows(channelId, seq) {
      const { rows } = await client.query(
        "select emoji, count(*) as n from channel_reactions " +
          "where channel_id = $1 and seq = $2 group by emoji",
        [channelId, seq],
      );
      return Object.fromEntries(rows.map((r) => [r.emoji, Number(r.n)]));
    },
    async insertFollowers(channelId, t, from, to) {
      const now = Date.now();
      for (let lo = from; lo < to; lo += insertBatch) {
        const hi = Math.min(lo + insertBatch, to) - 1;
        await client.query("begin");
        await client.query(
          "insert into users (id, name, about, privacy_phone, privacy_photo, privacy_about, " +
            "privacy_presence, discoverable_by_phone, created_at, updated_at) " +
            "select 'ub' || lpad(g::text, 9, '0'), 'Follower ' || g, '', $1, $2, $3, $4, $5, $6, $6 " +
            "from generate_series($7::int, $8::int) g",
          [
            t.privacy_phone,
            t.privacy_photo,
            t.privacy_about,
            t.privacy_presence,
            t.discoverable_by_phone,
            now,
            lo,
            hi,
          ],
        );
        await client.query(
          "insert into channel_followers (channel_id, user_id, handle, muted, followed_at) " +
            "select $1, 'ub' || lpad(g::text, 9, '0'), 'f_bench' || g, 0, $2 " +
            "from generate_series($3::int, $4::int) g",
          [channelId, now, lo, hi],
        );
        await client.query("commit");
      }
      await client.query(
        "update channels set follower_count = " +
          "(select count(*) from channel_followers where channel_id = $1) where id = $1",
        [channelId],
      );
      await client.query("analyze");
    },
    async userTemplate(userId) {
      return (await client.query("select * from users where id = $1", [userId])).rows[0];
    },
    async close() {
      await client.end();
    },
  };
}

/**
 * The owner, the channel and `connected` followers through the API; the
 * other `followers - connected` follower rows straight into the store.
 */
async function buildChannel(ctx, veil, db, followers, connected) {
  const { log, options } = ctx;
  const base = veil.url;
  let started = performance.now();
  const owner = await registerUser(base, "Channel owner");
  const channel = await call(base, "POST", "/v1/channels", 201, {
    token: owner.token,
    body: { name: "Bench News", handle: "bench_news", category: "news" },
  });
  const users = await pool(
    Array.from({ length: connected }, (_, i) => i),
    options.concurrency,
    (i) => registerUser(base, `Follower ${i}`),
  );
  const registerMs = performance.now() - started;
  started = performance.now();
  await pool(users, options.concurrency, (user) =>
    call(base, "PUT", `/v1/channels/${channel.id}/follow`, 200, { token: user.token, body: {} }),
  );
  const followMs = performance.now() - started;
  started = performance.now();
  const template = await db.userTemplate(owner.id);
  await db.insertFollowers(channel.id, template, connected, followers);
  const insertMs = performance.now() - started;
  const view = await call(base, "GET", `/v1/channels/${channel.id}`, 200, { token: owner.token });
  if (view.followerCount !== followers)
    throw new Error(`the channel has ${view.followerCount} followers, expected ${followers}`);
  log(
    `channel: ${connected} followers registered in ${(registerMs / 1000).toFixed(1)} s and ` +
      `followed in ${(followMs / 1000).toFixed(1)} s (API); ${followers - connected} more ` +
      `follower rows inserted in ${(insertMs / 1000).toFixed(1)} s (store)`,
  );
  return {
    owner,
    channelId: channel.id,
    users,
    setup: { registerMs, followMs, insertMs, insertedRows: followers - connected },
  };
}

/**
 * The reaction storm: `storm` connected followers set, switch and remove
 * reactions on post `seq`, `rounds` rounds, `concurrency` requests in flight.
 * In each round every follower sends `stormOverlap` requests at once (one
 * emoji, the other, a removal), so a follower's own requests overlap; a last
 * round, one request each, leaves every follower on a known emoji. Any answer
 * but 200 (a 5xx from a broken key or a deadlock) fails the run.
 */
export async function reactionStorm(
  ctx,
  veil,
  db,
  channel,
  seq,
  storm,
  rounds,
  counter,
  baseOf = () => veil.url,
) {
  const { options, log } = ctx;
  const base = veil.url;
  const reactors = channel.users.slice(0, storm);
  const emojiOf = (i, round) => emoji[(i + round) % 2];
  const path = `/v1/channels/${channel.channelId}/posts/${seq}/reaction`;
  const statementsBefore = (await veil.request("stats")).statements;
  const before = await veil.request("usage");
  counter.reset();
  const started = performance.now();
  const acks = [];
  /** Follower `i` reacts through `baseOf(i)`: one server, or the nodes of a cluster in turn. */
  const send = async (user, e, i) => {
    const t0 = performance.now();
    await call(baseOf(i), e === null ? "DELETE" : "PUT", path, 200, {
      token: user.token,
      ...(e === null ? {} : { body: { emoji: e } }),
    });
    acks.push(performance.now() - t0);
  };
  const followersAtOnce = Math.max(1, Math.floor(options.concurrency / stormOverlap));
  for (let round = 0; round < rounds; round++) {
    await pool(reactors, followersAtOnce, (user, i) =>
      Promise.all(
        Array.from({ length: stormOverlap }, (_, k) =>
          send(user, k === stormOverlap - 1 ? null : emojiOf(i, round + k), i),
        ),
      ),
    );
  }
  await pool(reactors, options.concurrency, (user, i) => send(user, emojiOf(i, rounds - 1), i));
  const requests = acks.length;
  const ingestMs = performance.now() - started;
  const after = await veil.request("usage");
  const statements = (await veil.request("stats")).statements - statementsBefore;
  const expected = {};
  for (let i = 0; i < reactors.length; i++) {
    const e = emojiOf(i, rounds - 1);
    expected[e] = (expected[e] ?? 0) + 1;
  }
  // The last push comes within a second of the last change.
  const waitUntil = performance.now() + 5000;
  while (performance.now() < waitUntil) {
    const last = counter.lastCounts();
    if (last && JSON.stringify(sorted(last)) === JSON.stringify(sorted(expected))) break;
    await sleep(50);
  }
  await sleep(300); // any push still on its way to the other sockets
  const windowMs = Math.max(counter.lastAt - started, ingestMs);
  const page = await call(
    base,
    "GET",
    `/v1/channels/${channel.channelId}/posts?after=${seq - 1}&limit=1`,
    200,
    { token: channel.owner.token },
  );
  const stored = page.posts[0]?.reactions ?? {};
  const pushed = counter.lastCounts() ?? {};
  const rows = await db.reactionRows(channel.channelId, seq);
  const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
  const result = {
    reactors: storm,
    rounds,
    overlap: stormOverlap,
    reactions: requests,
    concurrency: options.concurrency,
    ingestMs,
    perSecond: requests / (ingestMs / 1000),
    ackP50Ms: quantile(acks, 0.5),
    ackP99Ms: quantile(acks, 0.99),
    cpuPerReactionUs: cpuMicros(before.cpu, after.cpu) / requests,
    statementsPerReaction: statements / requests,
    expected,
    stored,
    rows,
    pushed,
    // The counters, the rows, and the last push all say what the followers last chose.
    exact: same(stored, expected) && same(rows, expected) && same(pushed, expected),
    countsFrames: counter.frames,
    windowMs,
    pushes: counter.frames / channel.users.length,
    pushesPerSecond: counter.frames / channel.users.length / (windowMs / 1000),
  };
  log(
    `storm: ${result.reactions} reactions by ${storm} followers, ${result.perSecond.toFixed(0)}/s ` +
      `acked (p50 ${result.ackP50Ms.toFixed(1)} ms), ${result.cpuPerReactionUs.toFixed(0)} µs CPU each; ` +
      `counts ${result.exact ? "exact" : "WRONG"} (${JSON.stringify(stored)}, expected ` +
      `${JSON.stringify(expected)}); ${result.pushes.toFixed(1)} counts pushes per follower in ` +
      `${(windowMs / 1000).toFixed(1)} s (${result.pushesPerSecond.toFixed(2)}/s)`,
  );
  if (!result.exact) {
    throw new Error(
      `reaction storm: counts not exact: served ${JSON.stringify(stored)}, rows ` +
        `${JSON.stringify(rows)}, last pushed ${JSON.stringify(pushed)}, expected ` +
        `${JSON.stringify(expected)}`,
    );
  }
  return result;
}

const sorted = (record) => Object.fromEntries(Object.entries(record).sort());

/** Counts `channel.counts` frames (every socket) and keeps the last one; passes the rest on. */
export function countsCounter(next) {
  let last = null;
  const counter = {
    frames: 0,
    lastAt: 0,
    reset() {
      counter.frames = 0;
      counter.lastAt = 0;
      last = null;
    },
    lastCounts: () => (last ? JSON.parse(last).counts : null),
    onFrame(data) {
      const text = data.toString();
      if (text.startsWith(countsStart)) {
        counter.frames++;
        counter.lastAt = performance.now();
        last = text;
        return;
      }
      next(data);
    },
  };
  return counter;
}

export async function channelFanout(ctx) {
  const { options, log } = ctx;
  const connected = options.channelConnected;
  const followers = Math.max(options.channelFollowers, connected);
  const events = options.channelPosts;
  const storm = Math.min(options.stormFollowers, connected);
  const { warmupEvents } = options;
  const timeout = options.eventTimeoutMs;
  const store = await ctx.newStore("channel");
  const veil = await ctx.startVeil(store);
  const bare = await ctx.startBare();
  const db = await openStoreDb(store, options.databaseUrl);
  const sockets = { veil: [], bare: [] };
  try {
    const channel = await buildChannel(ctx, veil, db, followers, connected);
    let template = null;
    let lastSeq = 0;
    const targets = {
      veil: {
        child: veil,
        tokens: channel.users.map((u) => u.token),
        async trigger(seq) {
          const reply = await api(veil.url, "POST", `/v1/channels/${channel.channelId}/posts`, {
            token: channel.owner.token,
            body: { id: messageIdFor(seq), text: postText },
          });
          if (reply.status !== 201)
            throw new Error(`post: ${reply.status} ${JSON.stringify(reply.body)}`);
          lastSeq = reply.body.seq;
        },
      },
      bare: {
        child: bare,
        tokens: channel.users.map(() => "bench"),
        trigger: (seq) =>
          call(bare.url, "POST", "/broadcast-frame", 204, {
            raw: entryFrame(template.text, template.seq, seq),
          }),
      },
    };
    const names = Object.keys(targets);
    // Both servers' sockets at once need 2 × C descriptors in this process.
    const interleaved = 2 * connected + 500 <= openFileLimit();
    const open = async (name) => {
      const target = targets[name];
      target.tracker ??= new DeliveryTracker(channelPostSeqOf);
      target.counter ??= countsCounter(target.tracker.onFrame);
      const opened = await openSockets(
        ctx.wsUrl(target.child),
        target.tokens,
        (data) => target.counter.onFrame(data),
        options.concurrency,
      );
      sockets[name] = opened.sockets;
      target.connectMs = opened.ms;
      const { connections } = await target.child.request("stats");
      if (connections !== connected)
        throw new Error(`${name} holds ${connections} connections, expected ${connected}`);
    };
    const results = Object.fromEntries(names.map((name) => [name, []]));
    const cpu = Object.fromEntries(names.map((name) => [name, 0]));
    let seq = 1;
    /** Measured posts on the servers of `block`, interleaved; Veil's rows and statements counted. */
    const measure = async (block) => {
      const usage = () => Promise.all(block.map((name) => targets[name].child.request("usage")));
      const rowsBefore = await db.count("channel_posts");
      const statementsBefore = (await veil.request("stats")).statements;
      const before = await usage();
      for (let i = 0; i < events; i++) {
        const order = i % 2 === 0 ? block : [...block].reverse();
        for (const name of order)
          results[name].push(await fire(targets[name], seq++, connected, timeout));
      }
      const after = await usage();
      block.forEach((name, k) => {
        cpu[name] += cpuMicros(before[k].cpu, after[k].cpu);
      });
      if (!block.includes("veil")) return null;
      return {
        rows: (await db.count("channel_posts")) - rowsBefore,
        statements: (await veil.request("stats")).statements - statementsBefore,
      };
    };

    await open("veil");
    for (let i = 0; i < warmupEvents; i++) {
      const event = await fire(targets.veil, seq++, connected, timeout);
      template ??= { text: event.frameText, seq: event.seq };
    }
    let written;
    if (interleaved) {
      await open("bare");
      for (let i = 0; i < warmupEvents; i++) await fire(targets.bare, seq++, connected, timeout);
      log(`channel: ${connected} connections open to each of ${names.length} servers`);
      written = await measure(names);
    } else {
      log(
        `channel: ${connected} connections open to Veil; the bare server runs afterwards ` +
          `(both at once would need more than this process's ${openFileLimit()} open files)`,
      );
      written = await measure(["veil"]);
    }
    const stormResult = await reactionStorm(
      ctx,
      veil,
      db,
      channel,
      lastSeq,
      storm,
      options.stormRounds,
      targets.veil.counter,
    );
    if (!interleaved) {
      closeSockets(sockets.veil);
      sockets.veil = [];
      await sleep(500);
      await open("bare");
      for (let i = 0; i < warmupEvents; i++) await fire(targets.bare, seq++, connected, timeout);
      log(`channel: ${connected} connections open to the bare server`);
      await measure(["bare"]);
    }

    const fanout = {
      followers,
      connected,
      interleaved,
      frameBytes: template.text.length,
      setup: channel.setup,
      storm: stormResult,
    };
    for (const name of names) {
      fanout[name] = {
        ...summariseEvents(results[name], cpu[name], connected),
        connectMs: targets[name].connectMs,
        events: withoutFrames(results[name]),
      };
    }
    fanout.veil.statementsPerEvent = written.statements / events;
    fanout.veil.rowsPerPost = written.rows / events;
    fanout.strayFrames = names.reduce((n, name) => n + targets[name].tracker.stray, 0);
    if (written.rows !== events)
      throw new Error(`${written.rows} channel_posts rows written for ${events} posts`);
    log(
      `channel: last delivery p50 ${fanout.veil.lastMedianMs.toFixed(1)} ms (Veil) vs ` +
        `${fanout.bare.lastMedianMs.toFixed(1)} ms (bare), p99 ${fanout.veil.lastP99Ms.toFixed(1)} vs ` +
        `${fanout.bare.lastP99Ms.toFixed(1)} ms; CPU per delivery ${fanout.veil.cpuPerFrameUs.toFixed(2)} µs vs ` +
        `${fanout.bare.cpuPerFrameUs.toFixed(2)} µs; ${fanout.veil.rowsPerPost} row and ` +
        `${fanout.veil.statementsPerEvent.toFixed(1)} SQL statements per post`,
    );
    return fanout;
  } finally {
    closeSockets([...sockets.veil, ...sockets.bare]);
    await db.close().catch(() => {});
    await Promise.all([veil.stop(), bare.stop()]);
  }
}
