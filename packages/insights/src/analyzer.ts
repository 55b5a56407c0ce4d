import { type Analysis, defaultThresholds, type Thresholds } from "./categories.js";
import { linkSignals } from "./links/check.js";
import { ProfanityChecker } from "./profanity/matcher.js";
import { defaultDampeners, defaultRules } from "./rules/index.js";
import type { Dampener, Rule } from "./rules/rule.js";
import { combineSignals, ruleSignals, type Signal } from "./scoring.js";
import { hasSpamHallmark } from "./spam/hallmarks.js";
import { defaultSpamModel, type SpamClassifier } from "./spam/naive-bayes.js";
import { spamTokens } from "./spam/tokenize.js";
import { normalizeText } from "./text/normalize.js";

export interface AnalyzerOptions {
  /** Words and names never to flag as profanity or slurs, added to the built-in allow-list. */
  allowList?: readonly string[];
  /** Minimum score per category for a finding to be reported; defaults to {@link defaultThresholds}. */
  thresholds?: Partial<Thresholds>;
  /** The spam classifier; by default the naive Bayes model trained on the SMS Spam Collection. */
  spamClassifier?: SpamClassifier;
  /** Rules to use in place of the built-in ones ({@link defaultRules}). */
  rules?: readonly Rule[];
  /** Rules to add to the built-in (or given) ones. */
  extraRules?: readonly Rule[];
  /** Dampeners to use in place of the built-in ones. */
  dampeners?: readonly Dampener[];
}

/** Analyses texts with one fixed configuration; create it once and reuse it. */
export interface Analyzer {
  analyze(text: string): Analysis;
}

/**
 * Without any spam hallmark (see `hasSpamHallmark`) the model's probability counts for less
 * than half, so plain promotion stays below the default threshold.
 */
const noHallmarkFactor = 0.45;

/**
 * Creates an analyzer. Cheap: the spam model is trained (or taken from the process-wide
 * cache) on the first `analyze`, which is synchronous like every later one.
 *
 * @example
 * const analyzer = createAnalyzer({ allowList: ["Cockermouth Rovers"] });
 * analyzer.analyze("DM me for cheap c0caine, fast delivery").top?.category; // "illegal"
 */
export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const thresholds: Thresholds = { ...defaultThresholds, ...options.thresholds };
  const profanity = new ProfanityChecker(options.allowList);
  const rules = [...(options.rules ?? defaultRules), ...(options.extraRules ?? [])];
  const dampeners = options.dampeners ?? defaultDampeners;
  const spam = (): SpamClassifier => options.spamClassifier ?? defaultSpamModel();
  return {
    analyze(text: string): Analysis {
      const normalised = normalizeText(text);
      const fromRules = ruleSignals(rules, normalised);
      const signals: Signal[] = [
        ...fromRules,
        ...pitchSpamSignals(fromRules),
        ...profanity.signals(text, normalised),
        ...linkSignals(text),
        ...spamSignals(spam(), text),
      ];
      return combineSignals(signals, dampeners, normalised, thresholds);
    },
  };
}

/**
 * A scam pitched to everyone (a prize, guaranteed returns, paid "tasks") is unsolicited bulk
 * promotion too: each such fraud signal also counts, a little less, as spam.
 */
function pitchSpamSignals(signals: readonly Signal[]): Signal[] {
  const strongest = Math.max(
    0,
    ...signals.filter((s) => s.tags?.includes("pitch")).map((s) => s.weight),
  );
  if (strongest === 0) return [];
  // Tagged "scam" so that a scam warning quoting the pitch lowers it as it lowers the fraud.
  return [
    {
      category: "spam",
      weight: strongest * 0.85,
      reason: "unsolicited money-making pitch",
      tags: ["scam"],
    },
  ];
}

function spamSignals(classifier: SpamClassifier, text: string): Signal[] {
  const { probability, cues } = classifier.classify(text);
  if (probability < 0.05) return [];
  const percent = `${Math.round(probability * 100)}%`;
  if (hasSpamHallmark(spamTokens(text))) {
    const why = cues.length > 0 ? `; cues: ${cues.join(", ")}` : "";
    return [
      {
        category: "spam",
        weight: probability,
        reason: `SMS-spam model: ${percent} spam${why}`,
        tags: ["scam"], // a scam warning quoting spam is not spam
      },
    ];
  }
  return [
    {
      category: "spam",
      weight: probability * noHallmarkFactor,
      reason: `reads like promotion (${percent} on the SMS-spam model) without spam hallmarks`,
    },
  ];
}

let shared: Analyzer | undefined;

/**
 * Analyses one text for every category. Synchronous; the first call in a process also trains
 * the spam model (milliseconds). With options, a new analyzer is built for the call: to reuse
 * options, keep an analyzer from {@link createAnalyzer} instead.
 *
 * @example
 * analyzeText("Hi mum, I lost my phone, this is my new number. Can you send £200?").top;
 * // { category: "fraud", score: 0.88, reasons: [...] }
 */
export function analyzeText(text: string, options?: AnalyzerOptions): Analysis {
  if (options !== undefined) return createAnalyzer(options).analyze(text);
  shared ??= createAnalyzer();
  return shared.analyze(text);
}
