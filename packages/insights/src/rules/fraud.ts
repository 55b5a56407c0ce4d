import { type Dampener, near, type Rule, re, rule } from "./rule.js";

const scam = ["scam"];
/** Scams pitched to everyone (prizes, returns, jobs): also spam, see `pitchSpamSignals`. */
const pitch = ["scam", "pitch"];

const family = `mum|mom|mam|mummy|mommy|ma|dad|daddy|mother|father|nan|nana|grandma|grandad|grandpa|granny|son|daughter|sis|bro`;
const newNumberStory = String.raw`\bnew (?:phone|number|mobile|sim|no)\b|\b(?:lost|broke|broken|dropped|smashed|cracked) (?:my )?(?:phone|mobile|sim)\b|\b(?:phone|mobile) (?:is |got |has )?(?:broken|broke|dead|lost|stolen|in the toilet|not working|died|smashed)\b|\bthis is my new (?:number|phone|no)\b|\b(?:save|delete) (?:this|my old|the old) (?:number|no)\b|\btext me on this (?:number|one)\b|\bmy old (?:number|phone)\b|\btemporary (?:number|phone)\b|\bfriend'?s phone\b`;
const moneyRequest = String.raw`\b(?:send|transfer|pay|lend|borrow|need|cover|owe|help (?:me )?(?:out )?with)\b[\s\S]{0,40}(?:\bmoney\b|\bcash\b|[£$€]|\b\d{2,}\b|\bbills?\b|\brent\b|\bpayment\b|\binvoice\b|\bdeposit\b|\bbank\b|\baccount\b|\bdetails\b)|\b(?:can|could|would) you (?:please |pls )?(?:help me|do me a (?:quick )?favou?r|pay|send|transfer)\b|\bsort code\b|\baccount number\b|\biban\b|\bbank details\b`;
const giftCard = String.raw`\bgift ?cards?\b|\b(?:itunes|apple|google play|play store|steam|amazon|ebay|razer gold|vanilla|visa gift|walmart|target|sephora|roblox|xbox|playstation|psn) (?:gift )?(?:cards?|vouchers?|codes?)\b`;
const accountProblem = String.raw`\b(?:account|card|bank account|paypal|apple id|icloud|netflix|amazon|subscription|payment method|wallet|profile|mailbox|email|password|access|membership)\b[\s\S]{0,40}\b(?:suspended|locked|blocked|on hold|disabled|deactivated|restricted|limited|compromised|frozen|closed|terminated|deleted|will expire|expires? today|expiring|unusual (?:sign-?in )?activity|suspicious (?:activity|login|sign-?in)|unauthori[sz]ed)\b|\b(?:suspended|locked|blocked|restricted|frozen|deactivated|terminated) (?:your )?(?:account|card)\b|\bunusual (?:sign-?in |login |log-in )?(?:activity|attempt|detected)\b|\bunusual (?:sign-?in|login|log-in)\b|\bnew (?:sign-?in|login|device) (?:detected|attempt)\b|\bsuspicious (?:activity|login|sign-?in|transaction)\b`;
const urgentAction = String.raw`\b(?:verify|confirm|update|validate|re-?activate|unlock|restore|re-?enter|secure|log ?in|sign ?in|click|tap|follow the link|visit)\b[\s\S]{0,50}\b(?:now|immediately|within \d+ ?(?:h|hrs?|hours?|minutes?|mins?|days?)|today|asap|link|below|here|details|information|info|identity|account|payment|card)\b|\bwithin \d+ ?(?:h|hrs?|hours?)\b|\b(?:failure|fail) to (?:verify|confirm|update|comply)\b|\bavoid (?:suspension|closure|deactivation|being locked|permanent)\b`;
const crypto = String.raw`\b(?:btc|bitcoin|eth|ethereum|usdt|tether|crypto|sol|solana|xrp|doge|coins?|tokens?)\b`;

