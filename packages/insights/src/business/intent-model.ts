import naiveBayesTextClassifier from "wink-naive-bayes-text-classifier";
import { InsightsError } from "../errors.js";
import { contentFeatures } from "./nlp.js";

/** One training example: a customer's message and the intent the business gives it. */
export interface IntentExample {
  intent: string;
  text: string;
}

/** The most likely intent of a message; `intent` is "none" when `confidence` is below the threshold. */
export interface IntentPrediction {
  intent: string;
  confidence: number;
}

/** The intent given to a message that fits none of the trained intents. */
export const noIntent = "none";

/**
 * The default threshold. Chosen with `node packages/insights/scripts/business-eval.js` on data the test set never
 * touches: the value that maximises macro-F1 over leave-one-out predictions of the training
 * examples plus a development set of out-of-scope texts (data/business/intents-dev-none.jsonl).
 * With a dozen examples per intent a higher value turns too many real requests into "none";
 * a business with more examples per intent may raise it.
 */
export const defaultIntentThreshold = 0.4;

const minIntents = 2;
const minExamplesPerIntent = 3;
const maxIntentLength = 64;

/**
 * An intent classifier trained per business from its own examples: wink-nlp stems of the
 * content words, a wink naive Bayes classifier (presence only), and a confidence that also
 * falls with the share of the message's words the examples never used, so an off-topic
 * message that happens to share one word with an intent still comes out "none".
 *
 * @example
 * const model = IntentModel.train(examples);
 * model.predict("where is my parcel?"); // { intent: "order_status", confidence: 0.98 }
 */
export class IntentModel {
  /** The trained intents, sorted. */
  readonly intents: readonly string[];
  /** Predictions whose confidence is below it come out "none". */
  readonly threshold: number;
  readonly #classifier: ReturnType<typeof naiveBayesTextClassifier>;
  readonly #vocabulary: ReadonlySet<string>;

  private constructor(
    classifier: ReturnType<typeof naiveBayesTextClassifier>,
    intents: readonly string[],
    vocabulary: ReadonlySet<string>,
    threshold: number,
  ) {
    this.#classifier = classifier;
    this.intents = intents;
    this.#vocabulary = vocabulary;
    this.threshold = threshold;
  }

  /**
   * Trains a model. Throws `InsightsError` "intent_examples_invalid" when there are fewer than
   * two intents, an intent has fewer than three examples, a text or intent name is empty, an
   * intent is called "none", or the threshold is outside [0, 1].
   */
  static train(
    examples: readonly IntentExample[],
    options: { threshold?: number } = {},
  ): IntentModel {
    const threshold = options.threshold ?? defaultIntentThreshold;
    if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
      throw new InsightsError("intent_examples_invalid", "(the threshold must be in [0, 1])");
    }
    const byIntent = new Map<string, string[][]>();
    for (const [index, example] of examples.entries()) {
      const intent = typeof example.intent === "string" ? example.intent.trim() : "";
      if (intent.length === 0 || intent.length > maxIntentLength) {
        throw new InsightsError(
          "intent_examples_invalid",
          `(example ${index + 1}: the intent must be 1 to ${maxIntentLength} characters)`,
        );
      }
      if (intent === noIntent) {
        throw new InsightsError(
          "intent_examples_invalid",
          `(example ${index + 1}: "${noIntent}" is the answer below the threshold, not an intent)`,
        );
      }
      if (typeof example.text !== "string" || example.text.trim().length === 0) {
        throw new InsightsError(
          "intent_examples_invalid",
          `(example ${index + 1}: the text is empty)`,
        );
      }
      const features = contentFeatures(example.text);
      if (features.length === 0) {
        throw new InsightsError(
          "intent_examples_invalid",
          `(example ${index + 1}: the text has no content words)`,
        );
      }
      const list = byIntent.get(intent) ?? [];
      list.push(features);
      byIntent.set(intent, list);
    }
    if (byIntent.size < minIntents) {
      throw new InsightsError(
        "intent_examples_invalid",
        `(${byIntent.size} intent(s); at least ${minIntents} are needed)`,
      );
    }
    for (const [intent, list] of byIntent) {
      if (list.length < minExamplesPerIntent) {
        throw new InsightsError(
          "intent_examples_invalid",
          `(intent "${intent}" has ${list.length} example(s); at least ${minExamplesPerIntent} are needed)`,
        );
      }
    }
    const classifier = naiveBayesTextClassifier();
    // Presence only: a word repeated in one example is no stronger evidence. Light smoothing:
    // it did best on the development data (leave-one-out, see defaultIntentThreshold).
    classifier.defineConfig({ considerOnlyPresence: true, smoothingFactor: 0.1 });
    classifier.definePrepTasks([]);
    const vocabulary = new Set<string>();
    for (const [intent, list] of byIntent) {
      for (const features of list) {
        classifier.learn(features, intent);
        for (const feature of features) vocabulary.add(feature);
      }
    }
    try {
      classifier.consolidate();
    } catch {
      // The only other refusal: fewer than 10 distinct content words over all examples.
      throw new InsightsError(
        "intent_examples_invalid",
        "(the examples use fewer than 10 distinct content words)",
      );
    }
    return new IntentModel(classifier, [...byIntent.keys()].sort(), vocabulary, threshold);
  }

  /** The most likely intent, or "none" when the confidence is below {@link threshold}. */
  predict(text: string): IntentPrediction {
    const { intent, confidence } = this.score(text);
    return confidence >= this.threshold && intent !== noIntent
      ? { intent, confidence }
      : { intent: noIntent, confidence };
  }

  /**
   * The best intent and its confidence before the threshold is applied (for evaluation).
   * Confidence = P(intent | known words) from the classifier's one-against-the-rest log-odds,
   * times the square root of the share of the message's content words that the examples
   * used (the root: with a dozen examples per intent many in-scope words are still new).
   */
  score(text: string): IntentPrediction {
    const features = contentFeatures(text);
    if (features.length === 0) return { intent: noIntent, confidence: 0 };
    const known = features.filter((feature) => this.#vocabulary.has(feature)).length;
    if (known === 0) return { intent: noIntent, confidence: 0 };
    const [best] = this.#classifier.computeOdds(features);
    if (best === undefined || !this.intents.includes(best[0])) {
      return { intent: noIntent, confidence: 0 };
    }
    const probability = 1 / (1 + 2 ** -best[1]);
    const coverage = known / features.length;
    return { intent: best[0], confidence: round(probability * Math.sqrt(coverage)) };
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
