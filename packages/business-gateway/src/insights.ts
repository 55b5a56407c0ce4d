import { analyzeBusinessMessage, type IntentModel } from "@veil/insights";
import type { InboundHooks } from "./business-endpoint.js";
import type { Database } from "./store/database.js";

/** How far back a customer's earlier messages count towards a burst. */
const burstWindowMs = 60_000;

/**
 * The insights of each incoming text, computed here on the business's machine:
 * intent (from the business's own examples, or none before it gives any),
 * sentiment, entities and suspicious signals, bursts counted from the
 * customer's earlier messages in this database.
 */
export function insightsHook(
  database: Database,
  intents: () => IntentModel | null,
): NonNullable<InboundHooks["insights"]> {
  return async ({ text, customerUserId, sentAt }) => {
    const earlier = await database.db
      .selectFrom("messages")
      .select("sent_at")
      .where("customer_user_id", "=", customerUserId)
      .where("direction", "=", "in")
      .where("sent_at", ">=", sentAt - burstWindowMs)
      .where("sent_at", "<=", sentAt)
      .execute();
    const insights = analyzeBusinessMessage(text, {
      intents: intents(),
      recentFromSender: earlier.map((row) => Number(row.sent_at)),
      now: sentAt,
      burst: { windowMs: burstWindowMs, maxMessages: 5 },
    });
    return { ...insights };
  };
}
