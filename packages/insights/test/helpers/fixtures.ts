import { readFileSync } from "node:fs";
import { type LabelledMessage, parseLabelledMessages } from "@veil/insights";

/** The hand-written messages of test/fixtures/messages.jsonl. */
export function labelledMessages(): LabelledMessage[] {
  return parseLabelledMessages(
    readFileSync(new URL("../fixtures/messages.jsonl", import.meta.url), "utf8"),
  );
}

/** docs/moderation.md, whose figures section the evaluation script writes. */
export const moderationDocUrl = new URL("../../../../docs/moderation.md", import.meta.url);
