import * as chrono from "chrono-node";
import { LinkifyIt } from "linkify-it";

export type EntityType = "email" | "url" | "amount" | "date";

/**
 * A span of a message with a meaning a tool can act on. `start`/`end` are UTF-16 offsets
 * (`text === message.slice(start, end)`); `value` is normalised: a lower-cased email, a URL
 * with its scheme, "EUR 12.50", an ISO 8601 date ("2026-03-03", "2026-12-11T17:00", or
 * "start/end" for a range).
 */
export interface Entity {
  type: EntityType;
  text: string;
  start: number;
  end: number;
  value?: string;
}

let linkify: LinkifyIt | undefined;

function links(): LinkifyIt {
  // No IP-address links: they clash with version numbers and amounts like "1.2.3".
  linkify ??= new LinkifyIt().set({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: false });
  return linkify;
}

const currencySymbols: ReadonlyMap<string, string> = new Map([
  ["€", "EUR"],
  ["$", "USD"],
  ["us$", "USD"],
  ["£", "GBP"],
  ["¥", "JPY"],
  ["₹", "INR"],
  ["chf", "CHF"],
]);
const currencyCodes = [
  "EUR",
  "USD",
  "GBP",
  "CHF",
  "JPY",
  "CAD",
  "AUD",
  "SEK",
  "NOK",
  "DKK",
  "PLN",
  "CZK",
  "INR",
  "CNY",
];
const currencyWords: ReadonlyMap<string, string> = new Map([
  ["euro", "EUR"],
  ["euros", "EUR"],
  ["dollar", "USD"],
  ["dollars", "USD"],
  ["bucks", "USD"],
  ["pound", "GBP"],
  ["pounds", "GBP"],
  ["quid", "GBP"],
  ["francs", "CHF"],
  ["yen", "JPY"],
  ["rupees", "INR"],
]);
const number = String.raw`\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`;
const prefix = String.raw`US\$|[€$£¥₹]|\b(?:${currencyCodes.join("|")})\b`;
const suffix = String.raw`[€$£¥₹]|\b(?:${[...currencyCodes, ...currencyWords.keys()].join("|")})\b`;
const amountPattern = new RegExp(
  String.raw`(?<![\p{L}\p{N}.,])(?:(?<pre>${prefix}) ?(?<n1>${number})|(?<n2>${number}) ?(?<post>${suffix}))(?![\p{L}\p{N}]|[.,]\d)`,
  "giu",
);

/**
 * The amounts of money in a text: a number with a currency symbol, ISO code or name before
 * or after it ("€30", "12,50 €", "USD 1,200", "45 euros").
 */
function amounts(text: string): Entity[] {
  const found: Entity[] = [];
  for (const match of text.matchAll(amountPattern)) {
    const groups = match.groups ?? {};
    const marker = (groups.pre ?? groups.post ?? "").toLowerCase();
    const digits = groups.n1 ?? groups.n2 ?? "";
    const currency =
      currencySymbols.get(marker) ?? currencyWords.get(marker) ?? marker.toUpperCase();
    const start = match.index;
    found.push({
      type: "amount",
      text: match[0],
      start,
      end: start + match[0].length,
      value: `${currency} ${normaliseNumber(digits).toFixed(2)}`,
    });
  }
  return found;
}

/** "1,200" → 1200, "12,50" → 12.5, "1.234,56" → 1234.56: 1-2 digits after the last mark are decimals. */
function normaliseNumber(digits: string): number {
  const decimal = /[.,](\d{1,2})$/.exec(digits);
  const whole = (decimal ? digits.slice(0, decimal.index) : digits).replace(/[.,]/g, "");
  return Number(decimal ? `${whole}.${decimal[1]}` : whole);
}

function linkEntities(text: string): Entity[] {
  return (links().match(text) ?? []).map((match) => {
    const email = match.schema === "mailto:";
    return {
      type: email ? "email" : "url",
      text: match.raw,
      start: match.index,
      end: match.lastIndex,
      value: email ? match.url.replace(/^mailto:/i, "").toLowerCase() : match.url,
    } satisfies Entity;
  });
}

/** chrono reads "now" as a date; in a support chat it means "urgently". */
const notADate = /^(?:right )?now$/i;
/** chrono keeps the preposition ("on 3 March"); the entity is the date itself. */
const leadingPreposition = /^(?:on|by|at|from|until|till|before|after|since|in|for|of) /i;

function dates(text: string, now: number): Entity[] {
  const results = chrono.parse(text, { instant: new Date(now), timezone: 0 });
  const found: Entity[] = [];
  for (const result of results) {
    if (notADate.test(result.text.trim())) continue;
    const first = isoOf(result.start);
    const value = result.end ? `${first}/${isoOf(result.end)}` : first;
    const cut = leadingPreposition.exec(result.text)?.[0].length ?? 0;
    found.push({
      type: "date",
      text: result.text.slice(cut),
      start: result.index + cut,
      end: result.index + result.text.length,
      value,
    });
  }
  return found;
}

function isoOf(components: chrono.ParsedComponents): string {
  const pad = (value: number | null, width = 2) => String(value ?? 0).padStart(width, "0");
  const day = `${pad(components.get("year"), 4)}-${pad(components.get("month"))}-${pad(components.get("day"))}`;
  return components.isCertain("hour")
    ? `${day}T${pad(components.get("hour"))}:${pad(components.get("minute"))}`
    : day;
}

/** Which entity keeps a span when two overlap: links first (an amount inside a URL is not one). */
const priority: Readonly<Record<EntityType, number>> = { email: 0, url: 1, amount: 2, date: 3 };

/**
 * Emails and links (linkify-it), amounts of money, and dates (chrono-node, relative ones like
 * "next Friday" resolved against `now`, in UTC), in text order, without overlaps.
 *
 * @example
 * extractEntities("Refund €30 to ana@example.com by Friday", Date.parse("2026-12-05T10:00Z"));
 * // [{ type: "amount", text: "€30", value: "EUR 30.00", … }, { type: "email", … }, { type: "date", … }]
 */
export function extractEntities(text: string, now: number): Entity[] {
  const candidates = [...linkEntities(text), ...amounts(text), ...dates(text, now)].sort(
    (a, b) => priority[a.type] - priority[b.type] || a.start - b.start,
  );
  const kept: Entity[] = [];
  for (const candidate of candidates) {
    if (kept.some((entity) => candidate.start < entity.end && entity.start < candidate.end)) {
      continue;
    }
    kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}
