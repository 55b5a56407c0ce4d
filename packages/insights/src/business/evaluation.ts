import { type EntityType, extractEntities } from "./entities.js";
import type { IntentExample, IntentModel } from "./intent-model.js";
import { type SentimentLabel, sentiment } from "./sentiment.js";

/** Precision, recall and F1 of one label (or entity type), with its support in the gold set. */
export interface LabelFigures {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Accuracy over items, per-label figures, and their unweighted mean F1. */
export interface ClassificationFigures {
  items: number;
  accuracy: number;
  macroF1: number;
  labels: LabelFigures[];
}

export interface LabelledSentiment {
  label: SentimentLabel;
  text: string;
}

export interface LabelledEntities {
  text: string;
  entities: { type: EntityType; text: string; value?: string }[];
}

/** Figures of a multi-class prediction from (expected, got) pairs. */
export function classificationFigures(
  pairs: readonly { expected: string; got: string }[],
): ClassificationFigures {
  const labels = [...new Set(pairs.map((pair) => pair.expected))].sort();
  const figures = labels.map((label) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const { expected, got } of pairs) {
      if (got === label && expected === label) tp += 1;
      else if (got === label) fp += 1;
      else if (expected === label) fn += 1;
    }
    return figuresOf(label, tp, fp, fn);
  });
  const correct = pairs.filter((pair) => pair.expected === pair.got).length;
  return {
    items: pairs.length,
    accuracy: ratio(correct, pairs.length),
    macroF1: mean(figures.map((f) => f.f1)),
    labels: figures,
  };
}

/** How a trained model does on a labelled test set (gold "none" for out-of-scope texts). */
export function evaluateIntents(
  model: IntentModel,
  test: readonly IntentExample[],
): ClassificationFigures {
  return classificationFigures(
    test.map((example) => ({ expected: example.intent, got: model.predict(example.text).intent })),
  );
}

/** How {@link sentiment} does on labelled sentences. */
export function evaluateSentiment(items: readonly LabelledSentiment[]): ClassificationFigures {
  return classificationFigures(
    items.map((item) => ({ expected: item.label, got: sentiment(item.text).label })),
  );
}

/**
 * Entity extraction against gold spans: a prediction counts when its type and exact text
 * match a gold entity not matched yet; `valueAccuracy` is over matched gold entities that
 * have a gold value.
 */
export function evaluateEntities(
  items: readonly LabelledEntities[],
  now: number,
): { types: LabelFigures[]; microF1: number; valueAccuracy: number; valuesChecked: number } {
  const types: EntityType[] = ["email", "url", "amount", "date"];
  const counts = new Map(types.map((type) => [type, { tp: 0, fp: 0, fn: 0 }]));
  let valuesChecked = 0;
  let valuesRight = 0;
  for (const item of items) {
    const gold = [...item.entities];
    for (const found of extractEntities(item.text, now)) {
      const count = counts.get(found.type);
      if (!count) continue;
      const index = gold.findIndex((g) => g.type === found.type && g.text === found.text);
      if (index === -1) {
        count.fp += 1;
        continue;
      }
      count.tp += 1;
      const [matched] = gold.splice(index, 1);
      if (matched?.value !== undefined) {
        valuesChecked += 1;
        if (matched.value === found.value) valuesRight += 1;
      }
    }
    for (const missed of gold) {
      const count = counts.get(missed.type);
      if (count) count.fn += 1;
    }
  }
  const all = { tp: 0, fp: 0, fn: 0 };
  const figures = types.map((type) => {
    const count = counts.get(type) ?? { tp: 0, fp: 0, fn: 0 };
    all.tp += count.tp;
    all.fp += count.fp;
    all.fn += count.fn;
    return figuresOf(type, count.tp, count.fp, count.fn);
  });
  return {
    types: figures,
    microF1: figuresOf("all", all.tp, all.fp, all.fn).f1,
    valueAccuracy: ratio(valuesRight, valuesChecked),
    valuesChecked,
  };
}

function figuresOf(label: string, tp: number, fp: number, fn: number): LabelFigures {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { label, precision, recall, f1, support: tp + fn };
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}
