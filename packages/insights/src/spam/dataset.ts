import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { InsightsError } from "../errors.js";

export const SpamLabel = Type.Union([Type.Literal("ham"), Type.Literal("spam")]);
export type SpamLabel = Static<typeof SpamLabel>;

const LabelledTokens = Type.Object({ label: SpamLabel, value: Type.Array(Type.String()) });

/** One message of the corpus: its label and its stemmed tokens. */
export type LabelledTokens = Static<typeof LabelledTokens>;

// Only the part we read; the file also holds the old classifier's state, which we ignore.
const Store = Type.Object({ docs: Type.Array(LabelledTokens) });

let cached: readonly LabelledTokens[] | undefined;

/** Where the SMS Spam Collection ships: `store.json` of the `spam-detection` package. */
export function spamDatasetPath(): string {
  return createRequire(import.meta.url).resolve("spam-detection/store.json");
}

/** Parses a `store.json`-shaped value into its labelled token lists. */
export function parseSpamDataset(value: unknown): LabelledTokens[] {
  if (!Value.Check(Store, value)) {
    throw new InsightsError("dataset_invalid");
  }
  return value.docs;
}

/**
 * The UCI SMS Spam Collection as labelled, Porter-stemmed token lists (5,571 messages, 747
 * spam), read once per process and kept in corpus order.
 */
export function loadSpamDataset(): readonly LabelledTokens[] {
  cached ??= parseSpamDataset(JSON.parse(readFileSync(spamDatasetPath(), "utf8")));
  return cached;
}
