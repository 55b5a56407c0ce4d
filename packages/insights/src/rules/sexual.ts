import { newsContext } from "./lexicon.js";
import { type Dampener, near, type Rule, re, rule } from "./rule.js";

const sexual = ["sexual"];

const minor = String.raw`\b(?:child|children|kids?|underage|under-age|minors?|preteens?|pre-teens?|1[0-7] ?(?:yo|y/o|year old|years old|yr old)|(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)[- ]year[- ]old|schoolgirls?|school girls?|young (?:girls?|boys?)|little (?:girls?|boys?))\b`;
const explicit = String.raw`\b(?:porn\w*|nudes|nude (?:pics|photos|videos)|naked (?:pics|photos|videos)|sex (?:pics|videos?|tapes?|chat)|xxx|lewd|erotic|horny|sexy (?:pics|videos?))\b`;

/** Sexual or adult content: explicit talk, nudes, adult services, and anything sexual about minors. */
export const sexualRules: readonly Rule[] = [
  rule(
    "sexual.minors",
    "sexual",
    0.95,
    "sexual content involving minors",
    re`\b(?:child porn\w*|kiddie porn|cp (?:links?|videos?|for sale|trade|collection)|pthc|jailbait|lolicon|shotacon|underage (?:porn|nudes?|sex|pics|girls|boys|content)|preteen (?:porn|nudes?|sex|pics|models))\b`,
  ),
  rule(
    "sexual.minors-context",
    "sexual",
    0.8,
    "sexual terms next to words about children",
    re`${near(minor, explicit, 25)}`,
    ["minors-context"],
  ),
  rule(
    "sexual.nudes",
    "sexual",
    0.7,
    "asks for or offers nude images",
    re`\b(?:send (?:me )?(?:your |ur |some |more )?(?:nudes|naked pics|dick pics?|tit pics|boob pics)|nudes? (?:for sale|available|pack|trade|leaked)|selling (?:my )?(?:nudes|feet pics|used (?:panties|underwear))|nude (?:pics|photos|videos|selfies)|naked (?:pics|photos|videos|selfies)|dick pics?|sexting|sex tapes?|leaked nudes|(?:wanna|want to) see me (?:naked|nude|without clothes)|private (?:pics|photos|videos|content|snaps?) (?:in|on|for|via) (?:my )?(?:profile|bio|dm|page|snap))\b`,
    sexual,
  ),
  rule(
    "sexual.adult-content-promotion",
    "sexual",
    0.75,
    "promotes paid adult content",
    [
      re`\b(?:onlyfans|only fans|my of|on of|fansly|manyvids|chaturbate|pornhub|xvideos|xhamster|nsfw|18\+|xxx|adult content|explicit content|premium snap(?:chat)?|spicy content|lewds)\b`,
      re`\b(?:link in (?:my )?bio|subscribe|sub to|join my|check (?:out )?my|dm (?:me|for)|custom (?:content|videos|pics)|content (?:available|for sale)|\d+% off|free trial|unlock)\b`,
    ],
    sexual,
  ),
  rule(
    "sexual.adult-platform",
    "sexual",
    0.4,
    "mentions an adult-content platform",
    re`\b(?:onlyfans|only fans|fansly|manyvids|chaturbate|pornhub|xvideos|xhamster)\b`,
    sexual,
  ),
  rule(
    "sexual.services",
    "sexual",
    0.75,
    "offers sexual services or adult dating",
    re`\b(?:escorts? (?:service|agency|available|in your area|near you|girls?)|(?:incall|outcall)s?|gfe|erotic massage|nuru massage|sensual massage|body ?rubs?|hookers? (?:available|near)|prostitut\w+ (?:service|available)|sugar (?:daddy|baby|mommy) (?:wanted|needed|available|looking|dm|needed)|(?:meet|fuck|date|chat with|hook up with) (?:hot |horny |lonely |local |sexy )?(?:singles|girls|women|milfs|moms|wives|babes|housewives) (?:in your (?:area|city)|near you|tonight|now)|hot singles|horny (?:singles|girls|women|milfs|housewives)|sex ?chat|sexcam|cam ?girls?|webcam (?:girls?|sex|shows?)|adult dating|(?:no strings|nsa) (?:fun|sex|hookups?))\b|${near(String.raw`\bsugar (?:daddy|daddies|baby|babies|mommy|mummy)\b`, String.raw`\b(?:dm|rates?|allowance|pay|paid|looking for|seeking|wanted|needed|available)\b`, 40)}|${near(String.raw`\bmassage\b`, String.raw`\bhappy ending\b|\bfull service\b`, 40)}`,
    sexual,
  ),
  rule(
    "sexual.explicit-proposition",
    "sexual",
    0.6,
    "sexually explicit proposition or description",
    re`\b(?:suck|lick|ride|eat|finger|stroke|touch|grab|squeeze) (?:my|your|ur|his|her) (?:dick|cock|pussy|clit|tits|boobs|ass|balls|nipples|breasts)\b|\b(?:want(?: to)?|wanna|going to|gonna|let'?s|i'?ll|i will|i'?d|i would|love to|dying to) (?:fuck|bang|screw|shag|have sex with|sleep with|ride|suck) (?:you|u|me|her|him)\b|\b(?:i'?m|im|i am|getting|so) (?:so |really )?(?:horny|wet|hard) (?:for you|for u|thinking about|right now|rn)\b|\b(?:naked|nude) (?:for you|right now|in bed)\b|\bcum (?:on|in|inside|all over) (?:you|u|me|your|ur|my)\b|\bmake (?:you|u|me) (?:cum|come|orgasm|moan|scream)\b`,
    sexual,
  ),
  rule(
    "sexual.explicit-terms",
    "sexual",
    0.4,
    "uses sexually explicit terms",
    re`\b(?:threesomes?|creampies?|bukkake|anal sex|oral sex|erections?|boners?|sex toys?|vibrators?|strip ?tease|stripper|nsfw|horny|milfs?|lewd|xxx (?:videos?|pics|content))\b`,
    sexual,
  ),
];

export const sexualDampeners: readonly Dampener[] = [
  {
    id: "sexual.child-protection",
    factor: 0.4,
    pattern: re`\b(?:protect(?:ing|ion)?|safeguarding|keep (?:\w+ )?safe|not (?:for|suitable for)|unsuitable for|parental controls?|report(?:ing)?|police|arrested|charged|sentenced|convicted|age verification|online safety)\b`,
    tags: ["minors-context"],
    reason: "reads like child-protection talk (score lowered)",
  },
  {
    id: "sexual.health-or-news",
    factor: 0.6,
    pattern: re`${newsContext}|\b(?:sex education|sexual health|health|clinic|doctor|nurse|stds?|stis?|hiv|hpv|contracepti\w+|condoms?|consent|study|research|survey|awareness|abuse|assault|victims?|safeguarding|parents|teachers?|policy|ban(?:s|ned)?|regulat\w+|age verification|report(?:ing)?)\b`,
    tags: sexual,
    reason: "reads like health, education or news talk (score lowered)",
  },
];
