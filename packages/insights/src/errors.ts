/** Every error code of this package with its message; docs/moderation.md lists them in this order. */
export const insightsErrorCodes = {
  dataset_invalid: "The spam dataset does not have the expected shape.",
  fixture_invalid: "A line of labelled messages is malformed.",
  intent_examples_invalid: "The intent examples cannot train a model.",
} as const;

export type InsightsErrorCode = keyof typeof insightsErrorCodes;

/** An error of this package, with a stable {@link InsightsErrorCode}; callers switch on `code`. */
export class InsightsError extends Error {
  readonly code: InsightsErrorCode;

  /** `detail` (never user content) follows the registry's message, e.g. "(line 3)". */
  constructor(code: InsightsErrorCode, detail?: string) {
    super(detail ? `${insightsErrorCodes[code]} ${detail}` : insightsErrorCodes[code]);
    this.name = "InsightsError";
    this.code = code;
  }
}
