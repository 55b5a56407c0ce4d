import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TestUser } from "./helpers/client.js";
import { repoRoot, startServerProcess, veilBin } from "./helpers/processes.js";

describe("the veil command line", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "veil-cli-"));
  const veil = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [veilBin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, VEIL_DATA_DIR: dataDir, VEIL_LOG_LEVEL: "silent", ...env },
      encoding: "utf8",
    });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("explains itself with --help", () => {
    const top = veil(["--help"]);
    expect(top.status).toBe(0);
    for (const command of ["serve", "migrate", "admin"]) expect(top.stdout).toContain(command);
    const admin = veil(["admin", "--help"]);
    for (const command of ["grant", "revoke", "list"]) expect(admin.stdout).toContain(command);
  });

  it("migrates the embedded database, once", () => {
    expect(veil(["migrate"]).stdout).toContain("applied: 0001-accounts");
    expect(veil(["migrate"]).stdout).toContain("database is up to date");
  });

  it("refuses a bad configuration with one clear line per bad value", () => {
    const bad = veil(["serve"], { VEIL_PORT: "http", VEIL_BUS_URL: "redis://x" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('VEIL_PORT: must be an integer from 0 to 65535 (got "http")');
    expect(bad.stderr).toContain("VEIL_BUS_URL: must be a URL starting with nats:// or tls://");
  });

  it("grants, lists and revokes platform roles", async () => {
    const server = await startServerProcess({ VEIL_DATA_DIR: dataDir });
    const user = await TestUser.register(server.url, { name: "Operator" });
    expect(await server.stop()).toBe(0);

    expect(veil(["admin", "list"]).stdout).toContain("no platform roles granted");
    expect(veil(["admin", "grant", user.id, "moderator"]).stdout).toContain(
      `granted moderator to ${user.id}`,
    );
    expect(veil(["admin", "list"]).stdout).toContain(`${user.id}\tmoderator`);
    const wrongRole = veil(["admin", "grant", user.id, "king"]);
    expect(wrongRole.status).toBe(1);
    expect(wrongRole.stderr).toContain("role must be one of: admin, moderator");
    const unknown = veil(["admin", "grant", "u_AAAAAAAAAAAAAAAAAAAAAA", "admin"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("user_not_found");
    expect(veil(["admin", "revoke", user.id]).status).toBe(0);
    expect(veil(["admin", "list"]).stdout).toContain("no platform roles granted");
  });
});
