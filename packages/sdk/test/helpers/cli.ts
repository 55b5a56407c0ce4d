import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import type { Backend } from "../../../server/test/helpers/backends.js";
import { eventually, noRateLimits, startTestServer, type TestServer } from "./harness.js";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const bin = path.join(repoRoot, "packages/sdk/dist/bin/veil-chat.js");

/** A running `veil-chat`, its output so far, and its stdin. */
export interface Cli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  write(line: string): void;
}

/** A server and `veil-chat` processes against it, each profile in its own folder. */
export interface CliSuite {
  /** The server (set once the suite's `beforeAll` has run). */
  readonly t: TestServer;
  /** A folder removed after the suite. */
  readonly root: string;
  /** Starts a command and leaves it running. */
  cli(profile: string, args: string[]): Cli;
  /** Runs a command to the end; fails with its output if it does not exit 0. */
  run(profile: string, args: string[]): Promise<string>;
  /** Registers a profile with the code the server's verifier sent. */
  register(profile: string, name: string, phone: string): Promise<void>;
}

/**
 * Sets up a `veil-chat` suite inside the calling `describe`: a fresh server on
 * `backend` before the tests, every process killed and the folder removed after.
 * The command runs from the built SDK (built once by the global test setup).
 */
export function cliSuite(backend: Backend, folderPrefix: string): CliSuite {
  let server: TestServer | undefined;
  const root = mkdtempSync(path.join(tmpdir(), folderPrefix));
  const running: Cli[] = [];
  const t = (): TestServer => {
    if (!server) throw new Error("the suite's server is not started yet");
    return server;
  };

  const cli = (profile: string, args: string[]): Cli => {
    const child = spawn(
      process.execPath,
      [bin, "--profile-dir", path.join(root, profile), "--server", t().url, ...args],
      { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const handle = {
      child,
      output: () => out,
      exited,
      write: (line: string) => child.stdin?.write(`${line}\n`),
    };
    running.push(handle);
    return handle;
  };

  beforeAll(async () => {
    server = await startTestServer({ backend, env: noRateLimits });
  });
  afterAll(async () => {
    for (const c of running) if (c.child.exitCode === null) c.child.kill();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  return {
    get t() {
      return t();
    },
    root,
    cli,
    async run(profile, args) {
      const c = cli(profile, args);
      c.child.stdin?.end();
      const code = await c.exited;
      if (code !== 0) throw new Error(`veil-chat ${args.join(" ")} exited ${code}:\n${c.output()}`);
      return c.output();
    },
    async register(profile, name, phone) {
      const c = cli(profile, ["register", "--name", name, "--phone", phone]);
      await eventually(() => expect(c.output()).toContain("Code: "));
      c.write([...t().verifier.codes.values()].at(-1) as string);
      expect(await c.exited).toBe(0);
      expect(c.output()).toContain(`Registered ${name}`);
    },
  };
}
