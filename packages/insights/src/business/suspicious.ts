import { createAnalyzer } from "../analyzer.js";
import type { Analysis } from "../categories.js";
import { fraudRules } from "../rules/fraud.js";
import { normalizeText } from "../text/normalize.js";

/** Signals that a message may be abuse rather than a customer's request. */
export interface SuspiciousSignals {
  /** The moderation analyzer's spam score in [0, 1] (SMS-spam model and spam rules). */
  spamScore: number;
  /** Ids of the scam patterns that matched, e.g. "fraud.gift-card-payment" (see rules/fraud.ts). */
  scam: string[];
  /** The sender wrote more than the burst limit within the burst window. */
  burst: boolean;
  /** Any strong signal: a fraud or spam score of at least 0.5, or a burst. */
  suspicious: boolean;
}

export interface BurstLimit {
  windowMs: number;
  maxMessages: number;
}

export const defaultBurstLimit: BurstLimit = { windowMs: 60_000, maxMessages: 5 };

/** The moderation analyzer's default thresholds, used here for "strong". */
const strongScore = 0.5;

/** Every score reported, however low: the spam score is a figure, not a verdict. */
const analyzer = createAnalyzer({
  thresholds: {
    illegal: 0,
    violence: 0,
    hate: 0,
    sexual: 0,
    fraud: 0,
    spam: 0,
    profanity: 0,
  },
});

/** True when more than `maxMessages` fall within `windowMs` up to `now`, counting this one. */
export function isBurst(recent: readonly number[], now: number, limit: BurstLimit): boolean {
  const since = now - limit.windowMs;
  const inWindow = recent.filter((at) => at > since && at <= now).length + 1;
  return inWindow > limit.maxMessages;
}

/**
 * Scam patterns, spam score and bursts of one message, reusing the moderation analyzer
 * (fraud and spam rules, the SMS-spam model, link checks) and its scam-warning dampener: a
 * customer quoting a scam to ask about it gets the pattern names but not `suspicious`.
 */
export function suspiciousSignals(
  text: string,
  recent: readonly number[],
  now: number,
  limit: BurstLimit = defaultBurstLimit,
): SuspiciousSignals {
  const analysis = analyzer.analyze(text);
  const normalised = normalizeText(text);
  const scam = fraudRules
    .filter((rule) => rule.all.every((pattern) => pattern.test(normalised)))
    .map((rule) => rule.id);
  const spamScore = scoreOf(analysis, "spam");
  const fraudScore = scoreOf(analysis, "fraud");
  const burst = isBurst(recent, now, limit);
  return {
    spamScore,
    scam,
    burst,
    suspicious: burst || spamScore >= strongScore || fraudScore >= strongScore,
  };
}

function scoreOf(analysis: Analysis, category: "spam" | "fraud"): number {
  return analysis.findings.find((finding) => finding.category === category)?.score ?? 0;
}
