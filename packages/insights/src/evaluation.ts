import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Analyzer } from "./analyzer.js";
import { type Category, categories, isCategory } from "./categories.js";
import { InsightsError } from "./errors.js";
import type { SpamHoldoutFigures } from "./spam/holdout.js";

const LabelledMessage = Type.Object(
  {
    text: Type.String({ minLength: 1 }),
    categories: Type.Array(Type.String()),
    set: Type.Optional(Type.Union([Type.Literal("tuning"), Type.Literal("blind")])),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/**
 * Which part of the hand-written set a message belongs to: "tuning" messages were used while
 * writing the rules, "blind" ones were written afterwards and never tuned on.
 */
export type MessageSet = "tuning" | "blind";

/** One hand-written message with the categories it should get (none when clean). */
export interface LabelledMessage {
  text: string;
  categories: Category[];
  set: MessageSet;
  note?: string;
}

/** Parses the JSON-lines fixture format: one {@link LabelledMessage} per line. */
export function parseLabelledMessages(jsonl: string): LabelledMessage[] {
  const out: LabelledMessage[] = [];
  jsonl.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InsightsError("fixture_invalid", `(line ${index + 1}: not JSON)`);
    }
    if (!Value.Check(LabelledMessage, value)) {
      throw new InsightsError("fixture_invalid", `(line ${index + 1}: not a labelled message)`);
    }
    const message: Static<typeof LabelledMessage> = value;
    const labels = message.categories.filter(isCategory);
    if (labels.length !== message.categories.length) {
      throw new InsightsError("fixture_invalid", `(line ${index + 1}: unknown category)`);
    }
    out.push({
      text: message.text,
      categories: labels,
      set: message.set ?? "tuning",
      ...(message.note ? { note: message.note } : {}),
    });
  });
  return out;
}

/** False-positive and false-negative counts and rates of one category on labelled messages. */
export interface CategoryFigures {
  category: Category;
  positives: number;
  negatives: number;
  falsePositives: number;
  falseNegatives: number;
  /** falsePositives / negatives (0 when there are no negatives). */
  falsePositiveRate: number;
  /** falseNegatives / positives (0 when there are no positives). */
  falseNegativeRate: number;
}

export interface MessageMismatch {
  index: number;
  expected: Category[];
  got: Category[];
  note?: string;
}

export interface MessageSetFigures {
  messages: number;
  clean: number;
  perCategory: CategoryFigures[];
  /** Clean messages that got any finding other than profanity. */
  cleanFlagged: number;
  /** Violating messages that got none of their expected categories. */
  violationsMissed: number;
  mismatches: MessageMismatch[];
}

