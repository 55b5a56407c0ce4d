import { anyOf } from "./rule.js";

// Regex fragments shared by the rule sets. They read normalised text: lower case, straight
// quotes, single spaces, leetspeak undone.

/** Drugs whose names have no innocent everyday meaning. */
export const drug = String.raw`\b(?:cocaine|heroin|crystal meth|meth|methamphetamine|mdma|ecstasy|lsd|ketamine|fentanyl|fent|oxycodone|oxycontin|oxys|percocets?|percs|xanax|xans|xannies|adderall|vyvanse|valium|diazepam|tramadol|codeine|promethazine|cannabis|marijuana|weed|kush|hashish|shrooms|magic mushrooms|psilocybin|dmt|ghb|mephedrone|mcat|benzos|opioids|opiates|m30s?|thc (?:carts|vapes|gummies|edibles)|crack cocaine)\b`;

/** Street names that also mean innocent things ("ice", "coke", "carts"): need more evidence. */
export const slangDrug = String.raw`\b(?:molly|coke|crack|ice|blues|tabs|carts|snow|white|gas|za|zaza|loud|pack|bars|lean|dope|smack|gear|pressies|perc 30s|sherm)\b`;

/** Drugs sold on prescription, sold without one by illegal pharmacies. */
export const prescriptionDrug = String.raw`\b(?:oxycodone|oxycontin|percocets?|xanax|adderall|vyvanse|valium|diazepam|tramadol|codeine|hydrocodone|vicodin|ritalin|modafinil|alprazolam|clonazepam|klonopin|ambien|zolpidem|viagra|cialis|morphine|dilaudid|opana|suboxone|methadone|benzos|pills|meds)\b`;

/** Offering something for sale, or how to get it. */
export const offer = String.raw`\b(?:for sale|(?:i'?m |we'?re |now |currently )?selling|sell(?:s|ing)? (?:\w+ )?(?:cheap|fast|online)|in stock|restock(?:ed)?|available (?:now|today|24/7|for (?:delivery|pickup|order))|we deliver|delivery (?:available|only|24/7|to your door)|(?:same[- ]day|fast|discreet|stealth|worldwide|nationwide|overnight) (?:delivery|shipping|post(?:age)?)|ship(?:ping)? (?:discreetly|worldwide|nationwide)|dm (?:me|us|for)|hmu|hit me up|wickr|telegram|whatsapp me|text me|inbox me|plug|menu|price ?list|(?:best|cheap|good|low) prices?|cash only|pick ?up|drop ?off|order (?:now|online|today|here|yours))\b`;

/** A price or a per-unit rate. */
export const price = String.raw`(?:[£$€] ?\d|\b\d+(?:\.\d+)? ?(?:usd|eur|gbp|quid|bucks)\b|\bper (?:gram|g|oz|ounce|pill|tab|bag|pack|piece)\b|\b\d+ ?(?:g|grams?|oz|ounces?|pills?|tabs?) (?:for|@) ?[£$€]?\d)`;

export const weapon = String.raw`(?<!(?:water|glue|nail|heat|staple|spray|massage|nerf|toy|paint|squirt|caulk|caulking|grease|label|tape|bubble|foam|radar|top|big|smoking|hot glue|airsoft|paintball|bb|cap|flare|starting|start|steam|tattoo|price)[ -])\b(?:guns?|handguns?|pistols?|glocks?|rifles?|ar-?15s?|ak-?47s?|shotguns?|revolvers?|uzis?|firearms?|ammo|ammunition|silencers?|suppressors?|grenades?|explosives|c-?4|semtex|tasers?|brass knuckles|switchblades?)\b`;

/** People a threat is aimed at. */
export const personTarget = String.raw`(?:you|u|ya|yall|y'all|him|her|them|ur (?:mom|mum|family|kids|wife|husband)|your (?:whole )?(?:family|kids|children|wife|husband|mom|mum|mother|dad|father|sister|brother|girlfriend|boyfriend|friends|parents)|that (?:guy|girl|man|woman|bitch|bastard|idiot|kid|dude)|(?:the|that|this) (?:president|prime minister|mayor|governor|senator|judge|teacher|principal|boss|cops?|officer|police|journalists?|reporters?|politician|landlord|referee|ref)|every(?:one|body)|all of (?:you|them))\b`;

/** Groups defined by a protected characteristic (plural or collective forms). */
export const group = anyOf(
  `jews|jewish people|muslims|christians|catholics|hindus|sikhs|buddhists|atheists`,
  `arabs|blacks|black people|black folks|whites|white people|asians|asian people|chinese people|the chinese`,
  `mexicans|latinos|latinas|hispanics|africans|somalis|nigerians|indians|pakistanis|roma|gypsies|gipsies|travellers`,
  `immigrants|migrants|refugees|asylum seekers|foreigners`,
  `gays|gay people|homosexuals|lesbians|bisexuals|queers|trans people|transgender people|trans women|trans men|transgenders|lgbt people|lgbtq people`,
  `women|men|females|disabled people|the disabled|autistic people`,
);

/** One member of a group, for "every last …" and "a dirty …". */
export const groupMember = `jew|muslim|christian|catholic|hindu|sikh|arab|black|asian|mexican|latino|latina|hispanic|african|somali|nigerian|indian|pakistani|immigrant|migrant|refugee|foreigner|gay|homosexual|lesbian|tranny|trans person|woman|disabled person`;

/** Innocent contexts: news, court reports, quotes. */
export const newsContext = String.raw`\b(?:police (?:said|say|says)|(?:was|were|been|got) arrested|arrested (?:for|over|after)|(?:has been |was |were )?charged with|sentenced|convicted|pleaded|on trial|the court|court heard|prosecutors?|according to|reportedly|the suspect|investigators|authorities|officials said|news|reported|reports?|headline|journalists?|documentary|article)\b`;

/** Jokes and banter among friends. */
export const playfulContext = String.raw`(?:\b(?:lol|lmao|lmfao|rofl|haha\w*|jk|j/k|just kidding|kidding)\b|😂|🤣|😆|😜|😝|😅|🙃)`;

/** Fiction, games and films. */
export const fictionContext = String.raw`\b(?:in the (?:movie|film|book|novel|game|series|episode|show|play)|(?:movie|film|book|novel|game|series|episode|trailer|season|chapter) (?:where|in which|about)|spoilers?|characters?|villain|protagonist|plot|fictional)\b`;
