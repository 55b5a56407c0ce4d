import { drug, newsContext, offer, prescriptionDrug, price, slangDrug, weapon } from "./lexicon.js";
import { type Dampener, near, type Rule, re, rule } from "./rule.js";

const sale = ["sale"];

const document = String.raw`passports?|\bids?\b|id cards?|identity cards?|driver'?s licen[cs]es?|driving licen[cs]es?|licen[cs]es?|visas?|residence permits?|green cards?|work permits?|ssn|social security (?:cards?|numbers?)|birth certificates?|diplomas?|degrees?|degree certificates?|transcripts?|ielts|toefl|certificates?|vaccination cards?|vaccine cards?|covid pass(?:es)?`;
const fake = String.raw`\b(?:fake|counterfeit|forged|forgery|novelty|replica|scannable|undetectable|registered and unregistered|real and fake|camouflage|registered (?:in|into|on) (?:the )?(?:database|system))\b`;
const money = String.raw`\b(?:money|bills|banknotes|bank notes|notes|cash|euros?|dollars?|pounds|usd|gbp|eur|\$?(?:20|50|100)s)\b`;
const makeOrSell = String.raw`${offer}|\b(?:buy|order|get yours|we (?:make|produce|print|sell|supply)|contact (?:us|me)|whatsapp|telegram)\b|${price}`;

