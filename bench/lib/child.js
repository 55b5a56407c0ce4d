import { fork } from "node:child_process";

/** Every server process the harness started and has not seen exit. */
const live = new Set();

/** Kills every child still running. Safe to call more than once, from any exit path. */
export function killAll() {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

process.on("exit", killAll);

/**
 * A server under test in its own process, so that its CPU and memory are
 * measured apart from the load generator. Talks to the harness over IPC:
 * requests `{ id, type, ... }`, replies `{ id, result }` or `{ id, error }`.
 */
export class Child {
  /** Forks `script`, waits for its `{ type: "listening", url }` message. */
  static async start(name, script, { env, execArgv = [], startTimeoutMs = 30_000 }) {
    const proc = fork(script, [], {
      env,
      execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    live.add(proc);
    const child = new Child(name, proc);
    const ready = await child.#waitForType("listening", startTimeoutMs);
    child.url = ready.url;
    return child;
  }

  #pending = new Map();
  #typeWaiters = new Map();
  #nextId = 1;
  #exit = null;

  constructor(name, proc) {
    this.name = name;
    this.proc = proc;
    this.pid = proc.pid;
    this.url = "";
    proc.on("message", (message) => this.#onMessage(message));
    proc.on("exit", (code, signal) => {
      live.delete(proc);
      this.#exit = { code, signal };
      const error = new Error(`${name} (pid ${proc.pid}) exited (code ${code}, signal ${signal})`);
      for (const { reject } of this.#pending.values()) reject(error);
      for (const { reject } of this.#typeWaiters.values()) reject(error);
      this.#pending.clear();
      this.#typeWaiters.clear();
    });
  }

  #onMessage(message) {
    if (message && typeof message.id === "number") {
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${this.name}: ${message.error}`));
      else waiter.resolve(message.result);
      return;
    }
    const waiter = message && this.#typeWaiters.get(message.type);
    if (waiter) {
      this.#typeWaiters.delete(message.type);
      waiter.resolve(message);
    }
  }

  #waitForType(type, timeoutMs) {
    if (this.#exit) return Promise.reject(new Error(`${this.name} has exited`));
    return withTimeout(
      new Promise((resolve, reject) => this.#typeWaiters.set(type, { resolve, reject })),
      timeoutMs,
      `${this.name}: no "${type}" message within ${timeoutMs} ms`,
    );
  }

  /** Sends a control request; rejects on error, on timeout, or if the child exits. */
  request(type, body = {}, timeoutMs = 60_000) {
    if (this.#exit) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.#nextId++;
    const reply = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.proc.send({ ...body, id, type });
    return withTimeout(reply, timeoutMs, `${this.name}: "${type}" timed out after ${timeoutMs} ms`);
  }

  /** Asks the child to shut down gracefully; kills it if it has not exited in time. */
  async stop(timeoutMs = 10_000) {
    if (this.#exit) return;
    const exited = new Promise((resolve) => this.proc.once("exit", resolve));
    this.request("close", {}, timeoutMs).catch(() => {});
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
