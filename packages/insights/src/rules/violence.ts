import {
  fictionContext,
  group,
  newsContext,
  personTarget,
  playfulContext,
  weapon,
} from "./lexicon.js";
import { type Dampener, type Rule, re, rule } from "./rule.js";

const threat = ["threat"];
const selfHarm = ["self-harm"];

const firstPersonFuture = String.raw`\b(?:i|we)(?:'ll| will| shall|'m going to| am going to|'m gonna| am gonna| gonna|'re going to| are going to|'re gonna| are gonna| would| wanna| want to|'d)`;
const intensifier = `(?: (?:fucking|really|literally|personally|definitely|actually|gladly|happily|come and|come|go and|(?:find|track|hunt) (?:you|u|him|her|them)(?: down)? and(?: (?:i|we)(?:'ll| will| gonna| are gonna| am gonna))?))*`;
const harmVerb = `kill|murder|shoot|stab|hurt|strangle|choke|slit|behead|decapitate|torture|rape|lynch|run over|beat up`;
/** Harm that names its own target ("break your legs"). */
const harmPhrase = `(?:break|smash|snap|cave) (?:your|ur|his|her|their) (?:legs?|neck|face|jaw|arms?|bones|skull|head)(?: in)?|put a bullet (?:in|through) (?:you|u|your|ur|his|her|their|him|them)|blow (?:your|ur|his|her|their) (?:head|brains) off|run (?:you|u|him|her|them) over|beat (?:you|u|him|her|them) (?:up|to death|senseless|black and blue)|beat the (?:shit|hell|crap|life) out of (?:you|u|him|her|them)|burn (?:you|u|him|her|them) alive|burn (?:your|ur|his|her|their) (?:house|home|car|place) down|burn down (?:your|ur|his|her|their) (?:house|home|car|place)|cut (?:your|ur|his|her|their) throat|slit (?:your|ur|his|her|their) throat|(?:put|send) (?:you|u|him|her|them) (?:in|into|to) (?:the |a )?(?:hospital|coma|ground|grave|body bag|wheelchair|icu|morgue)`;
// "I'll shoot you a message", "kill you with kindness": not threats.
const notAThreat = String.raw`(?! (?:a|an|the|some|my|this|that|over) (?:message|msg|email|e-mail|text|dm|line|note|pic|picture|photo|link|invite|invitation|call|reminder|quick|brief|copy|video)\b| (?:feelings|chances|pride|ego|business|career|reputation|sales|image|brand|rankings?)\b| with kindness| in (?:a |the )?(?:game|match|round|fortnite|minecraft|chess))`;
const place = `school|college|university|campus|mosque|church|synagogue|temple|gurdwara|mall|office|station|airport|concert|festival|parade|club|nightclub|stadium|hospital|clinic|embassy|building|crowd|rally|protest|march|pride|courthouse|parliament|capitol|town hall|city hall|supermarket|train|bus|plane`;