/** Illegal goods and services: drugs for sale, weapons, counterfeits, stolen data, illegal services. */
export const illegalRules: readonly Rule[] = [
  rule(
    "illegal.drugs-for-sale",
    "illegal",
    0.75,
    "offers drugs for sale",
    re`${near(drug, offer, 60)}`,
    sale,
  ),
  rule(
    "illegal.drug-prices",
    "illegal",
    0.6,
    "gives prices for drugs",
    re`${near(drug, price, 40)}`,
    sale,
  ),
  rule(
    "illegal.street-drugs-for-sale",
    "illegal",
    0.7,
    "offers drugs by street name, with prices or delivery",
    [
      re`${near(slangDrug, offer, 40)}`,
      re`${price}|\b(?:plug|hmu|dm|wickr|telegram|grams?|oz|8th|eighth|zips?|qp)\b`,
    ],
    sale,
  ),
  rule(
    "illegal.prescription-without-prescription",
    "illegal",
    0.8,
    "sells prescription drugs without a prescription",
    re`${near(prescriptionDrug, String.raw`\b(?:no|without(?: a)?|without any|no need for(?: a)?) (?:prescription|rx|script|doctor)\b|\bno rx\b`, 60)}`,
    sale,
  ),
  rule(
    "illegal.weapons-for-sale",
    "illegal",
    0.7,
    "offers weapons or explosives for sale",
    re`${near(weapon, offer, 50)}`,
    sale,
  ),
  rule(
    "illegal.untraceable-weapons",
    "illegal",
    0.8,
    "untraceable or illegally modified weapons",
    re`\b(?:ghost guns?|auto ?sears?|glock switch(?:es)?|full[- ]auto conversion|convert(?:ed)? to full[- ]auto|drop[- ]in auto sear)\b|${near(weapon, String.raw`\b(?:untraceable|no serial|serial (?:number )?(?:removed|scratched|filed)|no (?:background checks?|license|licence|papers|paperwork)|off the books)\b`, 50)}`,
    sale,
  ),
  rule(
    "illegal.counterfeit-documents",
    "illegal",
    0.8,
    "offers counterfeit or fraudulently obtained documents",
    [
      re`${near(fake, document, 30)}|\b(?:real|genuine|registered) (?:${document}) (?:for sale|online|without (?:exams?|tests?))|\bbuy (?:a |an )?(?:real |genuine |registered )?(?:passport|driver'?s licen[cs]e|driving licen[cs]e|ielts|toefl|diploma|degree|green card|residence permit)s?\b`,
      re`${makeOrSell}`,
    ],
    sale,
  ),
  rule(
    "illegal.fake-id-mention",
    "illegal",
    0.35,
    "mentions fake documents",
    re`${near(fake, document, 20)}`,
    sale,
  ),
  rule(
    "illegal.counterfeit-money",
    "illegal",
    0.8,
    "offers counterfeit money",
    [
      re`${near(String.raw`\b(?:counterfeit|fake|replica|undetectable|super ?notes?|grade a)\b`, money, 20)}`,
      re`${makeOrSell}`,
    ],
    sale,
  ),
  rule(
    "illegal.counterfeit-goods",
    "illegal",
    0.6,
    "offers counterfeit branded goods",
    re`${near(String.raw`\b(?:replica|counterfeit|fake|1:1|aaa (?:grade|quality)|mirror quality)\b[\s\S]{0,20}\b(?:rolex|watches|handbags|bags|designer|gucci|louis vuitton|lv|chanel|nike|jordans|airpods|iphones?)\b`, offer, 50)}`,
    sale,
  ),
  rule(
    "illegal.stolen-cards",
    "illegal",
    0.85,
    "trades stolen card or account data",
    re`\b(?:fullz|cc ?dumps|dumps with pins?|track ?[12] dumps|bank logs?|carding|cashout method|non[- ]?vbv|cloned cards?|cvv shop|cc shop|card checker|stolen (?:credit |debit )?cards?|stolen (?:accounts|logins|identities)|ssn ?(?:\+|and|&)? ?dob)\b|\b(?:fresh|valid|live|high[- ]balance|verified) (?:cvvs?|ccs|fullz|logs|dumps)\b|${near(String.raw`\bcvvs?\b|\bccs\b|\bcredit card (?:numbers|details)\b`, offer, 30)}`,
    sale,
  ),
  rule(
    "illegal.card-skimmers",
    "illegal",
    0.7,
    "offers card skimmers",
    re`\b(?:atm|card|pos|gas pump|petrol pump) skimmers?\b`,
    sale,
  ),
  rule(
    "illegal.hacking-for-hire",
    "illegal",
    0.7,
    "offers hacking of other people's accounts or attacks for hire",
    re`\b(?:hackers? for hire|hire a hacker|ddos (?:for hire|service|attack service)|booter|stresser|spy on (?:your |ur )?(?:partner|spouse|wife|husband|girlfriend|boyfriend)'?s? (?:phone|messages|whatsapp))\b|\b(?:hack|hacking|break into|get into|access|recover) (?:any|your (?:ex|partner|spouse|wife|husband|girlfriend|boyfriend|cheating partner)'?s?|someone'?s|their|any one'?s) (?:account|phone|whatsapp|instagram|facebook|snapchat|email|gmail|icloud|messages)\b`,
    sale,
  ),
  rule(
    "illegal.money-laundering",
    "illegal",
    0.7,
    "offers to launder money",
    re`\b(?:launder|laundering|clean|wash) (?:your |ur |dirty |black )?(?:money|cash|funds|crypto|btc|bitcoin)\b[\s\S]{0,60}\b(?:service|we|dm|fee|%|percent|contact|fast|safe)\b|\bmoney laundering services?\b`,
    sale,
  ),
  rule(
    "illegal.verified-accounts",
    "illegal",
    0.65,
    "sells verified bank or payment accounts (KYC bypass)",
    re`\b(?:bypass kyc|kyc[- ]verified accounts?|verified (?:bank|paypal|stripe|binance|cash ?app|revolut|wise) accounts? (?:for sale|available|in stock))\b`,
    sale,
  ),
  rule(
    "illegal.organs-wildlife",
    "illegal",
    0.8,
    "offers human organs or protected wildlife",
    re`${near(String.raw`\b(?:kidneys?|organs?|livers?|ivory|rhino horns?|pangolin(?: scales)?|tiger (?:skins?|bones?))\b`, String.raw`\b(?:for sale|selling|sell|buy(?:ing)?|price|[£$€] ?\d)\b`, 30)}`,
    sale,
  ),
];

export const illegalDampeners: readonly Dampener[] = [
  {
    id: "illegal.news-or-health",
    factor: 0.5,
    pattern: re`${newsContext}|\b(?:seized|seizure|raid|crackdown|overdoses?|addiction|rehab|recovery|awareness|harm reduction|study|researchers|prescribed|pharmacist|my doctor|warning|beware)\b`,
    tags: sale,
    reason: "reads like news, health or awareness talk (score lowered)",
  },
];
