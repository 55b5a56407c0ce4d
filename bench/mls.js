#!/usr/bin/env node
// Client-side MLS costs through @veil/crypto, with our fast provider (node:crypto) against
// ts-mls's default provider (WebCrypto and noble), measured in the same run, interleaved.
//
// Usage, after `npx tsc -b packages/crypto`:
//   node bench/mls.js                     sizes 100 and 1000
//   node bench/mls.js --with-5000         adds 5000 members (minutes with the default provider)
//   node bench/mls.js --sizes 100 --reps 5 --messages 5000 --json results.json
//
// Every timed step runs `--reps` times from the same inputs (Groups are immutable, so the
// same commit can be built or processed again) and the median is reported; a small group is
// run through every step first so that both providers are warmed up.
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  createGroup,
  generateKeyPackage,
  joinGroup,
  loadSuite,
  restoreGroup,
} from "../packages/crypto/dist/index.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000" },
    "with-5000": { type: "boolean", default: false },
    reps: { type: "string", default: "3" },
    messages: { type: "string", default: "2000" },
    "message-bytes": { type: "string", default: "200" },
    suite: { type: "string", default: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("node bench/mls.js [--sizes 100,1000] [--with-5000] [--reps 3] [--messages 2000]");
  console.log("                  [--message-bytes 200] [--suite NAME] [--json FILE]");
  process.exit(0);
}

const sizes = args.sizes.split(",").map(Number);
if (args["with-5000"] && !sizes.includes(5000)) sizes.push(5000);
const reps = Number(args.reps);
const messages = Number(args.messages);
const messageBytes = Number(args["message-bytes"]);
const providers = ["default", "fast"];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median wall milliseconds of `reps` runs of `work` (which may return a value to keep). */
async function timed(work, times = reps) {
  const ms = [];
  let last;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    last = await work();
    ms.push(performance.now() - start);
  }
  return { ms: median(ms), value: last };
}

const results = []; // { step, size, provider, ms, unit }
const record = (step, size, provider, ms, unit = "ms") =>
  results.push({ step, size, provider, ms, unit });

async function keyPackages(suite, count, prefix) {
  const bundles = [];
  for (let i = 0; i < count; i++) bundles.push(await generateKeyPackage(suite, `d_${prefix}${i}`));
  return bundles;
}

/** Encrypt/decrypt throughput in a two-member group. */
async function messaging(provider, count) {
  const suite = await loadSuite(args.suite, provider);
  const [bob] = await keyPackages(suite, 1, "msg");
  let alice = await createGroup(suite, "g_bench_msg", "d_alice");
  const added = await alice.add([bob.publicKeyPackage]);
  alice = added.next;
  let receiver = await joinGroup(suite, added.welcome, bob.privateKeyPackage, bob.publicKeyPackage);
  const plaintext = new Uint8Array(messageBytes).fill(7);
  const sent = [];
  let start = performance.now();
  for (let i = 0; i < count; i++) {
    const { message, next } = await alice.encrypt(plaintext);
    alice = next;
    sent.push(message);
  }
  const encryptMs = performance.now() - start;
  start = performance.now();
  for (const message of sent) receiver = (await receiver.process(message)).next;
  const decryptMs = performance.now() - start;
  return {
    encryptPerSecond: (count / encryptMs) * 1000,
    decryptPerSecond: (count / decryptMs) * 1000,
  };
}

