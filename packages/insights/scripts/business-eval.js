// Reproduces the AI-insights figures in docs/business.md from the built package:
//   npx tsc -b packages/insights && node packages/insights/scripts/business-eval.js
//   node packages/insights/scripts/business-eval.js --write        (also rewrites the marked section)
//   node packages/insights/scripts/business-eval.js --mismatches   (lists what it got wrong)
import { readFileSync, writeFileSync } from "node:fs";
import vader from "vader-sentiment";
import {
  analyzeBusinessMessage,
  classificationFigures,
  defaultIntentThreshold,
  evaluateEntities,
  evaluateIntents,
  evaluateSentiment,
  extractEntities,
  IntentModel,
  sentiment,
} from "../dist/index.js";

const data = (name) =>
  readFileSync(new URL(`../data/business/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
const docs = new URL("../../../docs/business.md", import.meta.url);
const start = "<!-- insights-figures:start -->";
const end = "<!-- insights-figures:end -->";
const args = new Set(process.argv.slice(2));
/** The reference time of the entity set's relative dates ("tomorrow" = 2026-12-06). */
const entityNow = Date.parse("2026-12-05T10:00:00Z");

const train = data("intents-train.jsonl");
const test = data("intents-test.jsonl");
const devNone = data("intents-dev-none.jsonl");
const sentimentSet = data("sentiment.jsonl");
/** Written after the support lexicon was frozen: the figure that was not tuned on. */
const sentimentHoldout = data("sentiment-holdout.jsonl");
const entitySet = data("entities.jsonl");

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const num = (x) => x.toFixed(2);
const labelRows = (labels) =>
  labels.map(
    (l) => `| ${l.label} | ${num(l.precision)} | ${num(l.recall)} | ${num(l.f1)} | ${l.support} |`,
  );
const header = ["| label | precision | recall | F1 | n |", "| --- | --- | --- | --- | --- |"];

// Threshold choice: leave-one-out over the training examples plus the development
// out-of-scope texts; the test set plays no part.
const raw = train.map((example, i) => {
  const model = IntentModel.train(train.filter((_, j) => j !== i));
  return { expected: example.intent, ...model.score(example.text) };
});
const full = IntentModel.train(train);
for (const example of devNone) raw.push({ expected: "none", ...full.score(example.text) });
const sweep = [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6].map((threshold) => ({
  threshold,
  figures: classificationFigures(
    raw.map((r) => ({
      expected: r.expected,
      got: r.confidence >= threshold ? r.intent : "none",
    })),
  ),
}));

const model = IntentModel.train(train);
const intents = evaluateIntents(model, test);
const none = intents.labels.find((l) => l.label === "none");
const senti = evaluateSentiment(sentimentSet);
const vaderAlone = (items) =>
  classificationFigures(
    items.map((item) => {
      const c = vader.SentimentIntensityAnalyzer.polarity_scores(item.text).compound;
      return {
        expected: item.label,
        got: c >= 0.05 ? "positive" : c <= -0.05 ? "negative" : "neutral",
      };
    }),
  );
const holdout = evaluateSentiment(sentimentHoldout);
const negations = [...sentimentSet, ...sentimentHoldout].filter((item) =>
  /\b(?:not|never|no|nothing|nobody|n't)\b|n't\b/i.test(item.text),
);
const negationFigures = evaluateSentiment(negations);
const entities = evaluateEntities(entitySet, entityNow);

// Speed: every set's texts through the whole pipeline, after one warm-up pass.
const texts = [...test, ...sentimentSet, ...sentimentHoldout, ...entitySet].map(
  (item) => item.text,
);
const context = { intents: model, recentFromSender: [], now: entityNow };
for (const text of texts) analyzeBusinessMessage(text, context);
const began = performance.now();
for (const text of texts) analyzeBusinessMessage(text, context);
const perMessageMs = (performance.now() - began) / texts.length;

const figures = [
  start,
  "",
  `**Intent** (${train.length} training examples over ${model.intents.length} intents; held-out test set of ${intents.items} texts, ${none?.support ?? 0} of them out of scope; threshold ${defaultIntentThreshold}): accuracy **${pct(intents.accuracy)}**, macro-F1 **${num(intents.macroF1)}**; out-of-scope texts answered "none": recall ${num(none?.recall ?? 0)}, precision ${num(none?.precision ?? 0)}.`,
  "",
  ...header,
  ...labelRows(intents.labels),
  "",
  `Threshold choice (leave-one-out over the training examples plus ${devNone.length} development out-of-scope texts; macro-F1): ${sweep.map((s) => `${s.threshold} → ${num(s.figures.macroF1)}`).join(", ")}.`,
  "",
  `**Sentiment**, held-out set (${holdout.items} sentences written after the support lexicon was frozen): accuracy **${pct(holdout.accuracy)}**, macro-F1 **${num(holdout.macroF1)}**; VADER alone: accuracy ${pct(vaderAlone(sentimentHoldout).accuracy)}, macro-F1 ${num(vaderAlone(sentimentHoldout).macroF1)}.`,
  "",
  ...header,
  ...labelRows(holdout.labels),
  "",
  `Development set (${senti.items} sentences; the support lexicon was written while reading its errors, so this figure is optimistic): accuracy ${pct(senti.accuracy)}, macro-F1 ${num(senti.macroF1)}; VADER alone: accuracy ${pct(vaderAlone(sentimentSet).accuracy)}, macro-F1 ${num(vaderAlone(sentimentSet).macroF1)}. Sentences with a negation (both sets, ${negations.length}): accuracy ${pct(negationFigures.accuracy)}.`,
  "",
  `**Entities** (${entitySet.length} labelled texts; a hit needs the exact type and span): micro-F1 **${num(entities.microF1)}**; normalised values right on ${pct(entities.valueAccuracy)} of the ${entities.valuesChecked} matched entities with a gold value.`,
  "",
  "| type | precision | recall | F1 | n |",
  "| --- | --- | --- | --- | --- |",
  ...labelRows(entities.types),
  "",
  `**Speed**: ${perMessageMs.toFixed(2)} ms per message for \`analyzeBusinessMessage\` (all four parts, warm, one core of the 2-core CI machine).`,
  "",
  end,
].join("\n");

process.stdout.write(`${figures}\n`);
if (args.has("--mismatches")) {
  for (const example of test) {
    const got = model.predict(example.text);
    if (got.intent !== example.intent) {
      process.stdout.write(
        `intent: expected ${example.intent}, got ${got.intent} (${got.confidence}): ${example.text}\n`,
      );
    }
  }
  for (const item of [...sentimentSet, ...sentimentHoldout]) {
    const got = sentiment(item.text);
    if (got.label !== item.label) {
      process.stdout.write(
        `sentiment: expected ${item.label}, got ${got.label} (${got.score}): ${item.text}\n`,
      );
    }
  }
  for (const item of entitySet) {
    const got = extractEntities(item.text, entityNow).map((e) => `${e.type}:${e.text}=${e.value}`);
    const want = item.entities.map((e) => `${e.type}:${e.text}=${e.value}`);
    if (got.join("|") !== want.join("|")) {
      process.stdout.write(
        `entities: ${item.text}\n  expected ${want.join(", ")}\n  got      ${got.join(", ")}\n`,
      );
    }
  }
}
if (args.has("--write")) {
  const doc = readFileSync(docs, "utf8");
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1) {
    console.error("docs/business.md has no insights-figures markers");
    process.exitCode = 1;
  } else {
    writeFileSync(docs, doc.slice(0, from) + figures + doc.slice(to + end.length));
    process.stdout.write("docs/business.md updated.\n");
  }
}
