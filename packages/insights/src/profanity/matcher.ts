import {
  englishDataset,
  englishRecommendedTransformers,
  type MatchPayload,
  RegExpMatcher,
} from "obscenity";
import type { Category } from "../categories.js";
import type { Signal } from "../scoring.js";
import { defaultAllowList } from "./allow-list.js";

interface WordClass {
  /** Signals a match of this word gives; an empty list means it is ignored. */
  signals: ReadonlyArray<{ category: Category; weight: number; label: string }>;
}

const slur: WordClass = { signals: [{ category: "hate", weight: 0.7, label: "slur" }] };
const explicit: WordClass = {
  signals: [
    { category: "profanity", weight: 0.4, label: "profanity" },
    { category: "sexual", weight: 0.4, label: "sexually explicit term" },
  ],
};
const profane: WordClass = {
  signals: [{ category: "profanity", weight: 0.4, label: "profanity" }],
};
const anatomy: WordClass = {
  signals: [{ category: "sexual", weight: 0.2, label: "sexual or anatomical term" }],
};
const ignored: WordClass = { signals: [] };

/**
 * How each word of obscenity's English dataset counts. Slurs are hate; sexual acts are
 * profanity and (weakly) sexual; anatomy and "sex" are only weakly sexual, so that "sexy new
 * phone" or a doctor's advice is mild at most; "rape" is ignored here because news uses it:
 * the violence rules catch threats. Anything not listed is plain profanity.
 */
const wordClasses: Readonly<Record<string, WordClass>> = {
  abo: slur,
  abeed: slur,
  africoon: slur,
  arabush: slur,
  boonga: slur,
  chingchong: slur,
  chink: slur,
  fag: slur,
  kike: slur,
  negro: slur,
  nigger: slur,
  retard: slur,
  spastic: slur,
  tranny: slur,
  dyke: slur,
  blowjob: explicit,
  buttplug: explicit,
  cum: explicit,
  deepthroat: explicit,
  dildo: explicit,
  doggystyle: explicit,
  "double penetration": explicit,
  ejaculate: explicit,
  felch: explicit,
  fellatio: explicit,
  "finger bang": explicit,
  fisting: explicit,
  gangbang: explicit,
  handjob: explicit,
  hentai: explicit,
  "jerk off": explicit,
  jizz: explicit,
  lubejob: explicit,
  masturbate: explicit,
  orgasm: explicit,
  orgy: explicit,
  porn: explicit,
  bestiality: explicit,
  penis: anatomy,
  vagina: anatomy,
  anus: anatomy,
  anal: anatomy,
  semen: anatomy,
  sex: anatomy,
  incest: anatomy,
  rape: ignored,
};

/** "nigger" -> "n*****": reasons name the word without spelling it out. */
function mask(word: string): string {
  return word
    .split(" ")
    .map((part) => (part.length <= 1 ? part : `${part[0]}${"*".repeat(part.length - 1)}`))
    .join(" ");
}

/** Finds profanity, slurs and sexual terms with obscenity, minus an allow-list. */
export class ProfanityChecker {
  readonly #matcher: RegExpMatcher;

  /** `allowList` adds to {@link defaultAllowList}: words or names never to flag. */
  constructor(allowList: readonly string[] = []) {
    const built = englishDataset.build();
    const extra = [...defaultAllowList, ...allowList]
      .map((term) => term.toLowerCase().replace(/\s+/g, " ").trim())
      .filter((term) => term !== "");
    this.#matcher = new RegExpMatcher({
      ...built,
      whitelistedTerms: [...(built.whitelistedTerms ?? []), ...extra],
      ...englishRecommendedTransformers,
    });
  }

  /** The dataset words (obscenity's canonical spelling) found in any of the given forms of a text. */
  words(...forms: string[]): Set<string> {
    const found = new Set<string>();
    for (const form of forms) {
      for (const match of this.#matcher.getAllMatches(form)) found.add(originalWord(match));
    }
    return found;
  }

  /** Signals for the words found; `forms` are the raw and the normalised text. */
  signals(...forms: string[]): Signal[] {
    const out: Signal[] = [];
    for (const word of this.words(...forms)) {
      const wordClass = wordClasses[word] ?? profane;
      for (const { category, weight, label } of wordClass.signals) {
        out.push({ category, weight, reason: `${label} ("${mask(word)}")`, tags: [category] });
      }
    }
    return out;
  }
}

function originalWord(match: MatchPayload): string {
  return (
    englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord ?? "unknown"
  );
}
