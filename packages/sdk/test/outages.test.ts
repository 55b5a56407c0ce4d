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
import { FaultProxy } from "../../server/test/helpers/fault-proxy.js";
import { type ServerProcess, startServerProcess } from "../../server/test/helpers/processes.js";
import { eventually, noRateLimits } from "./helpers/harness.js";
import { type Member, member, range, Sender } from "./helpers/process-clients.js";

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

describe.skipIf(!postgresAvailable || !natsAvailable)(
  "PostgreSQL or NATS briefly unavailable under two nodes",
  () => {
    const schema = freshSchema();
    const dirs: string[] = [];
    const clients: VeilClient[] = [];
    let database: FaultProxy;
    let broker: FaultProxy;
    let one: ServerProcess;
    let two: ServerProcess;
    let ann: Member;
    let ben: Member;
    let chat: string;
    const output = () => one.output() + two.output();
    // One prefix for both nodes: they are one deployment.
    const prefix = `veiltest_${randomBytes(4).toString("hex")}`;

    beforeAll(async () => {
      database = await FaultProxy.start(hostPort(postgresUrl));
      broker = await FaultProxy.start(hostPort(natsUrl));
      const env = (name: string) => {
        const dir = mkdtempSync(path.join(tmpdir(), "veil-outage-"));
        dirs.push(dir);
        return {
          ...noRateLimits,
          VEIL_DATABASE_URL: database.url(postgresUrl),
          VEIL_DATABASE_SCHEMA: schema,
          VEIL_BUS_URL: broker.url(natsUrl).replace(/\/$/, ""),
          VEIL_BUS_PREFIX: prefix,
          VEIL_DATA_DIR: dir,
          VEIL_WEB_DIR: "none",
          VEIL_NODE_NAME: name,
        };
      };
      one = await startServerProcess(env("one"));
      two = await startServerProcess(env("two"));
      // Ann on node one, Ben on node two: what she writes reaches him over the bus.
      ann = await member(one.url, "Ann", clients, output);
      ben = await member(two.url, "Ben", clients, output);
      await ann.client.api.addContact({ phone: ben.phone });
      chat = (await ann.client.startDirectChat(ben.userId)).groupId;
      await ben.client.waitForChat(chat);
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) await c.stop();
      await one?.stop();
      await two?.stop();
      await database?.cut();
      await broker?.cut();
      await dropSchema(schema);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it("answers storage_unavailable while the database is down, and recovers by itself", async () => {
      const sends = new Sender(ann);
      await sends.text(chat, "before");
      await database.cut();
      // A request that needs the database: a clear, retryable code, no internals.
      const refused = await fetch(`${one.url}/v1/auth/challenges`, { method: "POST" });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toEqual({
        error: {
          code: "storage_unavailable",
          message: "The server cannot reach its database right now; retry shortly.",
        },
      });
      const ready = await fetch(`${one.url}/readyz`);
      expect(ready.status).toBe(503);
      // Written while the database is down: kept in the outbox, not lost.
      expect((await sends.text(chat, "during")).status).toBe("queued");
      await new Promise((r) => setTimeout(r, 1500));
      await database.restore();
      // The outbox tries again by itself (no reconnect needed: the socket stayed up).
      await sends.text(chat, "after");
      await eventually(() => {
        sends.allAcknowledged();
        expect(ben.seen.texts(chat)).toEqual(["before", "during", "after"]);
      }, 30_000);
      expect((await fetch(`${one.url}/readyz`)).status).toBe(200);
      expect(one.child.exitCode).toBeNull();
      expect(two.child.exitCode).toBeNull();
    }, 90_000);

    it("keeps storing while NATS is down, and the other node's clients catch up once it is back", async () => {
      const before = ben.seen.texts(chat).length;
      const sends = new Sender(ann);
      await broker.cut();
      // The database has them: acknowledged at once, though node two hears nothing live.
      for (const text of range("n", 5)) {
        expect((await sends.text(chat, text)).status).toBe("sent");
      }
      await new Promise((r) => setTimeout(r, 1000));
      await broker.restore();
      await eventually(() => {
        expect(ben.seen.texts(chat).slice(before)).toEqual(range("n", 5));
      }, 30_000);
      await eventually(() =>
        expect(output()).toMatch(/"msg":"bus reconnected; asking clients to catch up"/),
      );
      // Live again across the nodes.
      await sends.text(chat, "live");
      await eventually(() => expect(ben.seen.texts(chat).at(-1)).toBe("live"), 30_000);
      await ben.client.sync();
      expect(ben.seen.texts(chat).slice(before)).toEqual([...range("n", 5), "live"]);
      for (const who of [ann, ben]) expect(who.seen.errors).toEqual([]);
    }, 90_000);
  },
);