/** Fraud and scams that an SMS corpus misses: impersonation, gift cards, investment, phishing. */
export const fraudRules: readonly Rule[] = [
  rule(
    "fraud.new-number-opener",
    "fraud",
    0.6,
    "'hi mum, this is my new number' opener (a known impersonation scam)",
    [re`\b(?:hi|hey|hello|hiya|morning)\b[ ,!.]*(?:${family})\b`, re`${newNumberStory}`],
    scam,
  ),
  rule(
    "fraud.new-number-money",
    "fraud",
    0.7,
    "new-number story together with a money request",
    [re`${newNumberStory}`, re`${moneyRequest}`],
    scam,
  ),
  rule(
    "fraud.gift-card-payment",
    "fraud",
    0.8,
    "asks for payment in gift cards (a hallmark of scams)",
    re`\b(?:pay|paid|payment|settle|send(?: the)? (?:money|payment)|fee|fine) (?:it |this |the fee |the fine )?(?:only )?(?:in|with|via|by|using|through) (?:${giftCard})|${near(giftCard, String.raw`\b(?:send|text|email|whatsapp|give|read|tell) (?:me |us )?(?:the |a photo of the |pictures? of the |a picture of the )?(?:codes?|pins?|numbers on the back|back of the cards?|photos?|pictures?)\b|\bscratch (?:off )?(?:the )?(?:back|silver|strip|panel)\b`, 60)}`,
    scam,
  ),
  rule(
    "fraud.gift-card-fee",
    "fraud",
    0.6,
    "asks for a fee or fine to be settled with gift cards",
    re`${near(giftCard, String.raw`\b(?:fees?|fines?|tax(?:es)?|bail|customs|clearance|release|penalty|penalties|owe|debt|arrears|warrant|irs|hmrc)\b`, 40)}`,
    scam,
  ),
  rule(
    "fraud.guaranteed-returns",
    "fraud",
    0.5,
    "promises guaranteed investment returns",
    re`\bguarantee(?:d|s)? (?:\d+ ?% |daily |weekly |monthly |high |huge |fixed )?(?:returns?|profits?|roi|payouts?|gains?|yields?|interest)\b|\b(?:returns?|profits?|roi|payouts?|gains?) (?:are |is )?(?:100% )?guaranteed\b|\brisk[- ]free (?:investment|returns?|profits?|trading|income)\b|\b(?:no|zero) risk (?:investment|trading|returns?|profits?)\b`,
    pitch,
  ),
  rule(
    "fraud.multiply-money",
    "fraud",
    0.7,
    "promises to double or multiply your money",
    re`\b(?:double|triple|quadruple|multiply|2x|3x|5x|10x|100x) (?:your|ur) (?:money|bitcoin|btc|eth|crypto|investment|deposit|funds|cash|income|savings)\b|\b(?:invest|deposit|put in|send) (?:just |only )?[£$€]?\d[\d,.]*k?[£$€]? (?:\w+ )?(?:and|to) (?:get|receive|earn|make|see|withdraw) (?:back )?[£$€]?\d[\d,.]*k?[£$€]?\b[\s\S]{0,20}\b(?:in|within|after) (?:a |one |\d+ )?(?:hours?|days?|weeks?)\b|\bturn (?:[£$€]?\d+[£$€]? )(?:into|to) (?:[£$€]?\d+[£$€]?k?)\b[\s\S]{0,40}\b(?:days?|hours?|weeks?|guaranteed)\b`,
    pitch,
  ),
  rule(
    "fraud.crypto-send-double",
    "fraud",
    0.85,
    "crypto 'send some, get double back' giveaway",
    re`\bsend (?:[\d.]+ )?${crypto}[\s\S]{0,80}\b(?:receive|get|send (?:you )?back|return)\b[\s\S]{0,30}\b(?:double|2x|twice|back|x2)\b|\b(?:elon|musk|tesla|binance|coinbase|vitalik|ripple|saylor)\b[\s\S]{0,30}\bgiveaway\b|\b(?:${crypto}) giveaway\b[\s\S]{0,60}\bsend\b`,
    pitch,
  ),
  rule(
    "fraud.implausible-rate",
    "fraud",
    0.7,
    "promises an implausible rate of return",
    [
      re`\b\d{1,4}(?:\.\d+)? ?% (?:daily|weekly|a day|a week|per day|per week|every day|every week|each day|each week|in \d+ (?:days|hours))\b|\b\d{2,4} ?% (?:monthly|a month|per month|every month)\b`,
      re`\b(?:returns?|profits?|roi|interest|invest(?:ment|ing|ors?)?|earn(?:ings)?|yield|gains?|trading|crypto|bitcoin|btc|forex|deposit|payout)\b`,
    ],
    pitch,
  ),
  rule(
    "fraud.trading-mentor",
    "fraud",
    0.5,
    "unsolicited trading 'mentor' or signals pitch",
    re`\b(?:forex|crypto|bitcoin|binary options?|trading|investment) (?:account )?(?:manager|expert|mentor|signals?|bot|coach|platform)\b[\s\S]{0,80}\b(?:profits?|returns?|earn(?:ed|ing)?|guaranteed|withdraw(?:al)?|invest(?:ed)?|made me)\b`,
    pitch,
  ),
  rule(
    "fraud.release-fee",
    "fraud",
    0.75,
    "asks for a fee before funds or a prize can be released",
    re`\b(?:pay|deposit|send)\b (?:a |the |an |small )?(?:\w+ )?(?:fee|tax|commission|deposit|charge)\b[\s\S]{0,60}\b(?:withdraw|release|unlock|access|receive|claim|transfer) (?:of )?(?:your |the )?(?:funds|money|profits?|winnings|balance|prize|inheritance|package|parcel|payment)\b`,
    scam,
  ),
  rule(
    "fraud.account-problem",
    "fraud",
    0.4,
    "warns of a problem with your account",
    re`${accountProblem}`,
    scam,
  ),
  rule(
    "fraud.account-urgent-verify",
    "fraud",
    0.7,
    "urgent account warning that asks you to verify or log in",
    [re`${accountProblem}`, re`${urgentAction}`],
    scam,
  ),
  rule(
    "fraud.fake-delivery",
    "fraud",
    0.65,
    "delivery notice asking for a fee or details",
    re`\b(?:parcel|package|delivery|shipment|courier)\b[\s\S]{0,60}\b(?:could ?n[o']t be delivered|was not delivered|on hold|is held|being held|awaiting|pending|failed|unsuccessful|returned to|suspended|undeliverable)\b[\s\S]{0,80}\b(?:pay|fee|charge|reschedule|confirm|update|click|link|tap|visit)\b|\b(?:redelivery|re-delivery|customs|shipping|delivery|postage) (?:fee|charge) of [£$€]? ?\d`,
    scam,
  ),
  rule(
    "fraud.refund-bait",
    "fraud",
    0.6,
    "unsolicited refund or rebate to claim",
    re`${near(String.raw`\b(?:tax refund|tax rebate|rebate|refund of [£$€]? ?\d[\d.,]*|overpaid|energy rebate|council tax (?:refund|rebate)|your refund)\b`, String.raw`\b(?:claim|eligible|owed|verify|submit your|apply now)\b`, 60)}`,
    pitch,
  ),
  rule(
    "fraud.credentials-request",
    "fraud",
    0.75,
    "asks for passwords, codes or card details",
    re`(?<!\b(?:never|not|don'?t|do not|won'?t|will not|shouldn'?t|should not|no one will|nobody will)\b(?: \w+){0,3} )\b(?:send|give|tell|share|provide|reply with|text|dm|forward|read out|read me) (?:me |us |back )?(?:your |ur |the |that )?(?:full )?(?:card (?:number|details)|bank (?:details|login)|online banking (?:details|login)|login(?: details)?|password|passcode|pin(?: number| code)?|otp|one[- ]time (?:code|password|passcode|pin)|verification code|security code|2fa code|\d[- ]digit code|code (?:we|i|you) (?:just )?sent|cvv|seed phrase|recovery phrase|private key|mnemonic)\b`,
    scam,
  ),
  rule(
    "fraud.tech-support",
    "fraud",
    0.75,
    "fake virus or hacking alert that asks you to call",
    re`\b(?:computer|pc|device|phone|iphone|mac|laptop|windows|system)\b (?:is|has been|was|got) (?:infected|hacked|compromised|locked|blocked)\b[\s\S]{0,80}\b(?:call|contact|ring|dial|phone)\b`,
    scam,
  ),
  rule(
    "fraud.prize",
    "fraud",
    0.55,
    "claims you have won a prize",
    re`\byou(?:'ve| have)? (?:just )?won (?:a |an |the |our )?(?:[£$€]? ?\d[\d,.]*k? )?(?:cash |free |brand new |new |guaranteed )?(?:prize|reward|iphone|ipad|cash|gift ?card|voucher|lottery|jackpot|holiday|trip|cruise|car|money|award|\d+ ?(?:pounds|dollars|euros|usd|gbp)|[£$€]\d)|\byou(?:'ve| have) been (?:selected|chosen|picked) (?:to (?:receive|win|get)|as (?:a|our|the) (?:lucky )?winner|for (?:a|our) (?:prize|reward|cash))|\bclaim (?:your|ur) (?:free )?(?:prize|reward|winnings|cash|gift|award|bonus|iphone|ipad|macbook|ps5|gift ?card|voucher)\b|\b(?:you are|you're) (?:the|our) (?:lucky )?[\d,]+(?:st|nd|rd|th) (?:visitor|customer|user)\b|\bunclaimed (?:prize|reward|funds|winnings)\b|\b(?:winning (?:ticket|number|notification)|lucky winner)\b`,
    pitch,
  ),
  rule(
    "fraud.advance-fee",
    "fraud",
    0.75,
    "advance-fee (inheritance or windfall) scheme",
    [
      re`\b(?:inheritance|beneficiary|next of kin|unclaimed (?:funds|fortune|estate)|consignment (?:box)?|diplomatic (?:bag|box)|barrister|compensation fund|lottery board|dormant account|deceased (?:client|customer))\b`,
      re`\b(?:transfer|claim|release|fee|your share|\d+ ?%|percent|bank details|account details|contact (?:me|us)|reply|confidential|urgent|sum of)\b`,
    ],
    pitch,
  ),
  rule(
    "fraud.money-mule",
    "fraud",
    0.8,
    "recruits people to move money through their accounts",
    re`\b(?:receive|accept|process|transfer|move) (?:payments?|money|funds|transfers?|cash)\b[\s\S]{0,20}\b(?:into|to|through|via|in|using) (?:your|ur) (?:own )?(?:bank )?(?:account|card)\b[\s\S]{0,60}\b(?:keep|commission|%|percent|fee|cut)\b`,
    pitch,
  ),
  rule(
    "fraud.task-scam",
    "fraud",
    0.6,
    "pays for liking, rating or reviewing (a task scam)",
    re`${near(String.raw`\b(?:lik(?:e|ing)|rat(?:e|ing)|review(?:ing)?|watch(?:ing)?|subscrib(?:e|ing) to) (?:youtube |tiktok |instagram |amazon )?(?:videos?|products?|hotels?|apps?|posts?|channels?)\b`, String.raw`\b(?:earn|get paid|make|paid)\b[\s\S]{0,30}?(?:[£$€]\d|\d+ ?(?:usd|dollars|pounds|euros)|per (?:task|day|like|review))|(?:[£$€]\d[\d,.]*|\d+ ?(?:usd|dollars|pounds|euros)) (?:a|per) (?:day|task|like|review)\b`, 60)}`,
    pitch,
  ),
  rule(
    "fraud.sextortion",
    "fraud",
    0.85,
    "extortion: pay or private images get shared",
    re`\b(?:i have|i've got|i recorded|we have|i hacked|i filmed)\b[\s\S]{0,60}\b(?:video|videos|recording|photos|pictures|webcam|screenshots?|nudes)\b[\s\S]{0,120}\b(?:pay|send|bitcoin|btc|transfer|wallet)\b|\b(?:send|pay|transfer)\b[\s\S]{0,40}\b(?:or|otherwise|unless)\b[\s\S]{0,40}\b(?:i|we)(?: will|'ll) (?:send|share|post|leak|release|publish|expose|show)\b`,
    scam,
  ),
  rule(
    "fraud.untraceable-payment",
    "fraud",
    0.5,
    "asks for payment by an untraceable method",
    re`${near(String.raw`\b(?:pay|send|payment|fee|deposit)\b`, String.raw`\b(?:western union|moneygram|bitcoin atm|crypto atm|wire (?:it|the money|transfer) (?:now|today|immediately)|(?:btc|bitcoin|usdt) (?:only|wallet address))\b`, 40)}`,
    scam,
  ),
  rule(
    "fraud.insists-legit",
    "fraud",
    0.35,
    "insists it is 'legit' or 'not a scam'",
    re`\b(?:100% legit|legit (?:investment|platform|company|opportunity|offer)|not a scam|no scam|this is real|trust me it works|it'?s legit)\b`,
    scam,
  ),
];

export const fraudDampeners: readonly Dampener[] = [
  {
    id: "fraud.warning",
    factor: 0.3,
    pattern: re`(?<!\b(?:not a|no|isn'?t a|not) )\b(?:scams?|scammers?|phishing|fraud(?:ulent|sters?)?|smishing|beware|be careful|watch out|scam warning|warning: scam|don'?t (?:click|fall for|reply|respond|share|send|pay)|do not (?:click|reply|respond|share|send|pay)|never (?:share|send|give|pay)|we(?:'ll| will) never (?:ask|call|text|email)|report (?:it|them|the message)|awareness)\b`,
    tags: scam,
    reason: "reads like a scam warning (score lowered)",
  },
];
