#!/usr/bin/env node
// Announcement groups, two designs measured in the same run, on the fast provider:
//   MLS          the whole community in one MLS group: every join and removal is a commit
//                that every member device processes;
//   sender keys  each admin device posts under its own sender key, handed to each member over
//                a pairwise (2-member) MLS group: a join costs existing members nothing, a
//                removal costs each of them one small pairwise message (the new key).
// Reported: the work on ONE existing member's device per membership change (the target is
// under 100 ms), the admin device's work, the new member's, and posts.
//
// Usage, after `npx tsc -b packages/crypto`:
//   node bench/announcement-keys.js                       sizes 1000 and 5000
//   node bench/announcement-keys.js --sizes 1000 --reps 5 --pairwise 500 --json out.json
//
// Timed steps run `--reps` times from the same inputs (MLS Groups are immutable, so the same
// commit can be built or processed again) and the median is reported. The admin's pairwise
// groups are really built, one per member of the largest size (or `--pairwise` of them); a
// rotation to more members than were built is extrapolated from the cost per group (marked).
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  createGroup,
  createSenderKey,
  decryptWithSenderKey,
  distributionOf,
  encryptWithSenderKey,
  generateKeyPackage,
  joinGroup,
  loadSuite,
  readDistribution,
  serializeSenderKey,
} from "../packages/crypto/dist/index.js";
import { senderKeyPrimitives } from "../packages/crypto/dist/sender-key-primitives.js";
import { median } from "./lib/stats.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,5000" },
    reps: { type: "string", default: "3" },
    pairwise: { type: "string" },
    posts: { type: "string", default: "2000" },
    "post-bytes": { type: "string", default: "200" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log("node bench/announcement-keys.js [--sizes 1000,5000] [--reps 3] [--pairwise N]");
  console.log("                                [--posts 2000] [--post-bytes 200] [--json FILE]");
  process.exit(0);
}

const sizes = args.sizes.split(",").map(Number);
const reps = Number(args.reps);
const pairwiseCount = Number(args.pairwise ?? Math.max(...sizes) - 1);
const postCount = Number(args.posts);
const postBytes = Number(args["post-bytes"]);
const suiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
const post = new Uint8Array(postBytes).fill(7);
const started = performance.now();

/** Median wall milliseconds of `times` runs of `work`, and the last run's value. */
async function timed(work, times = reps) {
  const ms = [];
  let value;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    value = await work();
    ms.push(performance.now() - start);
  }
  return { ms: median(ms), value };
}

async function keyPackages(suite, count, prefix) {
  const bundles = [];
  for (let i = 0; i < count; i++) bundles.push(await generateKeyPackage(suite, `d_${prefix}${i}`));
  return bundles;
}

