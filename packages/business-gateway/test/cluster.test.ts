import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { VeilClient } from "@veil/sdk/node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { member } from "../../sdk/test/helpers/process-clients.js";
import {
  dropSchema,
  freshSchema,
  natsAvailable,
  natsUrl,
  postgresAvailable,
  postgresUrl,
} from "../../server/test/helpers/backends.js";
import { type ClusterProcess, startClusterProcess } from "../../server/test/helpers/processes.js";
import { noRateLimits } from "../../server/test/helpers/test-server.js";
import { loadConfig } from "../src/config.js";
import { createGateway, type Gateway } from "../src/gateway.js";
import {
  adminKey,
  appSecret,
  deliveredMessages,
  eventually,
  Receiver,
  verifyToken,
} from "./helpers/harness.js";

/** The code a node's console verifier logged for this verification. */
async function loggedCode(cluster: ClusterProcess, verificationId: string): Promise<string> {
  const logged = new RegExp(`"verificationId":"${verificationId}","code":"(\\d{6})"`);
  return eventually(() => {
    const code = logged.exec(cluster.output())?.[1];
    if (!code) throw new Error("no code logged yet");
    return code;
  });
}

describe.skipIf(!postgresAvailable || !natsAvailable)(
  "a business gateway on a 3-node cluster",
  () => {
    const schema = freshSchema();
    const dirs = [
      mkdtempSync(path.join(tmpdir(), "veil-cluster-")),
      mkdtempSync(path.join(tmpdir(), "veil-business-")),
    ];
    const clients: VeilClient[] = [];
    const receiver = new Receiver();
    const phone = `+1415557${String(Math.floor(Math.random() * 9000) + 1000)}`;
    let cluster: ClusterProcess;
    let gateway: Gateway;
    let gatewayUrl: string;

    const call = async (method: string, urlPath: string, body?: unknown) => {
      const response = await fetch(`${gatewayUrl}${urlPath}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };

    beforeAll(async () => {
      cluster = await startClusterProcess({
        ...noRateLimits,
        VEIL_DATABASE_URL: postgresUrl,
        VEIL_DATABASE_SCHEMA: schema,
        VEIL_BUS_URL: natsUrl,
        VEIL_BUS_PREFIX: `veiltest_${randomBytes(4).toString("hex")}`,
        VEIL_DATA_DIR: dirs[0] as string,
        VEIL_WEB_DIR: "none",
      });
      // The gateway talks to the cluster through its balancer, like any client.
      gateway = await createGateway(
        loadConfig({
          VEIL_BUSINESS_SERVER_URL: cluster.url,
          VEIL_BUSINESS_DATA_DIR: dirs[1],
          VEIL_BUSINESS_HOST: "127.0.0.1",
          VEIL_BUSINESS_PORT: "0",
          VEIL_BUSINESS_APP_SECRET: appSecret,
          VEIL_BUSINESS_VERIFY_TOKEN: verifyToken,
          VEIL_BUSINESS_ADMIN_KEY: adminKey,
          VEIL_BUSINESS_ALLOW_PRIVATE_WEBHOOKS: "true",
          VEIL_BUSINESS_NAME: "Acme Support",
          VEIL_BUSINESS_RATE_LIMIT_PER_MINUTE: "1000000",
        }),
        {
          logger: pino({ level: "silent" }),
          retryPolicy: { baseMs: 50, capMs: 300, windowMs: 60_000, timeoutMs: 2000 },
          pollMs: 50,
          client: { reconnect: { minDelayMs: 50, maxDelayMs: 500 }, keyPackageTarget: 12 },
          register: async (client) => {
            const { verificationId } = await client.requestPhoneVerification(phone);
            const code = await loggedCode(cluster, verificationId);
            await client.register({ name: "Acme Support", phone: { verificationId, code } });
          },
        },
      );
      gatewayUrl = await gateway.listen();
      await receiver.start();
      expect((await call("POST", "/admin/webhooks", { url: receiver.url })).status).toBe(201);
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) await c.stop();
      await gateway?.close();
      await receiver.stop();
      await cluster?.stop();
      await dropSchema(schema);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    it("delivers a customer's messages as webhooks and the business's reply, with a node killed between", async () => {
      const carol = await member(cluster.url, "Carol", clients, cluster.output);
      await carol.client.api.addContact({ phone });
      const chat = await carol.client.startDirectChat(gateway.client.userId as string);
      await carol.client.sendText(chat.groupId, "first question");
      await eventually(() => expect(deliveredMessages(receiver)).toHaveLength(1), 30_000);

      // A node dies with its sockets (perhaps the gateway's, perhaps Carol's).
      const pid = cluster.pids().get("node-2") as number;
      cluster.kill("node-2", "SIGKILL");
      await carol.client.sendText(chat.groupId, "second question");
      await cluster.restarted("node-2", pid);
      await carol.client.sendText(chat.groupId, "third question");

      await eventually(() => {
        expect(deliveredMessages(receiver).map((m) => m.text.body)).toEqual([
          "first question",
          "second question",
          "third question",
        ]);
      }, 60_000);
      expect(receiver.forged).toEqual([]);

      const sent = await call("POST", `/v21.0/${gateway.phoneNumberId}/messages`, {
        messaging_product: "whatsapp",
        to: carol.userId,
        type: "text",
        text: { body: "Answered, across the nodes." },
      });
      expect(sent.status).toBe(200);
      await eventually(
        () => expect(carol.seen.texts(chat.groupId)).toEqual(["Answered, across the nodes."]),
        30_000,
      );
      expect(carol.seen.errors).toEqual([]);
    }, 180_000);
  },
);
