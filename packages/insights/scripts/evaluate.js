// Reproduces the figures in docs/moderation.md from the built package:
//   npm run build && npm run moderation:eval             (prints them)
//   npm run moderation:eval -- --write                   (also rewrites the marked section)
//   npm run moderation:eval -- --mismatches              (lists the hand-written messages it got wrong)
import { readFileSync, writeFileSync } from "node:fs";
import {
  createAnalyzer,
  defaultSpamModel,
  evaluateMessages,
  evaluateSpamHoldout,
  parseLabelledMessages,
  renderFigures,
  replaceFigures,
} from "../dist/index.js";

const fixtures = new URL("../test/fixtures/messages.jsonl", import.meta.url);
const docs = new URL("../../../docs/moderation.md", import.meta.url);
const args = new Set(process.argv.slice(2));

const started = performance.now();
const model = defaultSpamModel();
const loadAndTrainMs = performance.now() - started;

const holdout = evaluateSpamHoldout();
const gated = evaluateSpamHoldout({ requireHallmark: true });
const analyzer = createAnalyzer();
const labelled = parseLabelledMessages(readFileSync(fixtures, "utf8"));
const messages = evaluateMessages(analyzer, labelled);
const blind = evaluateMessages(
  analyzer,
  labelled.filter((message) => message.set === "blind"),
);
const figures = renderFigures(holdout, gated, messages, blind);

process.stdout.write(`${figures}\n\n`);
process.stdout.write(
  `Reading store.json and training: ${loadAndTrainMs.toFixed(1)} ms (training alone ${model.trainingMs.toFixed(1)} ms).\n`,
);
if (args.has("--mismatches")) {
  for (const miss of messages.mismatches) {
    process.stdout.write(
      `#${miss.index + 1} (${miss.note ?? ""}): expected [${miss.expected.join(", ")}], got [${miss.got.join(", ")}]\n`,
    );
  }
}
if (args.has("--write")) {
  writeFileSync(docs, replaceFigures(readFileSync(docs, "utf8"), figures));
  process.stdout.write("docs/moderation.md updated.\n");
}
