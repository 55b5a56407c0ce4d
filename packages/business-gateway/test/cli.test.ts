import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminKey,
  appSecret,
  startTestServer,
  type TestServer,
  verifyToken,
} from "./helpers/harness.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = path.join(repoRoot, "packages/business-gateway/dist/bin/veil-business.js");

/** Runs `veil-business serve` until it prints its URL (or exits). */
function serve(env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, "serve"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
  listening.catch(() => undefined);
  return { child, exited, listening, stderr: () => err, stdout: () => out };
}

describe("veil-business serve", () => {
  let t: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    execFileSync("npx", ["tsc", "-b", "packages/business-gateway"], { cwd: repoRoot });
    t = await startTestServer({ backend: "sqlite" });
    dataDir = mkdtempSync(path.join(tmpdir(), "veil-business-cli-"));
  });

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await t?.close();
  });

  it("refuses a bad configuration with one line per bad value", async () => {
    const run = serve({ VEIL_BUSINESS_SERVER_URL: "nope", VEIL_BUSINESS_PORT: "x" });
    expect(await run.exited).toBe(2);
    expect(run.stderr().trim().split("\n")).toEqual([
      "veil-business: VEIL_BUSINESS_SERVER_URL must be an http:// or https:// URL",
      "veil-business: VEIL_BUSINESS_PORT must be a port number (0-65535)",
      "veil-business: VEIL_BUSINESS_APP_SECRET is required",
      "veil-business: VEIL_BUSINESS_VERIFY_TOKEN is required",
      "veil-business: VEIL_BUSINESS_ADMIN_KEY is required",
    ]);
  });

  it("registers on first run, serves the API and stops on SIGTERM", async () => {
    const env = {
      VEIL_BUSINESS_SERVER_URL: t.url,
      VEIL_BUSINESS_DATA_DIR: dataDir,
      VEIL_BUSINESS_PORT: "0",
      VEIL_BUSINESS_APP_SECRET: appSecret,
      VEIL_BUSINESS_VERIFY_TOKEN: verifyToken,
      VEIL_BUSINESS_ADMIN_KEY: adminKey,
      VEIL_BUSINESS_NAME: "Acme",
      VEIL_BUSINESS_LOG_LEVEL: "silent",
    };
    const first = serve(env);
    const url = await first.listening;
    const docs = await fetch(`${url}/docs/json`);
    expect(docs.status).toBe(200);
    const keys = await fetch(`${url}/admin/api-keys`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(await keys.json()).toEqual({ keys: [] });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // The second run resumes the same device: the same phone-number id.
    const second = serve(env);
    await second.listening;
    const idOf = (text: string) => /phone-number id (\d+)/.exec(text)?.[1];
    expect(idOf(second.stdout())).toMatch(/^\d{15}$/);
    expect(idOf(second.stdout())).toBe(idOf(first.stdout()));
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
