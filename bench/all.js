#!/usr/bin/env node
// `npm run bench`: every benchmark, one after another, each announced as
// "[i/n]" on stderr (and passed to it as BENCH_STEP, which bench/run.js's
// progress bar shows). Stops at the first that fails. Flags after `--` go to
// bench/run.js, e.g. `npm run bench -- --group-members 500`.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { performance } from "node:perf_hooks";

const root = path.resolve(import.meta.dirname, "..");
const steps = [
  ["bench/run.js", ...process.argv.slice(2)],
  ["bench/mls.js", "--sizes", "100,1000"],
  ["bench/announcement-keys.js"],
  ["bench/scenarios/announcement-group-commit.js", "--write"],
];

const began = performance.now();
for (const [i, args] of steps.entries()) {
  const step = `${i + 1}/${steps.length}`;
  const minutes = ((performance.now() - began) / 60_000).toFixed(1);
  process.stderr.write(`[${step}] node ${args.join(" ")} (${minutes} min so far)\n`);
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, BENCH_STEP: step },
  });
  if (result.status !== 0) {
    process.stderr.write(`[${step}] failed (${result.status ?? result.signal})\n`);
    process.exitCode = result.status ?? 1;
    break;
  }
}
if (!process.exitCode) {
  const minutes = ((performance.now() - began) / 60_000).toFixed(1);
  process.stderr.write(`bench: all ${steps.length} steps done in ${minutes} min\n`);
}
