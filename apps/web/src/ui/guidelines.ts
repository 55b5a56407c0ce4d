import type { GuidelineCategory, ReportReason } from "@veil/sdk";
import { guidelineCategories } from "@veil/sdk";

/** Each content guideline in words, as a person reads it ("… the guidelines on fraud and scams"). */
export const guidelineNames: Record<GuidelineCategory, string> = {
  illegal: "illegal goods and activities",
  violence: "violence and threats",
  hate: "hate and harassment",
  sexual: "sexual content",
  fraud: "fraud and scams",
  spam: "spam",
};

/** A guideline's name for a label or a list ("Fraud and scams"). */
export function guidelineTitle(category: string | null | undefined): string {
  if (!category) return "No guideline named";
  const words = isGuideline(category) ? guidelineNames[category] : category;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function isGuideline(value: string): value is GuidelineCategory {
  return (guidelineCategories as readonly string[]).includes(value);
}

/** Why someone reports, in the order a form offers it: every guideline, then "Something else". */
export const reportReasons: Array<{ value: ReportReason; label: string }> = [
  ...guidelineCategories.map((category) => ({ value: category, label: guidelineTitle(category) })),
  { value: "other", label: "Something else" },
];

export function reasonTitle(reason: string): string {
  return reason === "other" ? "Something else" : guidelineTitle(reason);
}

/** "Held for review" and friends: what the checks or a moderator did, in words. */
export const heldNote = "Held for review: followers will see it once a moderator releases it.";
