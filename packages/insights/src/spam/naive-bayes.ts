import { type LabelledTokens, loadSpamDataset } from "./dataset.js";
import { spamTokens } from "./tokenize.js";

/** What a spam classifier says about one text. */
export interface SpamVerdict {
  /** P(spam | text), in [0, 1]. */
  probability: number;
  /** Up to three stems that pushed most towards spam (never numbers); empty for ham. */
  cues: string[];
}

/** The port the analyzer asks about spam; tests may hand it any implementation. */
export interface SpamClassifier {
  classify(text: string): SpamVerdict;
}

export interface NaiveBayesOptions {
  /** Laplace (add-alpha) smoothing; 1 unless told. */
  alpha?: number;
}

const maxCues = 3;

/**
 * Multinomial naive Bayes over the dataset's stemmed tokens, with Laplace smoothing.
 *
 * Why naive Bayes rather than logistic regression: training is two passes of counting, with
 * no optimiser, learning rate or iteration order, so it is deterministic by construction and
 * takes milliseconds at first use; on the SMS Spam Collection it is the classic strong
 * baseline (short texts, a few thousand examples), and its per-token log-likelihood ratios
 * name the cues behind a verdict for free.
 */
export class NaiveBayesSpamModel implements SpamClassifier {
  /** log P(spam) - log P(ham). */
  readonly priorLogOdds: number;
  /** Number of messages it was trained on. */
  readonly trainingSize: number;
  /** How long training took, in milliseconds (counting, not reading the corpus). */
  readonly trainingMs: number;
  readonly #logRatio: ReadonlyMap<string, number>;

  private constructor(
    priorLogOdds: number,
    logRatio: Map<string, number>,
    trainingSize: number,
    trainingMs: number,
  ) {
    this.priorLogOdds = priorLogOdds;
    this.#logRatio = logRatio;
    this.trainingSize = trainingSize;
    this.trainingMs = trainingMs;
  }

  /** Trains on labelled token lists; the same input always gives the same model. */
  static train(
    docs: readonly LabelledTokens[],
    options: NaiveBayesOptions = {},
  ): NaiveBayesSpamModel {
    const started = performance.now();
    const alpha = options.alpha ?? 1;
    const counts = { ham: new Map<string, number>(), spam: new Map<string, number>() };
    const totals = { ham: 0, spam: 0 };
    const docsPerLabel = { ham: 0, spam: 0 };
    for (const doc of docs) {
      docsPerLabel[doc.label]++;
      const table = counts[doc.label];
      for (const token of doc.value) {
        table.set(token, (table.get(token) ?? 0) + 1);
        totals[doc.label]++;
      }
    }
    if (docsPerLabel.ham === 0 || docsPerLabel.spam === 0) {
      throw new RangeError("naive Bayes needs at least one ham and one spam message");
    }
    const vocabulary = new Set([...counts.ham.keys(), ...counts.spam.keys()]);
    const hamDenominator = totals.ham + alpha * vocabulary.size;
    const spamDenominator = totals.spam + alpha * vocabulary.size;
    const logRatio = new Map<string, number>();
    for (const token of vocabulary) {
      const spam = ((counts.spam.get(token) ?? 0) + alpha) / spamDenominator;
      const ham = ((counts.ham.get(token) ?? 0) + alpha) / hamDenominator;
      logRatio.set(token, Math.log(spam) - Math.log(ham));
    }
    const priorLogOdds = Math.log(docsPerLabel.spam) - Math.log(docsPerLabel.ham);
    return new NaiveBayesSpamModel(
      priorLogOdds,
      logRatio,
      docs.length,
      performance.now() - started,
    );
  }

  /** Number of distinct tokens the model knows. */
  get vocabularySize(): number {
    return this.#logRatio.size;
  }

  /** Classifies tokens that are already in the dataset's form (see {@link spamTokens}). */
  classifyTokens(tokens: readonly string[]): SpamVerdict {
    let logOdds = this.priorLogOdds;
    const seen = new Map<string, number>();
    for (const token of tokens) {
      const ratio = this.#logRatio.get(token);
      if (ratio === undefined) continue; // unseen in training: no evidence either way
      logOdds += ratio;
      seen.set(token, ratio);
    }
    const probability = 1 / (1 + Math.exp(-logOdds));
    if (probability < 0.5) return { probability, cues: [] };
    const cues = [...seen]
      .filter(([token, ratio]) => ratio > 0 && !/\d/.test(token))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxCues)
      .map(([token]) => token);
    return { probability, cues };
  }

  classify(text: string): SpamVerdict {
    return this.classifyTokens(spamTokens(text));
  }
}

let production: NaiveBayesSpamModel | undefined;

/**
 * The production spam model: trained on the whole corpus at first call, then kept for the
 * life of the process. Call it at start-up to pay the few milliseconds of training early.
 */
export function defaultSpamModel(): NaiveBayesSpamModel {
  production ??= NaiveBayesSpamModel.train(loadSpamDataset());
  return production;
}
