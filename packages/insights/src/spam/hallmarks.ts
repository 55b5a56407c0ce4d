/**
 * Stems (in the dataset's form) that mark the SMS-spam genre rather than ordinary
 * promotion: prizes and claims, premium texting, opt-out lines. Everyday words that spam
 * also uses ("call", "text", "win", "won", "cash", "guaranteed", "stop") are left out: in
 * channel posts they are as often innocent ("guaranteed delivery", "you won the match").
 */
const hallmarkStems: ReadonlySet<string> = new Set([
  "claim",
  "prize",
  "winner",
  "award",
  "urgent",
  "txt",
  "repli",
  "unsubscrib",
  "optout",
  "rington",
  "mobil",
  "congratul",
  "voucher",
  "bonu",
  "entri",
]);

/**
 * True when tokens carry a hallmark of SMS spam: a long number (phone number or short code),
 * a per-message price ("150p"), or one of {@link hallmarkStems}. The analyzer only lets the
 * spam model decide on its own when one is present: the corpus's ham is personal chat, so to
 * the model any promotion looks like spam, while a shop's channel promoting its sale is not.
 */
export function hasSpamHallmark(tokens: readonly string[]): boolean {
  return tokens.some(
    (token) =>
      /\d{5,}/.test(token) || /^\d+p(?:pm|pw|msg|min)?$/.test(token) || hallmarkStems.has(token),
  );
}
