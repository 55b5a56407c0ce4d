#!/usr/bin/env node
// announcement-group-commit: what the announcement group saves, measured on
// the alternative. ONE MLS commit adds 1000 people to a group linked into a
// community (the community path: the server admits each of them to the
// community and its announcement group in the same transaction), and an
// existing member's device processes that commit, as every member device of
// an ordinary group must. In the announcement group the same 1000 joins cost
// the other members' devices nothing (see announcement-fanout).
//
// Usage, after `npm run build`:
//   node bench/scenarios/announcement-group-commit.js [--adds 1000] [--reps 3] [--json FILE] [--write]
// --write rewrites its section of docs/benchmarks.md (`npm run bench` does).
// SQLite in a fresh temporary directory; the server runs in its own process.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  createGroup,
  generateKeyPackage,
  joinGroup,
  loadSuite,
} from "../../packages/crypto/dist/index.js";
import { Child, killAll } from "../lib/child.js";
import { call, pool, registerUser, verifiedPhone } from "../lib/clients.js";
import { cpuMicros, median } from "../lib/stats.js";

const claimBatch = 50; // the most user ids one claim takes
const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
const phoneOf = (i) => `+1415557${String(i).padStart(4, "0")}`;

/** A user with a verified number and one key package made by @veil/crypto (kept, to join with). */
async function person(ctx, name, i) {
  const { veil, suite } = ctx;
  const user = await registerUser(veil.url, name, await verifiedPhone(veil, phoneOf(i)));
  const bundle = await generateKeyPackage(suite, user.deviceId);
  await call(veil.url, "POST", "/v1/key-packages", 200, {
    token: user.token,
    body: { keyPackages: [b64(bundle.publicKeyPackage)] },
  });
  return { ...user, phone: phoneOf(i), bundle };
}

/** Claims one key package of each user, 50 users per request (the admin must see them). */
async function claim(ctx, admin, users) {
  const out = [];
  for (let i = 0; i < users.length; i += claimBatch) {
    const { devices } = await call(ctx.veil.url, "POST", "/v1/key-packages/claim", 200, {
      token: admin.token,
      body: { userIds: users.slice(i, i + claimBatch).map((u) => u.id) },
    });
    out.push(...devices);
  }
  return out;
}

/** Posts a commit made by @veil/crypto; the server checks it names exactly these devices. */
function postCommit(ctx, admin, groupId, epoch, result, devices) {
  return call(ctx.veil.url, "POST", `/v1/groups/${groupId}/commits`, 201, {
    token: admin.token,
    body: {
      epoch,
      commit: b64(result.commit),
      welcome: b64(result.welcome),
      addDevices: devices.map((d) => d.deviceId),
    },
  });
}

