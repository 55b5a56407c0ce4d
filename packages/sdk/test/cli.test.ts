import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  eventually,
  nextPhone,
  noRateLimits,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = path.join(repoRoot, "packages/sdk/dist/bin/veil-chat.js");

/** A running `veil-chat`, its output so far, and its stdin. */
interface Cli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  write(line: string): void;
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`veil-chat, two terminals [${backend}]`, () => {
    let t: TestServer;
    const root = mkdtempSync(path.join(tmpdir(), "veil-chat-"));
    const running: Cli[] = [];

    const cli = (profile: string, args: string[]): Cli => {
      const child = spawn(
        process.execPath,
        [bin, "--profile-dir", path.join(root, profile), "--server", t.url, ...args],
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
    /** Runs a command to the end; fails with its output if it does not exit 0. */
    const run = async (profile: string, args: string[]): Promise<string> => {
      const c = cli(profile, args);
      c.child.stdin?.end();
      const code = await c.exited;
      if (code !== 0) throw new Error(`veil-chat ${args.join(" ")} exited ${code}:\n${c.output()}`);
      return c.output();
    };
    const register = async (profile: string, name: string, phone: string) => {
      const c = cli(profile, ["register", "--name", name, "--phone", phone]);
      await eventually(() => expect(c.output()).toContain("Code: "));
      c.write([...t.verifier.codes.values()].at(-1) as string);
      expect(await c.exited).toBe(0);
      expect(c.output()).toContain(`Registered ${name}`);
    };

    beforeAll(async () => {
      // The command runs from the built SDK (built once by the global test setup).
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const c of running) if (c.child.exitCode === null) c.child.kill();
      await t?.close();
      rmSync(root, { recursive: true, force: true });
    });

    it("registers two people who then chat end to end from two terminals", async () => {
      const alicePhone = nextPhone();
      const bobPhone = nextPhone();
      await register("alice", "Alice", alicePhone);
      await register("bob", "Bob", bobPhone);
      expect(await run("alice", ["whoami"])).toContain("name:   Alice");

      // Bob opens an interactive chat with Alice by her number.
      const bob = cli("bob", ["chat", alicePhone]);
      await eventually(() => expect(bob.output()).toContain("Chatting with Alice."), 15_000);

      // Alice sends one message from another terminal; it appears live in Bob's.
      expect(await run("alice", ["send", bobPhone, "hello", "Bob"])).toContain("sent to Bob");
      await eventually(() => expect(bob.output()).toContain("Alice: hello Bob"));

      // Bob answers on stdin; Alice's next command picks it up and acknowledges it.
      bob.write("hi Alice");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await run("alice", ["send", bobPhone, "got it"]);
      await eventually(() => expect(bob.output()).toContain('delivered: "hi Alice"'));
      await eventually(() => expect(bob.output()).toContain("Alice: got it"));

      // A profile is one device at a time: a second process on Bob's profile is refused.
      const busy = cli("bob", ["whoami"]);
      expect(await busy.exited).toBe(1);
      expect(busy.output()).toContain("store_locked");

      bob.child.stdin?.end();
      expect(await bob.exited).toBe(0);
      const digits = (output: string) => (output.match(/\b\d{5}\b/g) ?? []).join("");
      const aliceNumber = digits(await run("alice", ["safety-number", bobPhone]));
      expect(aliceNumber).toMatch(/^\d{60}$/);
      expect(digits(await run("bob", ["safety-number", alicePhone]))).toBe(aliceNumber);
    });

    it("runs a community from the command line: invite, join, groups, announcements", async () => {
      const [olgaPhone, anaPhone] = [nextPhone(), nextPhone()];
      await register("olga", "Olga", olgaPhone);
      await register("ana", "Ana", anaPhone);
      const created = await run("olga", ["community", "create", "Riverside", "-d", "Our street"]);
      const communityId = created.match(/\((c_[A-Za-z0-9_-]+)\)/)?.[1] as string;
      expect(communityId).toBeTruthy();
      const code = (await run("olga", ["community", "invite", "riverside"])).split(
        "\n",
      )[0] as string;
      expect(code).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(await run("ana", ["community", "join", code])).toContain('Joined "Riverside"');
      const shown = await run("ana", ["community", "show", "Riverside"]);
      expect(shown).toContain("members: 2");
      expect(shown).toContain("admins:  Olga");
      expect(await run("ana", ["community", "list"])).toContain(
        `${communityId}  Riverside  (member`,
      );

      expect(await run("olga", ["community", "new-group", communityId, "Gardening"])).toContain(
        'Created group "Gardening"',
      );
      expect(await run("ana", ["community", "directory", "Riverside"])).toMatch(
        /Gardening {2}\(1\) {2}-/,
      );
      expect(await run("ana", ["community", "ask", "Riverside", "gardening"])).toContain(
        'Asked to join "Gardening"',
      );
      expect(await run("ana", ["community", "directory", "Riverside"])).toMatch(
        /Gardening {2}\(1\) {2}asked/,
      );

      expect(
        await run("olga", ["community", "announce", "Riverside", "Street", "party!"]),
      ).toContain("Announced to 2 members");
      expect(await run("ana", ["community", "read", "Riverside"])).toContain("Olga: Street party!");
      expect(await run("olga", ["community", "read", "Riverside"])).toContain("me: Street party!");
      expect(
        await run("ana", ["community", "announce", "Riverside", "me", "too"]).catch(String),
      ).toContain("not_community_admin");
      expect(await run("ana", ["community", "leave", "Riverside"])).toContain("Left Riverside.");
      expect(await run("ana", ["community", "list"])).toContain("You are in no community yet.");
    });
  });
}