const rows = []; // { device, step, size, mls, senderKeys, unit, note }
function row(device, step, size, mls, senderKeys, unit = "ms", note = "") {
  rows.push({ device, step, size, mls, senderKeys, unit, note });
  const f = (v) => (v === undefined ? "-" : typeof v === "string" ? v : `${fmt(v, unit)} ${unit}`);
  console.log(
    `  ${String(size).padStart(5)}  ${device.padEnd(15)} ${step.padEnd(34)} MLS ${f(mls).padStart(12)}   sender keys ${f(senderKeys).padStart(12)} ${note}`,
  );
}
function fmt(v, unit) {
  if (typeof v === "string") return v;
  if (unit !== "ms") return v.toFixed(0);
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/** One 2-member pairwise group: the admin's side and the member's, as a join makes them. */
async function pairwiseGroup(suite, i, memberBundle) {
  const admin = await createGroup(suite, `g_keys_${i}`, "d_admin");
  const { next, welcome } = await admin.add([memberBundle.publicKeyPackage]);
  return { admin: next, welcome };
}

/** The MLS design at one size: the member's commits, the admin's commits, a post. */
async function mlsDesign(suite, size, { quiet = false } = {}) {
  const bundles = await keyPackages(suite, size - 1, `m${size}_`);
  const creator = await createGroup(suite, `g_ann_${size}`, "d_creator");
  const { welcome, next: full } = await creator.add(bundles.map((b) => b.publicKeyPackage));
  const first = bundles[0];
  const last = bundles[bundles.length - 1];
  const joinStart = performance.now();
  const member = await joinGroup(suite, welcome, first.privateKeyPackage, first.publicKeyPackage);
  const joinMs = performance.now() - joinStart;
  const admin =
    bundles.length > 1
      ? await joinGroup(suite, welcome, last.privateKeyPackage, last.publicKeyPackage)
      : full;

  const [extra] = await keyPackages(suite, 1, `extra${size}_`);
  const add = await timed(() => admin.add([extra.publicKeyPackage]));
  const processAdd = await timed(() => member.process(add.value.commit));
  const leaver = bundles.length > 2 ? `d_m${size}_1` : undefined;
  const remove = leaver ? await timed(() => admin.remove([leaver])) : undefined;
  const processRemove = remove ? await timed(() => member.process(remove.value.commit)) : undefined;
  const sent = await admin.encrypt(post);
  const readPost = await timed(() => member.process(sent.message));
  const postEncrypt = await timed(() => admin.encrypt(post));
  const stateBytes = member.serialize().length;
  if (quiet) return undefined;
  return {
    joinMs,
    add: add.ms,
    processAdd: processAdd.ms,
    remove: remove?.ms,
    processRemove: processRemove?.ms,
    readPost: readPost.ms,
    postEncrypt: postEncrypt.ms,
    stateBytes,
  };
}

/**
 * The sender-key design: `count` pairwise groups really built (admin side), one member's side
 * in full; the member's cost of a removal, the admin's of a join and of a rotation.
 */
async function senderKeyDesign(suite, count, { quiet = false } = {}) {
  const bundles = await keyPackages(suite, count, "p");
  const created = [];
  const pairwise = [];
  const createStart = performance.now();
  for (const [i, bundle] of bundles.entries()) {
    const start = performance.now();
    pairwise.push(await pairwiseGroup(suite, i, bundle));
    created.push(performance.now() - start);
  }
  const createAllMs = performance.now() - createStart;

  let key = await createSenderKey("g_announce");
  const distribution = distributionOf(key);
  // The member of pairwise group 0: joins it, then reads a distribution as on a removal.
  const first = bundles[0];
  const joined = await timed(async () => {
    const group = await joinGroup(
      suite,
      pairwise[0].welcome,
      first.privateKeyPackage,
      first.publicKeyPackage,
    );
    const { message } = await pairwise[0].admin.encrypt(distribution);
    return { group, message };
  });
  const memberGroup = joined.value.group;
  const newMember = await timed(async () => {
    const group = await joinGroup(
      suite,
      pairwise[0].welcome,
      first.privateKeyPackage,
      first.publicKeyPackage,
    );
    const got = await group.process(joined.value.message);
    return readDistribution(got.plaintext);
  });
  const removal = await timed(async () => {
    const got = await memberGroup.process(joined.value.message);
    if (got.kind !== "application") throw new Error("expected the distribution");
    return readDistribution(got.plaintext);
  });
  const carried = joined.value.message.length;

  const rotation = await timed(() => rotate(pairwise));
  key = rotation.value;

  // Posts: the admin encrypts `postCount`, a member decrypts them.
  let held = readDistribution(distributionOf(key));
  const messages = [];
  let start = performance.now();
  for (let i = 0; i < postCount; i++) {
    const r = await encryptWithSenderKey(key, post);
    key = r.state;
    messages.push(r.message);
  }
  const encryptMs = (performance.now() - start) / postCount;
  start = performance.now();
  for (const m of messages) held = (await decryptWithSenderKey(held, m)).state;
  const decryptMs = (performance.now() - start) / postCount;

  if (quiet) return undefined;
  return {
    count,
    pairwise,
    createPerGroup: median(created),
    createAllMs,
    newMember: newMember.ms,
    removal: removal.ms,
    carried,
    distributionBytes: distribution.length,
    rotation: rotation.ms,
    rotationPerGroup: rotation.ms / count,
    encryptMs,
    decryptMs,
    messageBytes: messages[0].length,
    stateBytes: serializeSenderKey(held).length + memberGroup.serialize().length,
  };
}

/** The admin's rotation: a new key, and its distribution in each of these pairwise groups. */
async function rotate(pairwise) {
  const fresh = await createSenderKey("g_announce");
  const bytes = distributionOf(fresh);
  for (const p of pairwise) p.admin = (await p.admin.encrypt(bytes)).next;
  return fresh;
}

/** Ed25519 and AES-256-GCM on node:crypto against noble (the browser path), per operation. */
async function primitives() {
  const out = [];
  const message = new Uint8Array(postBytes + 60).fill(3);
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12).fill(2);
  const aad = new Uint8Array(30);
  for (const provider of ["fast", "default"]) {
    const p = await senderKeyPrimitives(provider);
    const { seed, publicKey } = p.generateSigningKey();
    const signature = p.sign(seed, message);
    const per = (n, f) => {
      for (let i = 0; i < 20; i++) f();
      const s = performance.now();
      for (let i = 0; i < n; i++) f();
      return ((performance.now() - s) / n) * 1000;
    };
    out.push({
      name: p.name,
      sign: per(200, () => p.sign(seed, message)),
      verify: per(200, () => p.verify(publicKey, message, signature)),
      seal: per(2000, () => p.seal(key, nonce, aad, post)),
    });
  }
  return out;
}

