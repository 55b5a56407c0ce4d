import type { Signal } from "../scoring.js";
import { foldConfusables, invisible, isMixedScript } from "../text/normalize.js";
import { brandOwnedDomains, brands, shorteners } from "./brands.js";

const scam = ["scam"];
const hostPattern =
  /(?<![\p{L}\p{N}.-])(?:https?:\/\/)?((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(?:\p{L}{2,24}|xn--[a-z0-9-]{1,59}))(?![\p{L}\p{N}-])/gu;
const ipLink = /\bhttps?:\/\/\d{1,3}(?:\.\d{1,3}){3}\b/;
const secondLevel = new Set(["co", "com", "org", "net", "gov", "ac", "edu", "ltd", "plc", "gob"]);
const securityWords =
  /secure|security|login|log-in|signin|sign-in|verify|verification|account|update|support|helpdesk|service|billing|confirm|auth|wallet|unlock|recover|refund|claim|bonus|gift|promo|reward|alert|notice/;
const brandSet: ReadonlySet<string> = new Set(brands);

function digitsAsLetters(label: string, one: "l" | "i"): string {
  return label
    .replace(
      /[0134578]/g,
      (digit) => ({ 0: "o", 1: one, 3: "e", 4: "a", 5: "s", 7: "t", 8: "b" })[digit] ?? digit,
    )
    .replace(/rn/g, "m")
    .replace(/vv/g, "w")
    .replace(/-/g, "");
}

/** The brand a label imitates with digits or look-alike letters, if any. */
function imitatedBrand(label: string): string | undefined {
  const folded = foldConfusables(label);
  for (const skeleton of [digitsAsLetters(folded, "l"), digitsAsLetters(folded, "i")]) {
    if (skeleton === label) continue;
    for (const brand of brands) {
      if (
        skeleton === brand ||
        (brand.length >= 5 && skeleton.includes(brand) && !label.includes(brand))
      ) {
        return brand;
      }
    }
  }
  return undefined;
}

function hostSignals(rawHost: string): Signal[] {
  const host = rawHost.replace(/^www\./, "");
  const labels = host.split(".");
  const out: Signal[] = [];
  const add = (weight: number, reason: string) =>
    out.push({ category: "fraud", weight, reason, tags: scam });
  if (shorteners.has(host)) add(0.35, `shortened link (${host}) hides where it leads`);
  if (labels.some((label) => label.startsWith("xn--"))) {
    add(0.55, "punycode (xn--) domain, often used to imitate another site");
  }
  if (labels.some(isMixedScript))
    add(0.8, "link mixes letters from different alphabets (look-alike domain)");
  const n = labels.length;
  const last = labels[n - 1] ?? "";
  const regStart =
    n >= 3 && secondLevel.has(labels[n - 2] ?? "") && last.length === 2 ? n - 3 : n - 2;
  if (regStart < 0) return out;
  const registrable = labels.slice(regStart).join(".");
  const regLabel = labels[regStart] ?? "";
  const official = brandOwnedDomains.has(registrable) || brandSet.has(regLabel);
  if (official) return out;
  const subdomain = labels.slice(0, regStart);
  const subIndex = subdomain.findIndex(
    (label) => brandSet.has(label) || imitatedBrand(label) !== undefined,
  );
  const subBrand = subdomain[subIndex];
  if (subBrand !== undefined) {
    const brand = brandSet.has(subBrand) ? subBrand : imitatedBrand(subBrand);
    // "paypal.com.evil.xyz" or "paypal.secure-login.xyz"; a plain "apple.stackexchange.com" is mild.
    const posesAsDomain = subdomain
      .slice(subIndex + 1)
      .some((label) => /^(?:com|net|org|co)$/.test(label));
    if (posesAsDomain || securityWords.test(host)) {
      add(0.8, `brand name (${brand}) used as a subdomain of another site`);
    } else {
      add(0.4, `brand name (${brand}) in a subdomain of another site`);
    }
  }
  const lookalike = imitatedBrand(regLabel);
  if (lookalike !== undefined)
    add(0.8, `look-alike of ${lookalike} (digits or look-alike letters)`);
  const contained = brands.find((brand) => brand.length >= 5 && regLabel.includes(brand));
  if (contained !== undefined) {
    if (securityWords.test(host)) {
      add(0.75, `brand name (${contained}) with login or security words in an unrelated domain`);
    } else {
      add(0.4, `brand name (${contained}) inside an unrelated domain`);
    }
  }
  return out;
}

/**
 * Scam signals from the links and look-alike brand names in a text: link shorteners,
 * punycode, mixed-script domains, digits for letters (paypa1), brands as subdomains of
 * other sites (paypal.com.secure-login.xyz), and bare IP addresses.
 */
export function linkSignals(text: string): Signal[] {
  const prepared = text.normalize("NFKC").toLowerCase().replace(invisible, "");
  const signals: Signal[] = [];
  for (const match of prepared.matchAll(hostPattern)) {
    const host = match[1];
    if (host !== undefined) signals.push(...hostSignals(host));
  }
  if (ipLink.test(prepared)) {
    signals.push({
      category: "fraud",
      weight: 0.5,
      reason: "link to a bare IP address",
      tags: scam,
    });
  }
  for (const word of prepared.match(/\p{L}+/gu) ?? []) {
    if (latinOnly(word)) continue;
    const folded = foldConfusables(word);
    if (folded !== word && brandSet.has(folded)) {
      signals.push({
        category: "fraud",
        weight: 0.75,
        reason: `brand name (${folded}) spelt with look-alike letters`,
        tags: scam,
      });
    }
  }
  return signals;
}

function latinOnly(word: string): boolean {
  return /^[a-z]+$/.test(word);
}
