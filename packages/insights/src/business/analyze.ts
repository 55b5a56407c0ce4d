import { type Entity, extractEntities } from "./entities.js";
import type { IntentModel, IntentPrediction } from "./intent-model.js";
import { type Sentiment, sentiment } from "./sentiment.js";
import {
  type BurstLimit,
  defaultBurstLimit,
  type SuspiciousSignals,
  suspiciousSignals,
} from "./suspicious.js";

/** Everything the gateway attaches to an incoming message. */
export interface MessageInsights {
  /** null when the business has trained no intent model. */
  intent: IntentPrediction | null;
  sentiment: Sentiment;
  entities: Entity[];
  suspicious: SuspiciousSignals;
}

export interface BusinessMessageContext {
  /** The business's model, or null when it has none. */
  intents: IntentModel | null;
  /** When (ms since the epoch) the sender's earlier messages were sent. */
  recentFromSender: readonly number[];
  /** When this message was sent (ms); also the reference for relative dates. */
  now: number;
  /** More than `maxMessages` (5) within `windowMs` (60 s), this one included, is a burst. */
  burst?: Partial<BurstLimit>;
}

/**
 * How much of a message is analysed. Support messages are short; the cap keeps the worst
 * case (a message of digits or one endless "word", which makes the date parser and the
 * tokenizer slow) to tens of milliseconds. Entity offsets stay offsets into the full text.
 */
export const maxAnalysedLength = 1_000;

/**
 * Intent, sentiment, entities and suspicious-activity signals of one customer message,
 * computed in-process (no network), synchronously; a few milliseconds once warm (the first
 * call loads the wink-nlp model and trains the spam model). Only the first
 * {@link maxAnalysedLength} characters are analysed.
 *
 * @example
 * analyzeBusinessMessage("My parcel never arrived, refund €30 please", {
 *   intents: model, recentFromSender: [], now: Date.now(),
 * });
 * // { intent: { intent: "return_refund", confidence: 0.79 }, sentiment: { label: "negative", … },
 * //   entities: [{ type: "amount", text: "€30", value: "EUR 30.00", … }], suspicious: { … } }
 */
export function analyzeBusinessMessage(
  text: string,
  context: BusinessMessageContext,
): MessageInsights {
  const limit: BurstLimit = { ...defaultBurstLimit, ...context.burst };
  const analysed = head(text, maxAnalysedLength);
  return {
    intent: context.intents ? context.intents.predict(analysed) : null,
    sentiment: sentiment(analysed),
    entities: extractEntities(analysed, context.now),
    suspicious: suspiciousSignals(analysed, context.recentFromSender, context.now, limit),
  };
}

/** The first `max` UTF-16 units of a text, without splitting a surrogate pair. */
function head(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
