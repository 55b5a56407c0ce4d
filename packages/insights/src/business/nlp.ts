import model from "wink-eng-lite-web-model";
import winkNlp, { type ItsFunction } from "wink-nlp";

type Nlp = ReturnType<typeof winkNlp>;

let shared: Nlp | undefined;

/** The process-wide wink-nlp pipeline, loaded on first use (about 100 ms, once). */
export function nlp(): Nlp {
  shared ??= winkNlp(model, ["sbd", "negation"]);
  return shared;
}

/** A word of a text as the intent model and the sentiment layer see it. */
export interface WordToken {
  /** Lower-cased Porter stem. */
  stem: string;
  /** Lower-cased surface form. */
  normal: string;
  /** Inside the scope of a negation ("not", "never", "n't"…), per wink-nlp. */
  negated: boolean;
  stopWord: boolean;
}

/**
 * Runs of more than this many non-space characters are no words (links, codes, padding) and
 * wink-nlp's tokenizer slows down sharply on them: they are dropped before tokenizing.
 */
const maxWordLength = 40;
const overlongRun = new RegExp(String.raw`\S{${maxWordLength + 1},}`, "gu");

/** The text as the word-level analyses read it: without over-long runs of non-space characters. */
export function wordText(text: string): string {
  return text.replace(overlongRun, " ");
}

/** The word tokens of a text (no punctuation, numbers, emails or links). */
export function wordTokens(text: string): WordToken[] {
  const its = nlp().its;
  const tokens = nlp().readDoc(wordText(text)).tokens();
  const types = tokens.out(its.type);
  const stems = tokens.out(its.stem as unknown as ItsFunction<string>); // its.stem is typed for a wider call
  const normals = tokens.out(its.normal);
  const negations = tokens.out(its.negationFlag);
  const stopWords = tokens.out(its.stopWordFlag);
  const words: WordToken[] = [];
  for (const [index, type] of types.entries()) {
    if (type !== "word") continue;
    words.push({
      stem: String(stems[index] ?? "").toLowerCase(),
      normal: String(normals[index] ?? "").toLowerCase(),
      negated: negations[index] === true,
      stopWord: stopWords[index] === true,
    });
  }
  return words;
}

/**
 * Function words left out of intent features. wink-nlp's own stop-word list is meant for
 * search and drops words that carry a support request ("call", "back", "give", "where").
 */
const functionWords: ReadonlySet<string> = new Set(
  (
    "a an the and or but if so of to in on at by for with from into onto about as than then " +
    "i me my mine we us our you your yours he him his she her it its they them their this that " +
    "these those there here is are was were be been being am do does did done have has had " +
    "will would shall should can could may might must 's 're 've 'd 'll 'm ca wo n't not no " +
    "please pls hi hello hey thanks thank just also too very really any some all yet still"
  ).split(" "),
);

/**
 * The features of a text for intent classification: stems of the words that are not function
 * words. Negation is left out on purpose: with a few examples per intent, "can't log in"
 * and "log in" must share their features (the request is the same).
 */
export function contentFeatures(text: string): string[] {
  return wordTokens(text)
    .filter((word) => !functionWords.has(word.normal) && word.stem.length > 1)
    .map((word) => word.stem);
}
