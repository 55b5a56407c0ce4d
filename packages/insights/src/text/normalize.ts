import { splitRun } from "./spaced-words.js";

/**
 * Characters that look like Latin letters, from Cyrillic and Greek (lower case, after NFKC).
 * Not a full confusables table: the ones used to dodge filters and to spoof brand names.
 */
const confusables: Readonly<Record<string, string>> = {
  // Cyrillic
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  һ: "h",
  н: "h",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  ӏ: "l",
  м: "m",
  о: "o",
  р: "p",
  ԛ: "q",
  г: "r",
  с: "c",
  ѕ: "s",
  т: "t",
  у: "y",
  ԝ: "w",
  х: "x",
  ԁ: "d",
  // Greek
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "i",
  κ: "k",
  μ: "u",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  ω: "w",
  γ: "y",
  // Latin look-alikes outside ASCII
  ı: "i",
  ɡ: "g",
  ɑ: "a",
};

const leet: Readonly<Record<string, string>> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "7": "t",
  "@": "a",
  $: "s",
  "!": "i",
};

/** Soft hyphen, grapheme joiner, zero-width spaces and joiners, BOM: used to split words. */
export const invisible = /\u00ad|\u034f|\u180e|[\u200b-\u200f]|[\u2060-\u2064]|\ufeff/g;
const latinLetter = /[a-z]/;
const nonLatinLetter = /(?![a-z])\p{L}/u;

/** True when a word mixes Latin letters with letters of another script ("pаypal" with a Cyrillic а). */
export function isMixedScript(word: string): boolean {
  const lower = word.toLowerCase();
  return latinLetter.test(lower) && nonLatinLetter.test(lower);
}

/** Maps look-alike letters to Latin in words that are mixed-script or made only of look-alikes. */
export function foldConfusables(text: string): string {
  return text.replace(/\p{L}+/gu, (word) => {
    let mapped = "";
    let allMappable = true;
    for (const char of word) {
      const latin = confusables[char];
      if (latin === undefined && !latinLetter.test(char)) allMappable = false;
      mapped += latin ?? char;
    }
    return allMappable || latinLetter.test(word) ? mapped : word;
  });
}

/** Removes accents: "shît" -> "shit". */
function stripMarks(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "")
    .normalize("NFC");
}

/**
 * Reads leetspeak in tokens that mix at least two letters with digits or symbols, a letter
 * coming first: "k1ll" -> "kill", "a$$" -> "ass", but "10am" and "4sale" stay.
 */
function undoLeet(text: string): string {
  return text.replace(/[\p{L}\p{N}@$!]+/gu, (token) => {
    const letters = token.match(/\p{L}/gu)?.length ?? 0;
    if (letters < 2 || !/\p{L}[^\p{L}]*[0134579@$!]/u.test(token)) return token;
    // "sub4sub", "follow4follow": a 4 between two equal words means "for".
    if (/^(\p{L}+)4\1$/u.test(token)) return token;
    // A trailing "!" is punctuation, not an "i".
    const body = token.replace(/!+$/, "");
    const tail = token.slice(body.length);
    return [...body].map((char) => leet[char] ?? char).join("") + tail;
  });
}

/**
 * Joins letters spelt out one by one: "k i l l", "k.i.l.l" -> "kill"; a longer run is split
 * back into words where it can be ("s e l l i n g h e r o i n" -> "selling heroin").
 */
function joinSpacedLetters(text: string): string {
  return text.replace(
    /(?<![\p{L}\p{N}])\p{L}(?:[\s.\-_*·]{1,2}\p{L}(?![\p{L}\p{N}])){2,}/gu,
    (run) => {
      const joined = run.replace(/[\s.\-_*·]/g, "");
      return splitRun(joined) ?? joined;
    },
  );
}

/**
 * The form every rule reads: NFKC, lower case, invisible characters dropped, look-alike
 * letters folded to Latin, accents removed, leetspeak and spaced-out letters undone, runs of
 * three or more equal letters cut to two, curly quotes straightened, spaces collapsed.
 *
 * @example normalizeText("B U Y  c0caine!!!") // "buy cocaine!!!"
 */
export function normalizeText(text: string): string {
  let out = text.normalize("NFKC").toLowerCase().replace(invisible, "");
  out = stripMarks(foldConfusables(out));
  out = out.replace(/[\u2018\u2019\u02bc`´]/g, "'").replace(/[\u201c\u201d]/g, '"');
  out = joinSpacedLetters(undoLeet(out));
  out = out.replace(/(\p{L})\1{2,}/gu, "$1$1");
  return out.replace(/\s+/g, " ").trim();
}
