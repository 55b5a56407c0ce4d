import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { Balancer, ready } from "./balancer.js";

export interface ClusterOptions {
  /** How many server nodes (each its own process). */
  nodes: number;
  /** Where the balancer listens; nodes take the ports after it (0: free ports). */
  host: string;
  port: number;
  /** Each node's own data directory goes under here; attachments are shared (`blobs/`). */
  dataDir: string;
  /** The `veil` command's script: each node runs `veil serve`. */
  script: string;
  /** The environment every node gets (PostgreSQL, NATS and the rest of the configuration). */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** How long after an unexpected exit a node is started again (default 1000 ms). */
  restartDelayMs?: number;
  /** How long a node may take to answer `/readyz` after it starts (default 60 000 ms). */
  startTimeoutMs?: number;
}

interface Node {
  name: string;
  port: number;
  child: ChildProcess | null;
  exited: Promise<void>;
}

/**
 * A local cluster: N `veil serve` processes on one PostgreSQL and one NATS,
 * behind a round-robin balancer. A node that exits without being asked to
 * (killed, crashed) is started again; its clients reconnect through the
 * balancer to the other nodes meanwhile and catch up from their cursors.
 */
export class Cluster {
  private readonly nodes: Node[] = [];
  private balancer: Balancer | null = null;
  private stopping = false;
  url = "";

  constructor(private readonly options: ClusterOptions) {}

  async start(): Promise<void> {
    const { options } = this;
    const ports = await nodePorts(options.host, options.port, options.nodes);
    mkdirSync(path.join(options.dataDir, "blobs"), { recursive: true });
    for (let i = 0; i < options.nodes; i++) {
      const node: Node = {
        name: `node-${i + 1}`,
        port: ports.nodes[i] as number,
        child: null,
        exited: Promise.resolve(),
      };
      this.nodes.push(node);
      this.spawn(node);
    }
    await Promise.all(this.nodes.map((node) => this.waitReady(node)));
    this.balancer = new Balancer(
      this.nodes.map((n) => ({ name: n.name, host: "127.0.0.1", port: n.port })),
    );
    const port = await this.balancer.listen(ports.balancer, options.host);
    this.url = `http://${options.host}:${port}`;
  }

  /** Each node's name, process id and address, and whether the balancer sees it ready. */
  status(): Array<{ name: string; pid: number | null; url: string; ready: boolean }> {
    const seen = new Map(this.balancer?.status().map((s) => [s.name, s.ready]));
    return this.nodes.map((n) => ({
      name: n.name,
      pid: n.child?.pid ?? null,
      url: `http://127.0.0.1:${n.port}`,
      ready: seen.get(n.name) ?? false,
    }));
  }

  /** Stops the balancer, then every node gracefully (SIGTERM: each drains first). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.balancer?.close();
    for (const node of this.nodes) node.child?.kill("SIGTERM");
    await Promise.all(this.nodes.map((n) => n.exited));
  }

  private spawn(node: Node): void {
    const { options } = this;
    const child = spawn(process.execPath, [options.script, "serve"], {
      env: {
        ...options.env,
        VEIL_HOST: "127.0.0.1",
        VEIL_PORT: String(node.port),
        VEIL_NODE_NAME: node.name,
        VEIL_DATA_DIR: path.join(options.dataDir, node.name),
        VEIL_BLOB_DIR: options.env.VEIL_BLOB_DIR ?? path.join(options.dataDir, "blobs"),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    node.child = child;
    options.logger.info({ node: node.name, pid: child.pid, port: node.port }, "node started");
    node.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        resolve();
        if (this.stopping) return;
        options.logger.warn({ node: node.name, code, signal }, "node exited; starting it again");
        setTimeout(() => {
          if (!this.stopping) this.spawn(node);
        }, options.restartDelayMs ?? 1000).unref();
      });
    });
  }

  private async waitReady(node: Node): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (node.child?.exitCode !== null && node.child?.exitCode !== undefined) {
        throw new Error(`${node.name} exited with code ${node.child.exitCode} while starting`);
      }
      if (await ready({ host: "127.0.0.1", port: node.port }, 1000)) return;
      await sleep(200);
    }
    throw new Error(`${node.name} was not ready in time`);
  }
}

/** The balancer's port and the nodes': the ones after it, or free ones when it is 0. */
async function nodePorts(
  host: string,
  port: number,
  count: number,
): Promise<{ balancer: number; nodes: number[] }> {
  if (port !== 0) {
    return { balancer: port, nodes: Array.from({ length: count }, (_, i) => port + 1 + i) };
  }
  const nodes = await Promise.all(Array.from({ length: count }, () => freePort("127.0.0.1")));
  return { balancer: await freePort(host), nodes };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
