import { loadSpamDataset } from "./dataset.js";
import { hasSpamHallmark } from "./hallmarks.js";
import { NaiveBayesSpamModel } from "./naive-bayes.js";
import { defaultSplitSeed, type SplitOptions, stratifiedSplit } from "./split.js";

/** Precision, recall, F1 and accuracy of the spam model on a held-out split. */
export interface SpamHoldoutFigures {
  seed: number;
  trainSize: number;
  testSize: number;
  testSpam: number;
  testHam: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  /** Milliseconds to train on the training part (counting only, not reading the file). */
  trainingMs: number;
}

export interface HoldoutOptions extends SplitOptions {
  /** P(spam) at or above which a message counts as spam; 0.5 unless told. */
  threshold?: number;
  /** Count a message as spam only if it also has a spam hallmark, as the analyzer does. */
  requireHallmark?: boolean;
}

/**
 * Trains a fresh model on the training part of a seeded, stratified split and measures it on
 * the held-out part, so the figures say how it does on messages it has not seen.
 */
export function evaluateSpamHoldout(options: HoldoutOptions = {}): SpamHoldoutFigures {
  const seed = options.seed ?? defaultSplitSeed;
  const threshold = options.threshold ?? 0.5;
  const split = stratifiedSplit(loadSpamDataset(), { ...options, seed });
  const model = NaiveBayesSpamModel.train(split.train);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const doc of split.test) {
    const spam =
      model.classifyTokens(doc.value).probability >= threshold &&
      (!options.requireHallmark || hasSpamHallmark(doc.value));
    if (doc.label === "spam") spam ? tp++ : fn++;
    else spam ? fp++ : tn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    seed,
    trainSize: split.train.length,
    testSize: split.test.length,
    testSpam: tp + fn,
    testHam: fp + tn,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    trueNegatives: tn,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    accuracy: (tp + tn) / split.test.length,
    trainingMs: model.trainingMs,
  };
}