/** Runs an analyzer over labelled messages and counts, per category, what it got wrong. */
export function evaluateMessages(
  analyzer: Analyzer,
  messages: readonly LabelledMessage[],
): MessageSetFigures {
  const counts = new Map<Category, { pos: number; neg: number; fp: number; fn: number }>(
    categories.map((category) => [category, { pos: 0, neg: 0, fp: 0, fn: 0 }]),
  );
  const mismatches: MessageMismatch[] = [];
  let cleanFlagged = 0;
  let violationsMissed = 0;
  messages.forEach((message, index) => {
    const got = analyzer.analyze(message.text).findings.map((finding) => finding.category);
    for (const category of categories) {
      const entry = counts.get(category);
      if (!entry) continue;
      const expected = message.categories.includes(category);
      const predicted = got.includes(category);
      if (expected) {
        entry.pos++;
        if (!predicted) entry.fn++;
      } else {
        entry.neg++;
        if (predicted) entry.fp++;
      }
    }
    if (message.categories.length === 0 && got.some((category) => category !== "profanity"))
      cleanFlagged++;
    if (
      message.categories.length > 0 &&
      !message.categories.some((category) => got.includes(category))
    ) {
      violationsMissed++;
    }
    const same =
      got.length === message.categories.length &&
      got.every((category) => message.categories.includes(category));
    if (!same) {
      mismatches.push({
        index,
        expected: message.categories,
        got,
        ...(message.note ? { note: message.note } : {}),
      });
    }
  });
  const perCategory = categories.map((category): CategoryFigures => {
    const entry = counts.get(category) ?? { pos: 0, neg: 0, fp: 0, fn: 0 };
    return {
      category,
      positives: entry.pos,
      negatives: entry.neg,
      falsePositives: entry.fp,
      falseNegatives: entry.fn,
      falsePositiveRate: entry.neg === 0 ? 0 : entry.fp / entry.neg,
      falseNegativeRate: entry.pos === 0 ? 0 : entry.fn / entry.pos,
    };
  });
  return {
    messages: messages.length,
    clean: messages.filter((message) => message.categories.length === 0).length,
    perCategory,
    cleanFlagged,
    violationsMissed,
    mismatches,
  };
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function ratio(value: number): string {
  return value.toFixed(3);
}

/**
 * Renders the figures as the Markdown that docs/moderation.md keeps between its markers.
 * Deterministic (no timings), so a test can check that the document is up to date.
 */
export function renderFigures(
  holdout: SpamHoldoutFigures,
  gated: SpamHoldoutFigures,
  all: MessageSetFigures,
  blind: MessageSetFigures,
): string {
  const lines = [
    "Spam model (multinomial naive Bayes, Laplace smoothing) on a held-out, stratified 80/20",
    `split of the SMS Spam Collection (seed ${holdout.seed}): trained on ${holdout.trainSize}`,
    `messages, tested on ${holdout.testSize} (${holdout.testSpam} spam, ${holdout.testHam} ham).`,
    "",
    "| spam model | precision | recall | F1 | accuracy | TP | FP | FN | TN |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, figures] of [
    ["model alone, P(spam) ≥ 0.5", holdout],
    ["as the analyzer uses it, with a spam hallmark", gated],
  ] as const) {
    lines.push(
      `| ${name} | ${ratio(figures.precision)} | ${ratio(figures.recall)} | ${ratio(figures.f1)} | ${ratio(figures.accuracy)} | ${figures.truePositives} | ${figures.falsePositives} | ${figures.falseNegatives} | ${figures.trueNegatives} |`,
    );
  }
  lines.push(
    "",
    "The hallmark list was chosen with this split in view, so the second row is optimistic;",
    "the first row's model was not tuned on it.",
    "",
    `Hand-written test set (\`packages/insights/test/fixtures/messages.jsonl\`): ${all.messages} messages,`,
    `${all.clean} of them clean; ${blind.messages} of them (${blind.clean} clean) are the blind part, written after`,
    "the rules and never used to tune them. A false positive (FP) is a category reported on a",
    "message not labelled with it; a false negative (FN), a labelled category not reported.",
    "",
    "| category | labelled | FP rate | FP | FN rate | FN | blind FP | blind FN |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  all.perCategory.forEach((figures, index) => {
    const b = blind.perCategory[index];
    const blindCells = b
      ? `${b.falsePositives}/${b.negatives} | ${b.falseNegatives}/${b.positives}`
      : "- | -";
    lines.push(
      `| ${figures.category} | ${figures.positives} | ${percent(figures.falsePositiveRate)} | ${figures.falsePositives}/${figures.negatives} | ${percent(figures.falseNegativeRate)} | ${figures.falseNegatives}/${figures.positives} | ${blindCells} |`,
    );
  });
  lines.push(
    "",
    `Clean messages flagged with any category other than profanity: ${all.cleanFlagged} of ${all.clean} (blind: ${blind.cleanFlagged} of ${blind.clean}).`,
    `Violating messages that got none of their categories: ${all.violationsMissed} of ${all.messages - all.clean} (blind: ${blind.violationsMissed} of ${blind.messages - blind.clean}).`,
  );
  return lines.join("\n");
}

/** The markers around the generated section of docs/moderation.md. */
export const figuresStart = "<!-- insights:figures:start -->";
export const figuresEnd = "<!-- insights:figures:end -->";

/** Replaces what lies between the markers of `document` with `figures`. */
export function replaceFigures(document: string, figures: string): string {
  const start = document.indexOf(figuresStart);
  const end = document.indexOf(figuresEnd);
  if (start === -1 || end === -1 || end < start) {
    throw new RangeError("the document lacks the insights figures markers");
  }
  return `${document.slice(0, start + figuresStart.length)}\n${figures}\n${document.slice(end)}`;
}
