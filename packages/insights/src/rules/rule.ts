import type { Category } from "../categories.js";

/**
 * A weighted pattern over normalised text (see `normalizeText`). It fires when every pattern
 * in `all` matches; its weight is its score on its own, and several rules of one category
 * add up as independent evidence (noisy-or).
 */
export interface Rule {
  /** Stable id, "<category>.<what>", e.g. "fraud.gift-card-payment". */
  id: string;
  category: Category;
  /** In (0, 1]. */
  weight: number;
  /** Why it fired, for a moderator; never quotes the input. */
  reason: string;
  all: readonly RegExp[];
  /** Context tags that {@link Dampener}s refer to. */
  tags?: readonly string[];
}

/**
 * Context that makes the rules it names less likely to mean harm (news reporting, a joke, a
 * scam warning): every signal carrying one of its tags is multiplied by `factor`.
 */
export interface Dampener {
  id: string;
  factor: number;
  pattern: RegExp;
  tags: readonly string[];
  /** Added to the finding's reasons when it lowered a score. */
  reason: string;
}

/**
 * Builds a case-insensitive RegExp from a template whose `${…}` parts are regex fragments
 * (alternations are wrapped in a non-capturing group).
 */
export function re(strings: TemplateStringsArray, ...parts: string[]): RegExp {
  return new RegExp(String.raw({ raw: strings.raw }, ...parts.map((part) => `(?:${part})`)), "i");
}

/** An alternation of words or fragments, as a regex fragment. */
export function anyOf(...alternatives: string[]): string {
  return alternatives.join("|");
}

/** `a` and `b` within `gap` characters of each other, in either order. */
export function near(a: string, b: string, gap = 40): string {
  return `(?:${a})[\\s\\S]{0,${gap}}?(?:${b})|(?:${b})[\\s\\S]{0,${gap}}?(?:${a})`;
}

export function rule(
  id: string,
  category: Category,
  weight: number,
  reason: string,
  all: RegExp | readonly RegExp[],
  tags?: readonly string[],
): Rule {
  return {
    id,
    category,
    weight,
    reason,
    all: all instanceof RegExp ? [all] : all,
    ...(tags ? { tags } : {}),
  };
}
