import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
/** Built once per run by test/global-setup.ts. */
export const veilBin = `${repoRoot}packages/server/dist/bin/veil.js`;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `veil serve` as its own process and resolves once it listens. */
export function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [veilBin, "serve"], {
    cwd: repoRoot,
    env: { ...process.env, VEIL_HOST: "127.0.0.1", VEIL_PORT: "0", VEIL_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"veil is listening"/.exec(out);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        child,
        output: () => out,
        async stop(signal: NodeJS.Signals = "SIGTERM") {
          if (child.exitCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

export interface ClusterProcess {
  /** The balancer: what clients connect to. */
  url: string;
  output: () => string;
  /** Each node's current process id, by name (node-1, …), as the cluster last started it. */
  pids: () => Map<string, number>;
  /** Signals one node's process (SIGKILL: the cluster starts it again). */
  kill(node: string, signal?: NodeJS.Signals): void;
  /** Resolves once `node` runs a process other than `oldPid` and answers `/readyz`. */
  restarted(node: string, oldPid: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

/** Starts `veil cluster` (nodes on free ports behind its balancer) and resolves once it is ready. */
export function startClusterProcess(
  env: Record<string, string>,
  nodes = 3,
  timeoutMs = 90_000,
): Promise<ClusterProcess> {
  const child = spawn(
    process.execPath,
    [
      veilBin,
      "cluster",
      "--nodes",
      String(nodes),
      "--port",
      "0",
      "--data-dir",
      env.VEIL_DATA_DIR ?? "data/cluster",
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, VEIL_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const pids = new Map<string, number>();
  const urls = new Map<string, string>();
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const lines = (chunk: Buffer) => {
    out += chunk.toString();
    for (const line of chunk.toString().split("\n")) {
      const started = /"node":"(node-\d+)","pid":(\d+),"port":(\d+),"msg":"node started"/.exec(
        line,
      );
      if (started?.[1]) {
        pids.set(started[1], Number(started[2]));
        urls.set(started[1], `http://127.0.0.1:${started[3]}`);
      }
    }
  };
  child.stderr?.on("data", lines);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      for (const pid of pids.values()) process.kill(pid, "SIGKILL");
      reject(new Error(`the cluster did not start:\n${out}`));
    }, timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      lines(chunk);
      const ready = /"url":"(http:\/\/[^"]+)","nodes":.*"msg":"cluster is ready"/.exec(out);
      if (!ready?.[1]) return;
      clearTimeout(timer);
      const url = ready[1];
      resolve({
        url,
        output: () => out,
        pids: () => new Map(pids),
        kill(node, signal = "SIGKILL") {
          const pid = pids.get(node);
          if (pid === undefined) throw new Error(`no ${node} in this cluster`);
          process.kill(pid, signal);
        },
        async restarted(node, oldPid, wait = 60_000) {
          const deadline = Date.now() + wait;
          while (Date.now() < deadline) {
            const pid = pids.get(node);
            const base = urls.get(node);
            if (pid !== undefined && pid !== oldPid && base) {
              const ok = await fetch(`${base}/readyz`).then(
                (r) => r.ok,
                () => false,
              );
              if (ok) return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error(`${node} did not come back:\n${out.slice(-4000)}`);
        },
        async stop() {
          if (child.exitCode === null) child.kill("SIGTERM");
          return exited;
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the cluster exited with ${code}:\n${out}`));
    });
  });
}