/** Violence and self-harm: threats, incitement, attack plans, encouragement or instructions of self-harm. */
export const violenceRules: readonly Rule[] = [
  rule(
    "violence.threat",
    "violence",
    0.85,
    "threatens to kill or hurt someone",
    re`${firstPersonFuture}${intensifier} (?:(?:${harmVerb}) ${personTarget}${notAThreat}|${harmPhrase})`,
    threat,
  ),
  rule(
    "violence.threat-implied-subject",
    "violence",
    0.6,
    "threatens to kill or hurt someone",
    re`(?:^|[.!?] )(?:gonna|going to|imma|ima|i'ma|finna|bout to|about to)${intensifier} (?:(?:${harmVerb}) ${personTarget}${notAThreat}|${harmPhrase})`,
    threat,
  ),
  rule(
    "violence.death-wish",
    "violence",
    0.75,
    "wishes death or violence on someone",
    re`\b(?:i|we) (?:hope|wish|pray) (?:you|u|he|she|they|your (?:family|kids|mom|mum))(?: all)? (?:die|dies|get (?:raped|shot|stabbed|killed|cancer|hit by a (?:car|bus|truck))|burn (?:alive|in hell)|rot|suffer|drop dead)\b|\b(?:you|u|ya) (?:deserve|should|ought) (?:to )?(?:die|be (?:shot|killed|raped|hanged|hung|beaten|stabbed|lynched|executed))\b|\bdie in a (?:fire|ditch)\b`,
    threat,
  ),
  rule(
    "violence.you-will-die",
    "violence",
    0.45,
    "tells someone they will die or be hurt",
    re`\b(?:you|u|ya)(?:'re| are| r)? (?:gonna|going to|about to) (?:die|be dead|get (?:shot|stabbed|killed|hurt|jumped|merked|clapped|smoked|bodied))\b(?! (?:of|from|laughing|with laughter|in the game|in game))|\b(?:you|u|ya)(?:'ll| will) (?:die|be dead|get (?:shot|stabbed|killed|jumped|merked|clapped|smoked|bodied))\b(?! (?:of|from|laughing|with laughter|in the game|in game))`,
    threat,
  ),
  rule(
    "violence.intimidation",
    "violence",
    0.7,
    "intimidates someone (knows where they live, their days are numbered)",
    re`\b(?:i|we) know where (?:you|u|ur family|your family|your kids) (?:live|lives|sleep|go to school)\b|\b(?:you'?re|you are|ur|u r|youre) (?:a )?dead (?:man|meat|woman|boy|girl)\b|\bsleep with one eye open\b|\byour days are numbered\b|\bcount your days\b|\bwatch your back\b[\s\S]{0,40}\b(?:bitch|or else|we|i)\b`,
    threat,
  ),
  rule(
    "violence.attack-place",
    "violence",
    0.85,
    "threatens or calls for an attack on a place or crowd",
    re`\b(?:bomb(?:ing)?|blow(?:ing)? up|shoot(?:ing)? up|burn(?:ing)? down|torch(?:ing)?|firebomb(?:ing)?|attack(?:ing)?|driv(?:e|ing) (?:a |my |the )?(?:car|truck|van) into|open(?:ing)? fire (?:on|at|in)|shoot(?:ing)? (?:everyone|everybody|people) (?:at|in)) (?:the |a |this |that |our |your |their |every |all )?(?:\w+ )?(?:${place})s?\b(?! (?:game|match|party|fit|look|set|defen[cs]e|the (?:ball|game)))|\bthere(?:'s| is| will be) (?:a )?bombs? (?:in|at|on|under)\b|\b(?:planted|placed|hid|hidden|left) (?:a )?bombs? (?:in|at|on|under)\b`,
    threat,
  ),
  rule(
    "violence.weapon-to-place",
    "violence",
    0.85,
    "talks about bringing a weapon to a school, workplace or crowd",
    re`\b(?:bring|take|bringing|taking|brought|carry|carrying)\b (?:a |my |his |her |dad'?s |my dad'?s |the )?(?:${weapon}|knife|knives|bombs?|weapons?) (?:in)?to (?:school|class|work|church|the mall|the office|the concert|the rally|the protest)\b`,
    threat,
  ),
  rule(
    "violence.incitement",
    "violence",
    0.8,
    "incites violence against people",
    re`\b(?:let'?s|lets|we (?:should|must|need to|have to|gotta|got to)|y'?all should|you (?:all )?should|everyone (?:should|must)|some(?:one|body) (?:should|needs to|has to|gotta|oughta)|time to|it'?s time to|rise up and|take up arms and|go out and) (?:go |all |just |finally )*(?:kill|murder|shoot|stab|lynch|hang|behead|execute|attack|bomb|burn|beat up|hunt down|assassinate|exterminate|gas|slaughter|massacre|string up) (?:${personTarget}|(?:all |every |those |these |the )?(?:fucking |damn |dirty |filthy )?(?:${group})|(?:those|these|the|all the|all) (?:\w+ )?(?:traitors|politicians|cops|pigs|police|protesters|rioters|journalists|leftists|liberals|conservatives|republicans|democrats|tories|infidels|kafirs|kuffar|non-?believers|unbelievers|people|bastards|scum|animals|landlords|rich))\b`,
    threat,
  ),
  rule(
    "violence.against-group",
    "violence",
    0.75,
    "calls for violence against a group",
    re`\b(?:kill|gas|exterminate|eradicate|wipe out|slaughter|massacre|lynch|behead) (?:all |every |the |those |these )?(?:fucking |damn |dirty |filthy )?(?:${group})\b|\b(?:${group}) (?:should|must|need to|deserve to) (?:all )?(?:die|be (?:killed|shot|gassed|hanged|hung|exterminated|burned|lynched))\b`,
    threat,
  ),
  rule(
    "violence.assassination",
    "violence",
    0.7,
    "calls for someone to be assassinated",
    re`\b(?:assassinate|someone (?:should|needs to) (?:kill|shoot|take out)) (?:the |our |this |that )?(?:president|prime minister|pm|king|queen|mayor|governor|senator|judge|[a-z]+ (?:president|minister))\b`,
    threat,
  ),
  rule(
    "violence.call-to-arms",
    "violence",
    0.5,
    "calls people to take up arms",
    re`\b(?:take up arms|grab your (?:guns|rifles|weapons)|arm yourselves|lock and load)\b`,
    threat,
  ),
  rule(
    "violence.weapon-instructions",
    "violence",
    0.8,
    "asks for or gives instructions for weapons or explosives",
    re`\b(?:how (?:to|do (?:i|you|we)|can (?:i|you|we))|steps to|guide to|tutorial (?:on|for)|instructions (?:for|to|on)|recipe for|ways? to) (?:make|build|assemble|cook|mix|construct|3d print|print)? ?(?:a |an |your own |my own )?(?:pipe bombs?|bombs?|ieds?|explosives?|molotovs?(?: cocktails?)?|napalm|thermite|nail bombs?|car bombs?|suicide vests?|detonators?|ghost guns?|untraceable guns?|zip guns?|ricin|sarin|nerve agents?|anthrax|poison (?:gas|to kill))\b`,
    threat,
  ),
  rule(
    "violence.encourage-self-harm",
    "violence",
    0.85,
    "encourages self-harm or suicide",
    re`(?<!\b(?:don'?t|do not|never|not|shouldn'?t|should not|won'?t|wouldn'?t|didn'?t|to|almost|nearly|gonna|going to|will|'ll|may|might|could|would) (?:go |just )?)\b(?:kill|hang|shoot|off|end|cut|stab|drown|overdose) (?:yo)?urself\b(?! (?:laughing|working|trying|over (?:it|this|that)|with (?:work|stress)))|\bkys\b|\b(?:go|pls|please|plz) (?:and )?die\b(?! (?:of|from|laughing|in (?:the )?game))|\bjust (?:go )?die already\b|\b(?:nobody|no one|noone) (?:would|will) (?:care|miss (?:you|u)) if (?:you|u) (?:died|were dead|killed yourself|kill yourself)\b|\bdo (?:us|everyone|the world) a favou?r and (?:die|disappear|kill yourself|end it)\b|\b(?:drink|go drink|just drink) (?:some )?bleach\b|\b(?:go |just )?jump off a (?:bridge|building|cliff|roof)\b`,
    selfHarm,
  ),
  rule(
    "violence.self-harm-instructions",
    "violence",
    0.8,
    "asks for or gives self-harm, suicide or eating-disorder methods",
    re`\b(?:how|best way|easiest way|quickest way|fastest way|painless(?:ly)?(?: way)?|least painful way|tips?|ways?) (?:to |for |of )?(?:kill (?:myself|yourself|urself|oneself)|commit suicide|end (?:my|your|ur|one'?s) (?:own )?life|die painlessly|hang (?:myself|yourself)|cut (?:myself|yourself|deeper))\b|\b(?:how many|which) (?:pills|tablets|paracetamol|tylenol|sleeping pills|insulin)\b[\s\S]{0,30}\b(?:to|would|will|does it take to) (?:die|kill|overdose|od|be (?:fatal|lethal))\b|\bsuicide (?:methods?|guide|instructions|kit|pact)\b|\bpro[- ]?(?:ana|mia)\b|\b(?:thinspo|meanspo|bonespo|ana tips|ana buddy)\b|\bhow to (?:starve yourself|hide (?:self[- ]harm|cuts|scars)|purge)\b|\bpurge after (?:eating|meals|dinner)\b`,
    selfHarm,
  ),
  rule(
    "violence.self-harm-disclosure",
    "violence",
    0.35,
    "talks about wanting to self-harm (consider offering support)",
    re`\b(?:i|i'm|im|i am)(?: really| just| seriously)? (?:want to|wanna|going to|gonna|will|thinking about|thinking of|planning to|ready to|about to) (?:kill myself|end it all|end my life|commit suicide|hurt myself|cut myself|die)\b|\bi don'?t want to (?:live|be alive|wake up)\b`,
    ["disclosure"],
  ),
];

export const violenceDampeners: readonly Dampener[] = [
  {
    id: "violence.news",
    factor: 0.55,
    pattern: re`${newsContext}`,
    tags: threat,
    reason: "reads like news reporting (score lowered)",
  },
  {
    id: "violence.playful",
    factor: 0.5,
    pattern: re`${playfulContext}`,
    tags: threat,
    reason: "reads like banter or a joke (score lowered)",
  },
  {
    id: "violence.fiction",
    factor: 0.55,
    pattern: re`${fictionContext}`,
    tags: threat,
    reason: "reads like talk about fiction or a game (score lowered)",
  },
  {
    id: "violence.support",
    factor: 0.5,
    pattern: re`\b(?:helpline|hotline|crisis line|samaritans|988|reach out|you are not alone|you'?re not alone|talk to someone|get help|support line|therapist|counsell?or|prevention|recovery|warning signs?)\b`,
    tags: selfHarm,
    reason: "reads like support or prevention (score lowered)",
  },
];