/** Every step at one group size with one provider. */
async function atSize(provider, size, { quiet = false } = {}) {
  const suite = await loadSuite(args.suite, provider);
  const note = (step, ms) => {
    if (!quiet) {
      record(step, size, provider, ms);
      console.log(
        `  ${provider.padEnd(7)} ${String(size).padStart(5)}  ${step.padEnd(34)} ${ms.toFixed(1)} ms`,
      );
    }
  };

  const kpStart = performance.now();
  const bundles = await keyPackages(suite, size - 1, "m");
  note(`key packages (${size - 1}, one by one)`, performance.now() - kpStart);

  const creator = await createGroup(suite, "g_bench", "d_creator");
  const addAll = await timed(() => creator.add(bundles.map((b) => b.publicKeyPackage)));
  note("create + add-all commit", addAll.ms);
  const { welcome, next: full } = addAll.value;

  const first = bundles[0];
  const join = await timed(() =>
    joinGroup(suite, welcome, first.privateKeyPackage, first.publicKeyPackage),
  );
  note("join from welcome", join.ms);
  const member = join.value;
  const last = bundles[bundles.length - 1];
  const committer =
    bundles.length > 1
      ? await joinGroup(suite, welcome, last.privateKeyPackage, last.publicKeyPackage)
      : full;

  const update = await timed(() => committer.update());
  note("update commit", update.ms);
  const processUpdate = await timed(() => member.process(update.value.commit));
  note("process update (other member)", processUpdate.ms);

  const [extra] = await keyPackages(suite, 1, "extra");
  const addOne = await timed(() => committer.add([extra.publicKeyPackage]));
  note("add one member", addOne.ms);
  const processAdd = await timed(() => member.process(addOne.value.commit));
  note("process add-one (other member)", processAdd.ms);

  const state = (await timed(() => member.serialize())).value;
  const restore = await timed(() => restoreGroup(suite, state));
  note("restore serialised state", restore.ms);
  if (!quiet) record("serialised state", size, provider, state.length, "bytes");
}

const cpus = os.cpus();
console.log(
  `MLS client costs, ${args.suite}, Node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? "cpu"}, ` +
    `load average ${os.loadavg()[0].toFixed(2)}, sizes ${sizes.join(", ")}, median of ${reps}`,
);

console.log("warming up (a group of 20 per provider, not recorded)");
for (const provider of providers) {
  await atSize(provider, 20, { quiet: true });
  await messaging(provider, 200);
}

console.log(`messages of ${messageBytes} bytes in a two-member group (${messages} each way)`);
for (const provider of providers) {
  const m = await messaging(provider, messages);
  results.push({ step: "encrypt", size: 2, provider, ms: m.encryptPerSecond, unit: "msg/s" });
  results.push({ step: "decrypt", size: 2, provider, ms: m.decryptPerSecond, unit: "msg/s" });
  console.log(
    `  ${provider.padEnd(7)} encrypt ${m.encryptPerSecond.toFixed(0)}/s, decrypt ${m.decryptPerSecond.toFixed(0)}/s`,
  );
}

for (const size of sizes) {
  console.log(`group of ${size}`);
  for (const provider of providers) await atSize(provider, size);
}

// The table: one row per step and size, the default provider against ours.
const rows = [];
const keyOf = (r) => `${r.step}@${r.size}`;
const seen = new Map();
for (const r of results) {
  const row = seen.get(keyOf(r)) ?? { step: r.step, size: r.size, unit: r.unit };
  row[r.provider] = r.ms;
  if (!seen.has(keyOf(r))) {
    seen.set(keyOf(r), row);
    rows.push(row);
  }
}
const fmt = (v, unit) =>
  v === undefined ? "-" : unit === "ms" ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : v.toFixed(0);
const lines = [
  "| step | members | unit | ts-mls default | fast provider | speed-up |",
  "| --- | ---: | --- | ---: | ---: | ---: |",
];
for (const row of rows) {
  const ratio =
    row.unit === "bytes"
      ? "-"
      : row.unit === "msg/s"
        ? `${(row.fast / row.default).toFixed(1)}x`
        : `${(row.default / row.fast).toFixed(1)}x`;
  lines.push(
    `| ${row.step} | ${row.size} | ${row.unit} | ${fmt(row.default, row.unit)} | ${fmt(row.fast, row.unit)} | ${ratio} |`,
  );
}
console.log(`\n${lines.join("\n")}`);

if (args.json) {
  await writeFile(
    args.json,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpu: cpus[0]?.model,
        cores: cpus.length,
        suite: args.suite,
        reps,
        rows,
      },
      null,
      2,
    ),
  );
}