const cpus = os.cpus();
console.log(
  `Announcement groups: MLS against sender keys, ${suiteName}, fast provider, Node ${process.version}, ` +
    `${cpus.length} x ${cpus[0]?.model ?? "cpu"}, load average ${os.loadavg()[0].toFixed(2)}, ` +
    `sizes ${sizes.join(", ")}, median of ${reps}, ${pairwiseCount} pairwise groups built`,
);
const suite = await loadSuite(suiteName, "fast");
console.log("warming up (a group of 20, 20 pairwise groups, not recorded)");
await mlsDesign(suite, 20, { quiet: true });
await senderKeyDesign(suite, 20, { quiet: true });

console.log(`sender keys: ${pairwiseCount} pairwise groups`);
const sk = await senderKeyDesign(suite, pairwiseCount);
const prims = await primitives();

for (const size of sizes) {
  console.log(`MLS group of ${size}`);
  const mls = await mlsDesign(suite, size);
  const others = size - 1; // members other than the admin device that rotates
  const extrapolated = others > sk.count;
  const rotation = extrapolated
    ? sk.rotationPerGroup * others
    : (await timed(() => rotate(sk.pairwise.slice(0, others)))).ms;
  row("existing member", "a member joins", size, mls.processAdd, "0 (nothing)");
  row("existing member", "a member is removed", size, mls.processRemove, sk.removal);
  row("existing member", `read one ${postBytes}-byte post`, size, mls.readPost, sk.decryptMs);
  row("admin device", "a member joins", size, mls.add, sk.createPerGroup + sk.rotationPerGroup);
  row(
    "admin device",
    "a member is removed",
    size,
    mls.remove,
    rotation,
    "ms",
    extrapolated ? `(sender keys: extrapolated from ${sk.count} groups)` : "",
  );
  row("admin device", `send one ${postBytes}-byte post`, size, mls.postEncrypt, sk.encryptMs);
  row("new member", "joins", size, mls.joinMs, sk.newMember);
  row("existing member", "state kept for the group", size, mls.stateBytes, sk.stateBytes, "bytes");
}

const lines = [
  "| device | membership change or step | members | MLS, one group | sender keys |",
  "| --- | --- | ---: | ---: | ---: |",
];
for (const r of rows) {
  const cell = (v) => (typeof v === "string" ? v : `${fmt(v, r.unit)} ${r.unit}`);
  lines.push(
    `| ${r.device} | ${r.step}${r.note ? ` ${r.note}` : ""} | ${r.size} | ${cell(r.mls)} | ${cell(r.senderKeys)} |`,
  );
}
console.log(`\n${lines.join("\n")}`);
console.log(
  `\nSender keys: distribution ${sk.distributionBytes} bytes, ${sk.carried} bytes as a pairwise MLS message; ` +
    `a ${postBytes}-byte post is ${sk.messageBytes} bytes; ${postCount} posts: encrypt ` +
    `${(1000 / sk.encryptMs).toFixed(0)}/s, decrypt ${(1000 / sk.decryptMs).toFixed(0)}/s. ` +
    `Admin: ${sk.count} pairwise groups built in ${(sk.createAllMs / 1000).toFixed(1)} s ` +
    `(median ${sk.createPerGroup.toFixed(2)} ms each); one rotation to all ${sk.count}: ${sk.rotation.toFixed(0)} ms ` +
    `(${sk.rotationPerGroup.toFixed(3)} ms per group).`,
);
console.log("\n| primitive, µs per call | node:crypto | noble (browsers) |");
console.log("| --- | ---: | ---: |");
const [node, noble] = prims;
for (const [label, k] of [
  ["Ed25519 sign", "sign"],
  ["Ed25519 verify", "verify"],
  [`AES-256-GCM seal, ${postBytes} bytes`, "seal"],
]) {
  console.log(`| ${label} | ${node[k].toFixed(1)} | ${noble[k].toFixed(1)} |`);
}
console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s`);

if (args.json) {
  await writeFile(
    args.json,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpu: cpus[0]?.model,
        cores: cpus.length,
        suite: suiteName,
        reps,
        rows,
        senderKeys: { ...sk, pairwise: undefined },
        primitives: prims,
      },
      null,
      2,
    ),
  );
}
