import vader from "vader-sentiment";
import { wordText, wordTokens } from "./nlp.js";

export type SentimentLabel = "positive" | "neutral" | "negative";

/** `score` is VADER's compound score in [-1, 1], extended by the support lexicon below. */
export interface Sentiment {
  label: SentimentLabel;
  score: number;
}

/** VADER's usual cut-offs: |compound| below 0.05 is neutral. */
const labelCutoff = 0.05;
/** VADER's normalisation constant (compound = x / sqrt(x² + alpha)). */
const alpha = 15;
/** VADER's factor for a word in the scope of a negation. */
const negationScalar = -0.74;

/**
 * Valences (VADER's -4..4 scale) that words have in customer-support talk, replacing VADER's
 * own (learnt from social media). Words VADER lacks: `works` is positive so that "never
 * works" and "doesn't work" come out negative through the negation, as "not good" does.
 * Words VADER scores that are neutral in a request here: "order number", "please",
 * "support", "pay", "cancel", "help", "want".
 */
const supportLexicon: ReadonlyMap<string, number> = new Map([
  ["work", 1.2],
  ["works", 1.2],
  ["working", 1.2],
  ["worked", 1.2],
  ["arrived", 0.8],
  ["received", 0.6],
  ["resolved", 1.5],
  ["fixed", 1.2],
  ["smoothly", 1.5],
  ["fast", 1.0],
  ["quick", 1.0],
  ["quickly", 1.0],
  ["broken", -1.8],
  ["broke", -1.5],
  ["damaged", -1.8],
  ["faulty", -1.8],
  ["defective", -1.8],
  ["cracked", -1.2],
  ["missing", -1.2],
  ["overcharged", -2.0],
  ["unacceptable", -2.5],
  ["ridiculous", -2.0],
  ["rude", -2.2],
  ["late", -1.0],
  ["delayed", -1.2],
  ["delays", -1.3],
  ["slow", -1.2],
  ["waiting", -0.6],
  ["wrong", -1.5],
  ["error", -1.2],
  ["crashes", -1.5],
  ["crashing", -1.5],
  ["crashed", -1.5],
  ["refund", -0.3],
  ["number", 0],
  ["please", 0],
  ["support", 0],
  ["pay", 0],
  ["cancel", 0],
  ["help", 0],
  ["want", 0],
]);

const vaderValences = new Map<string, number>();

/** VADER's own valence of a word (0 when its lexicon lacks it), from its score of the word alone. */
function vaderValence(word: string): number {
  let valence = vaderValences.get(word);
  if (valence === undefined) {
    valence = unnormalise(vader.SentimentIntensityAnalyzer.polarity_scores(word).compound);
    vaderValences.set(word, valence);
  }
  return valence;
}

/** Words that negate the next one for the support lexicon, beyond wink-nlp's negations. */
const negatingWords: ReadonlySet<string> = new Set(["nothing", "nobody", "stopped", "stops"]);

/**
 * The sentiment of a message: VADER (vader-sentiment) with a small customer-support lexicon
 * folded into its sum, negation taken from wink-nlp's negation scope, so "not bad" is positive
 * and "not happy", "never works" are negative.
 *
 * @example
 * sentiment("The app never works"); // { label: "negative", score: -0.22 }
 */
export function sentiment(text: string): Sentiment {
  const compound = vader.SentimentIntensityAnalyzer.polarity_scores(
    lowerCaseNegations(wordText(text)),
  ).compound;
  let extra = 0;
  let previous = "";
  for (const word of wordTokens(text)) {
    const valence = supportLexicon.get(word.normal);
    if (valence !== undefined) {
      // What this word adds beyond what VADER already counted for it.
      const change = valence - vaderValence(word.normal);
      const negated = word.negated || negatingWords.has(previous);
      extra += negated ? change * negationScalar : change;
    }
    previous = word.normal;
  }
  const score = extra === 0 ? compound : normalise(unnormalise(compound) + extra);
  const rounded = Math.round(score * 1000) / 1000;
  const label: SentimentLabel =
    rounded >= labelCutoff ? "positive" : rounded <= -labelCutoff ? "negative" : "neutral";
  return { label, score: rounded };
}

/**
 * The JavaScript port of VADER compares its negation words (and "but") case-sensitively, so
 * "Not bad" at the start of a sentence came out negative; lower-casing just those words
 * keeps its ALL-CAPS emphasis on the others.
 */
function lowerCaseNegations(text: string): string {
  return text.replace(/[\p{L}'’-]+/gu, (word) => {
    const lower = word.toLowerCase().replace(/’/g, "'");
    return vaderNegations.has(lower) || lower.endsWith("n't") || lower === "but" ? lower : word;
  });
}

/** VADER's negation words (vaderSentiment.js, NEGATE) that carry no apostrophe. */
const vaderNegations: ReadonlySet<string> = new Set(
  (
    "aint arent cannot cant couldnt darent didnt doesnt dont hadnt hasnt havent isnt mightnt " +
    "mustnt neither neednt never none nope nor not nothing nowhere oughtnt shant shouldnt " +
    "uhuh uh-uh wasnt werent without wont wouldnt rarely seldom despite"
  ).split(" "),
);

function normalise(sum: number): number {
  return sum / Math.sqrt(sum * sum + alpha);
}

/** VADER's sum of valences back from its compound score. */
function unnormalise(compound: number): number {
  const c = Math.max(-0.9999, Math.min(0.9999, compound));
  return c * Math.sqrt(alpha / (1 - c * c));
}