/** Median milliseconds of `reps` runs of `work` (a Group is immutable: the same input each time). */
async function timed(reps, work) {
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    await work();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

/**
 * The scenario: a community, a standalone group of its admin and one member
 * (real MLS state on both sides), linked into the community; then one commit
 * adding `adds` users who are not in the community yet.
 */
export async function announcementGroupCommit(ctx) {
  const { veil, log, options } = ctx;
  const base = veil.url;
  let started = performance.now();
  const admin = await person(ctx, "Community admin", 9990);
  const member = await person(ctx, "Existing member", 9991);
  const newcomers = await pool(
    Array.from({ length: options.adds }, (_, i) => i),
    options.concurrency,
    (i) => person(ctx, `Newcomer ${i}`, i),
  );
  log(
    `${options.adds + 2} users registered in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  // The admin may claim the key packages only of users it can see: it finds them by number.
  await pool([member, ...newcomers], options.concurrency, (u) =>
    call(base, "POST", "/v1/lookup/phone", 200, { token: admin.token, body: { phone: u.phone } }),
  );

  const community = await call(base, "POST", "/v1/communities", 201, {
    token: admin.token,
    body: { name: "Bench community" },
  });
  const group = await call(base, "POST", "/v1/groups", 201, {
    token: admin.token,
    body: { kind: "group" },
  });
  let adminGroup = await createGroup(ctx.suite, group.id, admin.deviceId, admin.bundle);
  const [memberPackage] = await claim(ctx, admin, [member]);
  const first = await adminGroup.add([Buffer.from(memberPackage.keyPackage, "base64url")]);
  await postCommit(ctx, admin, group.id, 0, first, [memberPackage]);
  adminGroup = first.next;
  const memberGroup = await joinGroup(
    ctx.suite,
    first.welcome,
    member.bundle.privateKeyPackage,
    member.bundle.publicKeyPackage,
  );
  const linked = await call(base, "POST", `/v1/communities/${community.id}/links`, 200, {
    token: admin.token,
    body: { groupId: group.id },
  });
  if (linked.status !== "linked") throw new Error(`the group was ${linked.status}, not linked`);

  // The commit: built on the admin's device, accepted by the server (timed), processed by the member.
  const claimed = await claim(ctx, admin, newcomers);
  started = performance.now();
  const big = await adminGroup.add(claimed.map((d) => Buffer.from(d.keyPackage, "base64url")));
  const buildMs = performance.now() - started;
  const before = await veil.request("usage");
  const statementsBefore = (await veil.request("stats")).statements;
  started = performance.now();
  await postCommit(ctx, admin, group.id, Number(adminGroup.epoch), big, claimed);
  const acceptMs = performance.now() - started;
  const after = await veil.request("usage");
  const statements = (await veil.request("stats")).statements - statementsBefore;
  const view = await call(base, "GET", `/v1/communities/${community.id}`, 200, {
    token: admin.token,
  });
  if (view.memberCount !== options.adds + 2) {
    throw new Error(`the community has ${view.memberCount} members, expected ${options.adds + 2}`);
  }

  // The existing member's device: the commit through our fast provider (the SDK's) and ts-mls's default.
  const processing = {};
  for (const provider of ["fast", "default"]) {
    const suite = await loadSuite(ctx.suiteName, provider);
    const device = await joinGroup(
      suite,
      first.welcome,
      member.bundle.privateKeyPackage,
      member.bundle.publicKeyPackage,
    );
    processing[provider] = await timed(options.reps, () => device.process(big.commit));
  }
  const processed = await memberGroup.process(big.commit);
  if (processed.next.members().length !== options.adds + 2) {
    throw new Error("the member's device does not see every device added");
  }
  const result = {
    adds: options.adds,
    groupMembers: options.adds + 2,
    communityMembers: view.memberCount,
    commitBytes: big.commit.length,
    welcomeBytes: big.welcome.length,
    adminBuildMs: buildMs,
    server: {
      ms: acceptMs,
      cpuMs: cpuMicros(before.cpu, after.cpu) / 1000,
      statements,
    },
    memberProcessMs: processing,
  };
  log(
    `one commit adding ${options.adds} to a community group: server ${acceptMs.toFixed(0)} ms ` +
      `(${result.server.cpuMs.toFixed(0)} ms CPU, ${statements} SQL statements); ` +
      `an existing member's device processes it in ${processing.fast.toFixed(0)} ms ` +
      `(fast provider; ${processing.default.toFixed(0)} ms with ts-mls's default); ` +
      `commit ${(result.commitBytes / 1024).toFixed(0)} KiB, built in ${buildMs.toFixed(0)} ms`,
  );
  return result;
}

async function main() {
  const { values } = parseArgs({
    options: {
      adds: { type: "string", default: "1000" },
      reps: { type: "string", default: "3" },
      concurrency: { type: "string", default: "50" },
      json: { type: "string" },
      write: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "node bench/scenarios/announcement-group-commit.js [--adds 1000] [--reps 3] [--json FILE] [--write]",
    );
    return;
  }
  const options = {
    adds: Number(values.adds),
    reps: Number(values.reps),
    concurrency: Number(values.concurrency),
  };
  if (!Number.isInteger(options.adds) || options.adds < 1 || options.adds > 1020) {
    throw new Error("--adds must be an integer from 1 to 1020 (the group limit is 1024)");
  }
  const began = performance.now();
  const log = (message) =>
    console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s] ${message}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "veil-bench-community-commit-"));
  const unlimited = "1000000";
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("VEIL_")),
  );
  const veil = await Child.start(
    "veil",
    path.resolve(import.meta.dirname, "../servers/veil-server.js"),
    {
      env: {
        ...env,
        VEIL_HOST: "127.0.0.1",
        VEIL_PORT: "0",
        VEIL_DATA_DIR: dataDir,
        VEIL_LOG_LEVEL: "warn",
        VEIL_RATE_LIMIT_PER_MINUTE: unlimited,
        VEIL_LOOKUP_LIMIT_PER_ACCOUNT: unlimited,
        VEIL_LOOKUP_LIMIT_PER_ADDRESS: unlimited,
        VEIL_VERIFICATION_LIMIT_PER_ADDRESS: unlimited,
      },
      execArgv: ["--expose-gc"],
    },
  );
  try {
    const suiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
    const cpus = os.cpus();
    const machine =
      `Node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? "cpu"}, ` +
      `load average ${os.loadavg()[0].toFixed(2)} at the start, SQLite`;
    log(machine);
    const result = await announcementGroupCommit({
      veil,
      log,
      options,
      suiteName,
      suite: await loadSuite(suiteName, "fast"),
    });
    if (values.write) await writeSection(result, machine);
    if (values.json) {
      await writeFile(
        values.json,
        JSON.stringify({ at: new Date().toISOString(), node: process.version, ...result }, null, 2),
      );
    }
  } finally {
    await veil.stop();
    killAll();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sectionStart = "<!-- bench:group-commit:start -->";
const sectionEnd = "<!-- bench:group-commit:end -->";

/** Rewrites this scenario's section of docs/benchmarks.md. */
async function writeSection(r, machine) {
  const file = path.resolve(import.meta.dirname, "../../docs/benchmarks.md");
  const text = await readFile(file, "utf8");
  const at = text.indexOf(sectionStart);
  const until = text.indexOf(sectionEnd);
  if (at < 0 || until < at) throw new Error(`${file}: the markers ${sectionStart} … are missing`);
  const ms = (n) => `${Math.round(n).toLocaleString("en-US")} ms`;
  const kib = (n) => `${Math.round(n / 1024).toLocaleString("en-US")} KiB`;
  const section = [
    `From \`node bench/scenarios/announcement-group-commit.js --write\` (${machine}; read the`,
    "ratios rather than the milliseconds): one commit adding",
    `${r.adds.toLocaleString("en-US")} people to a community group of 2.`,
    "",
    "| measure | value |",
    "| --- | ---: |",
    `| server: accepting the commit (wall) | ${ms(r.server.ms)} |`,
    `| server: CPU for it | ${ms(r.server.cpuMs)} |`,
    `| server: SQL statements for it | ${r.server.statements.toLocaleString("en-US")} (about ${Math.round(r.server.statements / r.adds)} per person added, the community admission included) |`,
    `| commit / welcome size | ${kib(r.commitBytes)} / ${kib(r.welcomeBytes)} |`,
    `| admin's device: building the commit | ${ms(r.adminBuildMs)} |`,
    `| **each existing member's device: processing it** (fast provider, what the SDK uses) | **${ms(r.memberProcessMs.fast)}** |`,
    `| the same with ts-mls's default provider | ${ms(r.memberProcessMs.default)} |`,
  ].join("\n");
  await writeFile(
    file,
    `${text.slice(0, at + sectionStart.length)}\n${section}\n${text.slice(until)}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((error) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
}
