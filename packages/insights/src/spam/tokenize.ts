import { stemmer } from "stemmer";

/**
 * The stop-words of the tokenizer that produced the SMS Spam Collection tokens in
 * `spam-detection/store.json` (natural's Porter tokenizer, as bundled by bayes-classifier).
 * Copied as data: matching its tokens is what lets a model trained on them read our input.
 */
const datasetStopwords: ReadonlySet<string> = new Set(
  [
    "about after all also am an and another any are as at be because been before being between",
    "both but by came can come could did do each for from get got has had he have her here him",
    "himself his how if in into is it like make many me might more most much must my never now",
    "of on only or other our out over said same see should since some still such take than that",
    "the their them then there these they this those through to too under up very was way we",
    "well were what where which while who with would you your",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z $ 1 2 3 4 5 6 7 8 9 0 _",
  ]
    .join(" ")
    .split(" "),
);

/**
 * Stems one word as the dataset's stemmer did. `stemmer` (wooorm) is the standard Porter
 * algorithm; the dataset's port never strips a final "s" or "e" from words of three letters
 * or fewer, so "yes", "its", "use", "are" and "one" stay whole there, and must here too.
 */
export function stemLikeDataset(word: string): string {
  const lower = word.toLowerCase();
  if (lower.length <= 3 && (lower.endsWith("s") || lower.endsWith("e"))) return lower;
  return stemmer(lower);
}

/**
 * Splits text into the dataset's tokens: runs of [A-Za-z0-9_], stop-words dropped, the rest
 * lower-cased and Porter-stemmed. The stop-word check is case-sensitive, as in the dataset
 * ("I" and "U" are kept, "i" and "u" are not).
 *
 * @example spamTokens("Go until jurong point, crazy..") // ["go", "until", "jurong", "point", "crazi"]
 */
export function spamTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.normalize("NFKC").split(/\W+/)) {
    if (word === "" || datasetStopwords.has(word)) continue;
    tokens.push(stemLikeDataset(word));
  }
  return tokens;
}
