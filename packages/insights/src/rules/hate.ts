import { group, groupMember, newsContext } from "./lexicon.js";
import { type Dampener, type Rule, re, rule } from "./rule.js";

const hate = ["hate"];

/** Slurs that obscenity's English dataset lacks (it has the most common ones). */
const extraSlurs = String.raw`\b(?:gooks?|wetbacks?|beaners?|spics?|ragheads?|towelheads?|sand ?n[i1]gg\w*|kykes?|pakis?|golliwogs?|wogs?|shemales?|zipperheads?|jungle bunn(?:y|ies)|porch monkeys?|camel jockeys?|sheboons?|chinamen|negroes|darkies|trannies)\b(?! (?:and|&|n) span)`;

/** Hate: slurs, dehumanising or exclusionary speech about protected groups, hate slogans. */
export const hateRules: readonly Rule[] = [
  rule("hate.slur", "hate", 0.7, "uses a slur", re`${extraSlurs}`, hate),
  rule(
    "hate.dehumanising",
    "hate",
    0.8,
    "dehumanising or vilifying language about a group",
    re`\b(?:${group}) (?:are|r|=|is|are just|are nothing but|are all|are literally|are basically|are like) (?!(?:not|never|no)\b)(?:\w+ )?(?!(?:not|never|no)\b)(?:animals|vermin|rats|cockroaches|roaches|parasites|subhumans?|sub-humans?|savages|apes|monkeys|pigs|dogs|filth|scum|trash|garbage|a disease|a virus|a cancer|a plague|diseased|inferior|not human|less than human|an infestation|invaders|criminals|rapists|terrorists|p(?:a)?edophiles|groomers|degenerates|mentally ill|evil|the enemy)\b`,
    hate,
  ),
  rule(
    "hate.elimination",
    "hate",
    0.8,
    "calls for a group to be harmed, removed or excluded",
    re`\b(?:kill|gas|exterminate|eradicate|wipe out|get rid of|purge|eliminate|deport|lynch|sterili[sz]e|cleanse|ban) (?:all |every |the |those |these )?(?:fucking |damn |dirty |filthy )?(?:${group})\b|\b(?:${group}) (?:should|must|need to|deserve to|ought to) (?:all )?(?:die|be (?:killed|shot|gassed|hanged|hung|exterminated|deported|sterili[sz]ed|banned|locked up|burned)|go back (?:to|where)|not (?:exist|be allowed|have rights|vote))\b`,
    hate,
  ),
  rule(
    "hate.expulsion",
    "hate",
    0.75,
    "calls for a group to be driven out",
    re`\b(?:kick|throw|drive|chase|run|force|get|send) (?:every (?:last |single )?(?:${groupMember})|all (?:the |of the |these |those )?(?:${group})|the (?:${group})|them all|them) (?:back )?out of (?:this|our|the) (?:country|town|city|neighbou?rhood|street|land|nation)\b|\bevery (?:last |single )?(?:${groupMember}) (?:out|must go|has to go|should (?:leave|go|die))\b`,
    hate,
  ),
  rule(
    "hate.hatred",
    "hate",
    0.7,
    "expresses hatred of a group",
    re`\bi (?:fucking |really |just )?(?:hate|despise|can'?t stand|detest|loathe) (?:all |those |these |the |every |all the )?(?:fucking |damn |dirty |filthy )?(?:${group})\b(?! (?:who|that|which|when))`,
    hate,
  ),
  rule(
    "hate.exclusion",
    "hate",
    0.7,
    "xenophobic or exclusionary abuse",
    re`\bgo back to (?:your|ur|their) (?:own )?(?:shithole )?(?:country|countries|jungle|desert|cave|africa|china|mexico|india|pakistan)\b|\b(?:your|ur) kind (?:aren'?t|are not|is not|isn'?t|ain'?t) (?:welcome|wanted)\b|\bno (?:${group}) allowed\b`,
    hate,
  ),
  rule(
    "hate.slogan",
    "hate",
    0.75,
    "uses an extremist or hate slogan",
    re`\b(?:heil hitler|sieg heil|1488|14/88|white power|white genocide|the great replacement|race traitors?|day of the rope|zyklon|jewish question|holocaust (?:never happened|is a (?:lie|hoax|myth|fraud)|didn'?t happen)|holohoax|untermensch)\b|\(\(\(\s?\w+\s?\)\)\)`,
    hate,
  ),
];

export const hateDampeners: readonly Dampener[] = [
  {
    id: "hate.education",
    factor: 0.5,
    pattern: re`${newsContext}|\b(?:history|historians?|museum|lesson|school project|documentary|so-called|conspiracy theor(?:y|ies)|debunk(?:ed|ing)?|antisemitism|antisemitic|racism|racist|condemn(?:ed|s)?|hate crimes?|hate speech|researchers?|we reject|we stand against|is unacceptable|quoted?|slogan)\b`,
    tags: hate,
    reason: "reads like news, history or condemnation (score lowered)",
  },
];
