import { request } from "node:http";
import net from "node:net";

/** One server node behind the balancer. */
export interface BalancerBackend {
  name: string;
  host: string;
  port: number;
}

export interface BalancerOptions {
  /** How often each node's `/readyz` is asked (default 1000 ms). */
  checkIntervalMs?: number;
  /** How long a connection to a node may take before the next node is tried (default 2000 ms). */
  connectTimeoutMs?: number;
}

interface Tracked extends BalancerBackend {
  ready: boolean;
  connections: number;
}

/**
 * A small TCP load balancer for a local cluster: each incoming connection (HTTP
 * or WebSocket alike) goes to the next node that answered `/readyz`, round
 * robin; a node that refuses a connection is skipped at once, so a node killed
 * without warning costs its clients one reconnect. A production cluster puts
 * HAProxy, nginx or a cloud load balancer here instead, with the same checks.
 */
export class Balancer {
  private readonly nodes: Tracked[];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private readonly checkIntervalMs: number;
  private readonly connectTimeoutMs: number;

  constructor(backends: BalancerBackend[], options: BalancerOptions = {}) {
    this.nodes = backends.map((b) => ({ ...b, ready: false, connections: 0 }));
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Starts the checks and listens; resolves with the port. */
  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.checkIntervalMs);
    this.timer.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Each node: whether it answered its last check, and the connections it holds through here. */
  status(): Array<{ name: string; ready: boolean; connections: number }> {
    return this.nodes.map(({ name, ready, connections }) => ({ name, ready, connections }));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.once("close", () => this.sockets.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    void this.connect(client, this.order());
  }

  /** Ready nodes first, from the next in turn; then the others (a check may be stale). */
  private order(): Tracked[] {
    const start = this.next++ % this.nodes.length;
    const turn = [...this.nodes.slice(start), ...this.nodes.slice(0, start)];
    return [...turn.filter((n) => n.ready), ...turn.filter((n) => !n.ready)];
  }

  private async connect(client: net.Socket, candidates: Tracked[]): Promise<void> {
    for (const node of candidates) {
      if (client.destroyed) return;
      const upstream = await this.open(node);
      if (!upstream) {
        node.ready = false;
        continue;
      }
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      node.connections++;
      this.sockets.add(upstream);
      upstream.once("close", () => {
        node.connections--;
        this.sockets.delete(upstream);
        client.destroy();
      });
      client.once("close", () => upstream.destroy());
      upstream.on("error", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  }

  private open(node: Tracked): Promise<net.Socket | null> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: node.host, port: node.port });
      socket.setNoDelay(true);
      const fail = () => {
        socket.destroy();
        resolve(null);
      };
      const timer = setTimeout(fail, this.connectTimeoutMs);
      socket.once("error", () => {
        clearTimeout(timer);
        fail();
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(socket);
      });
    });
  }

  private async check(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        node.ready = await ready(node, this.connectTimeoutMs);
      }),
    );
  }
}

/** True when the node answers `GET /readyz` with 200 in time. */
export function ready(
  node: Pick<BalancerBackend, "host" | "port">,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: node.host, port: node.port, path: "/readyz", timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(false));
    req.end();
  });
}
