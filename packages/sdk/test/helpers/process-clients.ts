import net from "node:net";
import { MemoryStore, nodeWebSocket, type SendResult, VeilClient } from "@veil/sdk/node";
import { expect } from "vitest";
import { eventually, nextPhone, Recorder } from "./harness.js";

/**
 * Clients of servers running as their own processes (a cluster's balancer, a node
 * killed and started again), where no in-process test server captures phone codes.
 */
export interface Member {
  name: string;
  phone: string;
  client: VeilClient;
  seen: Recorder;
  userId: string;
  /** Channel posts shown, by text, and how often each was shown as new. */
  posts: Map<string, number>;
  /** How often its connection dropped. */
  drops: { count: number };
}

/** The code a server's console verifier logged for this verification. */
export function loggedCode(output: () => string, verificationId: string): Promise<string> {
  const logged = new RegExp(`"verificationId":"${verificationId}","code":"(\\d{6})"`);
  return eventually(() => {
    const code = logged.exec(output())?.[1];
    if (!code) throw new Error("no code logged yet");
    return code;
  });
}

/**
 * Registers (with a number verified by the code the node logs, as its console
 * verifier does) and starts one device on `url`, a balancer or a node.
 */
export async function member(
  url: string,
  name: string,
  clients: VeilClient[],
  output: () => string,
): Promise<Member> {
  const client = await VeilClient.open({
    serverUrl: url,
    store: new MemoryStore(),
    webSocket: nodeWebSocket,
    keyPackageTarget: 12,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  });
  clients.push(client);
  const seen = new Recorder(client);
  const posts = new Map<string, number>();
  const drops = { count: 0 };
  client.on("connection", (e) => {
    if (e.state === "disconnected") drops.count++;
  });
  client.on("channel-post", (e) => {
    if (!e.edited && e.post.text) posts.set(e.post.text, (posts.get(e.post.text) ?? 0) + 1);
  });
  const phone = nextPhone();
  const { verificationId } = await client.requestPhoneVerification(phone);
  const code = await loggedCode(output, verificationId);
  await client.register({ name, phone: { verificationId, code } });
  await client.start();
  return { name, phone, client, seen, userId: client.userId as string, posts, drops };
}

/**
 * Sends with the SDK, as an app does, and records what the server acknowledged:
 * at once (`sent`) or later, when the outbox got it through (`sent` event).
 */
export class Sender {
  readonly acknowledged = new Set<string>();
  private readonly written: Array<{ id: string; text: string }> = [];

  constructor(private readonly who: Member) {
    who.client.on("sent", (e) => this.acknowledged.add(e.id));
  }

  async text(groupId: string, text: string): Promise<SendResult> {
    const result = await this.who.client.sendText(groupId, text);
    this.written.push({ id: result.id, text });
    if (result.status === "sent") this.acknowledged.add(result.id);
    return result;
  }

  /** The ids of the messages written, in order. */
  ids(): string[] {
    return this.written.map((w) => w.id);
  }

  /** Every message written was acknowledged in the end (the outbox kept trying). */
  allAcknowledged(): void {
    expect(this.written.filter((w) => !this.acknowledged.has(w.id)).map((w) => w.text)).toEqual([]);
  }
}

export const range = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** A free loopback port, so a restarted server can listen where its clients reconnect. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
