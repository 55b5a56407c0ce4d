import { type Rule, re, rule } from "./rule.js";

/** Channel spam that the SMS corpus never saw: engagement farming, bought reach, get-rich-quick. */
export const spamRules: readonly Rule[] = [
  rule(
    "spam.follow-for-follow",
    "spam",
    0.6,
    "engagement farming (follow for follow)",
    re`\b(?:follow|like|sub|subscribe|share) (?:for|4) (?:follow|like|sub|subscribe|share)\b|\b(?:f4f|l4l|s4s|sub4sub|follow4follow|like4like|followback|follow back (?:guaranteed|100%))\b`,
  ),
  rule(
    "spam.sell-engagement",
    "spam",
    0.7,
    "sells followers, likes or views",
    re`\bbuy (?:\d+k? )?(?:real |active |instant |cheap |organic |targeted )?(?:instagram |insta |ig |tiktok |youtube |twitter |telegram |channel )?(?:followers|likes|views|subscribers|members)\b|\b(?:get|cheap|real|instant|boost your) (?:\d+k? )?(?:real |active |instant |cheap |organic |targeted )?(?:instagram |insta |ig |tiktok |youtube |twitter |telegram |channel )?(?:followers|likes|views|subscribers|members)\b[\s\S]{0,30}(?:\bfor\b|\bat\b|\bfrom\b|\bnow\b|\bcheap\b|\bfast\b|\binstantly\b|[£$€]|\d)|\b(?:followers|likes|views|subscribers) for (?:sale|[£$€]|only)`,
  ),
  rule(
    "spam.promotion-service",
    "spam",
    0.55,
    "unsolicited promotion service",
    re`\b(?:dm|message|contact|inbox) (?:me|us) for (?:promo|promotion|shoutouts?|collabs?|paid promo|ads)\b|\bpromote your (?:channel|page|account|business|product|crypto|token) (?:to|for|here|with us)\b|\b(?:cheap|paid|mass) (?:promotion|shoutouts?|advertising|dms?) (?:for|available|service)\b`,
  ),
  rule(
    "spam.get-rich-quick",
    "spam",
    0.6,
    "get-rich-quick offer",
    re`\b(?:make|earn|making|earning) (?:up to )?[£$€]?\d[\d,.]*k? ?(?:[£$€]|dollars|pounds|euros|usd)?(?: or more)? (?:a|per|every|each|in a|in one) (?:day|week|hour)\b|\b(?:work|working) from home\b[\s\S]{0,40}(?:\bearn\b|\bmake\b|[£$€])|\b(?:easy|fast|quick|passive) (?:money|cash|income)\b[\s\S]{0,40}\b(?:dm|click|link|join|sign up|telegram|whatsapp)\b`,
  ),
  rule(
    "spam.crypto-pump",
    "spam",
    0.55,
    "crypto pump promotion",
    re`\b(?:next |potential )?(?:100|1000)x (?:gem|coin|token|potential|play)\b|\bpump (?:and dump|group|signals?)\b|\bgem alert\b|\bpresale is (?:live|open)\b|\b(?:free )?airdrop (?:is )?(?:live|now|claim)\b`,
  ),
];
