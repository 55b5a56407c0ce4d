import {
  type Analysis,
  type Category,
  categories,
  type Finding,
  type Thresholds,
} from "./categories.js";
import type { Dampener, Rule } from "./rules/rule.js";

/** One piece of evidence for a category. */
export interface Signal {
  category: Category;
  weight: number;
  reason: string;
  tags?: readonly string[];
}

const maxReasons = 5;

/** The signals of every rule that fires on the normalised text. */
export function ruleSignals(rules: readonly Rule[], normalised: string): Signal[] {
  const signals: Signal[] = [];
  for (const rule of rules) {
    if (rule.all.every((pattern) => pattern.test(normalised))) {
      signals.push({
        category: rule.category,
        weight: rule.weight,
        reason: rule.reason,
        ...(rule.tags ? { tags: rule.tags } : {}),
      });
    }
  }
  return signals;
}

/**
 * Combines signals into findings: dampeners scale the signals they apply to, each
 * category's weights combine as independent evidence (1 - Π(1 - w)), and a category is
 * reported when its score reaches its threshold.
 */
export function combineSignals(
  signals: readonly Signal[],
  dampeners: readonly Dampener[],
  normalised: string,
  thresholds: Thresholds,
): Analysis {
  const active = dampeners.filter((dampener) => dampener.pattern.test(normalised));
  const perCategory = new Map<Category, { miss: number; reasons: Map<string, number> }>();
  for (const signal of signals) {
    let weight = signal.weight;
    const applied: Dampener[] = [];
    for (const dampener of active) {
      if (signal.tags?.some((tag) => dampener.tags.includes(tag))) {
        weight *= dampener.factor;
        applied.push(dampener);
      }
    }
    const entry = perCategory.get(signal.category) ?? { miss: 1, reasons: new Map() };
    entry.miss *= 1 - Math.min(1, Math.max(0, weight));
    entry.reasons.set(signal.reason, Math.max(entry.reasons.get(signal.reason) ?? 0, weight));
    for (const dampener of applied) {
      if (!entry.reasons.has(dampener.reason)) entry.reasons.set(dampener.reason, -1);
    }
    perCategory.set(signal.category, entry);
  }
  const findings: Finding[] = [];
  for (const category of categories) {
    const entry = perCategory.get(category);
    if (!entry) continue;
    const score = Math.round((1 - entry.miss) * 1000) / 1000;
    if (score <= 0 || score < thresholds[category]) continue;
    const reasons = [...entry.reasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, maxReasons)
      .map(([reason]) => reason);
    findings.push({ category, score, reasons });
  }
  // Stable sort: on equal scores the more severe category (earlier in `categories`) leads.
  findings.sort((a, b) => b.score - a.score);
  return { findings, top: findings[0] ?? null };
}
