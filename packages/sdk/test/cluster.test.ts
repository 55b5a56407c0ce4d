import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { VeilClient } from "@veil/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropSchema,
  freshSchema,
  natsAvailable,
  natsUrl,
  postgresAvailable,
  postgresUrl,
} from "../../server/test/helpers/backends.js";
import {
  type ClusterProcess,
  type ServerProcess,
  startClusterProcess,
  startServerProcess,
  veilBin,
} from "../../server/test/helpers/processes.js";
import { eventually, noRateLimits } from "./helpers/harness.js";
import { freePort, member, range, Sender } from "./helpers/process-clients.js";

describe.skipIf(!postgresAvailable || !natsAvailable)(
  "a 3-node cluster on PostgreSQL and NATS (veil cluster)",
  () => {
    const schema = freshSchema();
    const dataDir = mkdtempSync(path.join(tmpdir(), "veil-cluster-"));
    const clients: VeilClient[] = [];
    let cluster: ClusterProcess;
    const clusterEnv = {
      ...noRateLimits,
      VEIL_DATABASE_URL: postgresUrl,
      VEIL_DATABASE_SCHEMA: schema,
      VEIL_BUS_URL: natsUrl,
      VEIL_BUS_PREFIX: `veiltest_${randomBytes(4).toString("hex")}`,
      VEIL_DATA_DIR: dataDir,
      VEIL_WEB_DIR: "none",
    };

    beforeAll(async () => {
      cluster = await startClusterProcess(clusterEnv);
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) await c.stop();
      await cluster?.stop();
      await dropSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("runs chats, a community group and a channel across nodes; each node killed mid-stream loses nothing", async () => {
      // Clients reach the nodes through the balancer, round robin: spread over all three.
      const ann = await member(cluster.url, "Ann", clients, cluster.output);
      const ben = await member(cluster.url, "Ben", clients, cluster.output);
      const cat = await member(cluster.url, "Cat", clients, cluster.output);
      const dan = await member(cluster.url, "Dan", clients, cluster.output);

      await ann.client.api.addContact({ phone: ben.phone });
      const direct = await ann.client.startDirectChat(ben.userId);
      await ben.client.waitForChat(direct.groupId);

      const community = await ann.client.createCommunity({ name: "Cluster Street" });
      const { code } = await ann.client.createInvite(community.id);
      await cat.client.joinByInvite(code);
      await dan.client.joinByInvite(code);
      const garden = await ann.client.createCommunityGroup(community.id, { name: "Garden" }, [
        cat.userId,
        dan.userId,
      ]);
      await cat.client.waitForChat(garden.groupId);
      await dan.client.waitForChat(garden.groupId);

      const channel = await ann.client.createChannel({
        name: "Cluster News",
        handle: `cluster_${randomBytes(4).toString("hex")}`,
      });
      await ben.client.followChannel(channel.id);
      await dan.client.followChannel(channel.id);

      // The stream: Ann writes to Ben, Cat to the community group, Ann posts to the
      // channel; each node in turn is killed with SIGKILL while it runs, and the
      // cluster starts it again. Every client loses its node at least once.
      const annSends = new Sender(ann);
      const catSends = new Sender(cat);
      const rounds = 36;
      const kills = new Map([
        [6, "node-1"],
        [18, "node-2"],
        [30, "node-3"],
      ]);
      let back: Promise<void> = Promise.resolve();
      const posts: string[] = [];
      for (let i = 0; i < rounds; i++) {
        const node = kills.get(i);
        if (node) {
          await back; // one node down at a time
          const pid = cluster.pids().get(node) as number;
          cluster.kill(node, "SIGKILL");
          back = cluster.restarted(node, pid);
        }
        await annSends.text(direct.groupId, `d${i}`);
        await catSends.text(garden.groupId, `g${i}`);
        if (i % 3 === 0) {
          const text = `p${i}`;
          const id = `post_${i}_${randomBytes(3).toString("hex")}`;
          // Channel posts are idempotent by id: a caller tries again after a failure.
          await eventually(() => ann.client.postToChannel(channel.id, text, { id }), 30_000);
          posts.push(text);
        }
      }
      await back;
      // The kills hit live connections (each client's node died at least once, unless
      // the balancer had put two clients' sockets on one node).
      const drops = [ann, ben, cat, dan].map((who) => who.drops.count);
      expect(drops.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2);

      // Every message arrives once, in the order written; every post once.
      await eventually(() => {
        annSends.allAcknowledged();
        catSends.allAcknowledged();
        expect(ben.seen.texts(direct.groupId)).toEqual(range("d", rounds));
        expect(dan.seen.texts(garden.groupId)).toEqual(range("g", rounds));
        expect(ann.seen.texts(garden.groupId)).toEqual(range("g", rounds));
        for (const follower of [ben, dan]) {
          expect([...follower.posts.keys()].sort()).toEqual([...posts].sort());
        }
      }, 90_000);
      // Ben's device receipts crossed back to Ann, whichever nodes each was on.
      await eventually(() => {
        const receipted = new Set(
          ann.seen.receipts
            .filter((r) => r.groupId === direct.groupId && r.fromUserId === ben.userId)
            .flatMap((r) => r.messageIds),
        );
        expect(annSends.ids().filter((id) => !receipted.has(id))).toEqual([]);
      }, 30_000);
      for (const who of [ann, ben, cat, dan]) await who.client.sync();
      expect(ben.seen.texts(direct.groupId)).toEqual(range("d", rounds));
      expect(dan.seen.texts(garden.groupId)).toEqual(range("g", rounds));
      for (const follower of [ben, dan]) {
        expect([...follower.posts.values()].every((n) => n === 1)).toBe(true);
      }
      for (const who of [ann, ben, cat, dan]) expect(who.seen.errors).toEqual([]);
      // Ben answers through whichever node he is on now: it reaches Ann.
      await ben.client.sendText(direct.groupId, "all here");
      await eventually(() => expect(ann.seen.texts(direct.groupId)).toEqual(["all here"]));

      // Moderation across the nodes: Ben reports Ann with one message he picked; a
      // moderator (granted with `veil admin grant` on the cluster's database) reads it.
      const moe = await member(cluster.url, "Moe", clients, cluster.output);
      execFileSync(process.execPath, [veilBin, "admin", "grant", moe.userId, "moderator"], {
        env: { ...process.env, ...clusterEnv },
      });
      const picked = (await ben.client.messages(direct.groupId)).find(
        (m) => m.content.type === "text" && m.content.text === "d20",
      );
      if (!picked) throw new Error("missing message");
      await ben.client.reportUser(direct.groupId, ann.userId, {
        reason: "spam",
        attach: [picked.id],
      });
      const queue = await moe.client.api.moderationQueue();
      const entry = queue.cases.find((c) => c.subject === "user" && c.userId === ann.userId);
      if (!entry) throw new Error("no case for the report");
      const detail = await moe.client.api.moderationCase(entry.id);
      expect(detail.reports[0]?.messages.map((m) => m.text)).toEqual(["d20"]);
    }, 300_000);

    it("logs no names or message text on any node", () => {
      const logs = cluster.output();
      for (const secret of ["Ann", "Cluster Street", "Garden", "d12", "g12"]) {
        expect(logs).not.toContain(secret);
      }
      expect(logs).toMatch(/"node":"node-2".*"msg":"node exited; starting it again"/);
    });
  },
);

describe("the embedded server killed with SIGKILL mid-stream and started again", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "veil-embedded-"));
  const clients: VeilClient[] = [];
  let server: ServerProcess | undefined;

  afterAll(async () => {
    for (const c of clients) await c.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses no acknowledged message and shows none twice", async () => {
    const env = {
      ...noRateLimits,
      VEIL_DATA_DIR: dataDir,
      VEIL_WEB_DIR: "none",
      VEIL_PORT: String(await freePort()),
    };
    server = await startServerProcess(env);
    const eve = await member(server.url, "Eve", clients, () => server?.output() ?? "");
    const fay = await member(server.url, "Fay", clients, () => server?.output() ?? "");
    await eve.client.api.addContact({ phone: fay.phone });
    const chat = await eve.client.startDirectChat(fay.userId);
    await fay.client.waitForChat(chat.groupId);

    const sends = new Sender(eve);
    const rounds = 30;
    for (let i = 0; i < rounds; i++) {
      if (i === 12) {
        // Killed, not stopped: no drain, no goodbye; written while it is down: queued.
        await server.stop("SIGKILL");
        const queued = await sends.text(chat.groupId, `e${i}`);
        expect(queued.status).toBe("queued");
        server = await startServerProcess(env);
        continue;
      }
      await sends.text(chat.groupId, `e${i}`);
    }
    await eventually(() => {
      sends.allAcknowledged();
      expect(fay.seen.texts(chat.groupId)).toEqual(range("e", rounds));
    }, 60_000);
    await fay.client.sync();
    expect(fay.seen.texts(chat.groupId)).toEqual(range("e", rounds));
    expect([...eve.seen.errors, ...fay.seen.errors]).toEqual([]);
  }, 180_000);
});
