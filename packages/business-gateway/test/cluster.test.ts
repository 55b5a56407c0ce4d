import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { VeilClient } from "@veil/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loggedCode, member } from "../../sdk/test/helpers/process-clients.js";
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
import {
  deliveredMessages,
  eventually,
  type GatewayPlace,
  gatewayPlace,
  Receiver,
  type RunningGateway,
  runGateway,
} from "./helpers/harness.js";

describe.skipIf(!postgresAvailable || !natsAvailable)(
  "a business gateway on a 3-node cluster",
  () => {
    const schema = freshSchema();
    const dataDir = mkdtempSync(path.join(tmpdir(), "veil-cluster-"));
    const clients: VeilClient[] = [];
    const receiver = new Receiver();
    let cluster: ClusterProcess;
    let place: GatewayPlace;
    let gw: RunningGateway;

    beforeAll(async () => {
      cluster = await startClusterProcess({
        ...noRateLimits,
        VEIL_DATABASE_URL: postgresUrl,
        VEIL_DATABASE_SCHEMA: schema,
        VEIL_BUS_URL: natsUrl,
        VEIL_BUS_PREFIX: `veiltest_${randomBytes(4).toString("hex")}`,
        VEIL_DATA_DIR: dataDir,
        VEIL_WEB_DIR: "none",
      });
      // The gateway talks to the cluster through its balancer, like any client.
      place = gatewayPlace({ url: cluster.url }, "sqlite");
      gw = await runGateway({ url: cluster.url }, place, {
        register: async (client) => {
          const { verificationId } = await client.requestPhoneVerification(place.phone);
          const code = await loggedCode(cluster.output, verificationId);
          await client.register({ name: "Acme Support", phone: { verificationId, code } });
        },
      });
      await receiver.start();
      const subscribed = await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } });
      expect(subscribed.status).toBe(201);
    }, 120_000);

    afterAll(async () => {
      for (const c of clients) await c.stop();
      await gw?.gateway.close();
      await place?.dispose();
      await receiver.stop();
      await cluster?.stop();
      await dropSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("delivers a customer's messages as webhooks and the business's reply, with a node killed between", async () => {
      const carol = await member(cluster.url, "Carol", clients, cluster.output);
      await carol.client.api.addContact({ phone: place.phone });
      const chat = await carol.client.startDirectChat(gw.userId);
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

      const sent = await gw.call("POST", `/v21.0/${gw.gateway.phoneNumberId}/messages`, {
        body: {
          messaging_product: "whatsapp",
          to: carol.userId,
          type: "text",
          text: { body: "Answered, across the nodes." },
        },
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
