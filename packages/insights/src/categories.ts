/** Every category a finding can have, most severe first. */
export const categories = [
  "illegal",
  "violence",
  "hate",
  "sexual",
  "fraud",
  "spam",
  "profanity",
] as const;

export type Category = (typeof categories)[number];

/**
 * The categories that break the content guidelines on their own. `profanity` is not among
 * them: it only adds risk where content must suit all ages.
 */
export const guidelineCategories: readonly Category[] = [
  "illegal",
  "violence",
  "hate",
  "sexual",
  "fraud",
  "spam",
];

/** One category that fired, with a score in [0, 1] and why (short, never the input itself). */
export interface Finding {
  category: Category;
  score: number;
  reasons: string[];
}

/** What {@link analyzeText} returns: one finding per category that fired, most likely first. */
export interface Analysis {
  findings: Finding[];
  /** The finding with the highest score (the more severe category on a tie), or null. */
  top: Finding | null;
}

/** A score per category, e.g. the minimum for a finding to be reported, or to block a post. */
export type Thresholds = Readonly<Record<Category, number>>;

/**
 * The scores at which a category is reported. Profanity is reported earlier because it is
 * low-severity information (age-appropriateness), not a violation.
 */
export const defaultThresholds: Thresholds = {
  illegal: 0.5,
  violence: 0.5,
  hate: 0.5,
  sexual: 0.5,
  fraud: 0.5,
  spam: 0.5,
  profanity: 0.3,
};

/** Checks that a string names a category (for values read from configuration or fixtures). */
export function isCategory(value: string): value is Category {
  return (categories as readonly string[]).includes(value);
}
