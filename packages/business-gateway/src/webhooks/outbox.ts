import { randomId } from "../ids.js";
import type { Db } from "../store/database.js";

export type WebhookEvent = "messages" | "statuses";

/**
 * Writes one outbox row per active endpoint. Call it with the transaction's
 * handle that stores the event itself, so both commit or neither does.
 */
export async function enqueueWebhook(
  db: Db,
  event: WebhookEvent,
  payload: unknown,
  now = Date.now(),
): Promise<string[]> {
  const endpoints = await db
    .selectFrom("webhook_endpoints")
    .select("id")
    .where("state", "=", "active")
    .execute();
  if (endpoints.length === 0) return [];
  const body = JSON.stringify(payload);
  const rows = endpoints.map((e) => ({
    id: randomId("msg_", 18),
    endpoint_id: e.id,
    event,
    payload: body,
    attempts: 0,
    next_attempt_at: now,
    state: "pending",
    last_status: null,
    last_error: null,
    created_at: now,
    window_start: now,
    delivered_at: null,
  }));
  await db.insertInto("webhook_outbox").values(rows).execute();
  return rows.map((r) => r.id);
}

export interface DeliveryInfo {
  id: string;
  endpointId: string;
  event: string;
  state: string;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export async function listDeliveries(
  db: Db,
  filter: { state?: string; endpointId?: string; limit?: number } = {},
): Promise<DeliveryInfo[]> {
  let query = db.selectFrom("webhook_outbox").selectAll();
  if (filter.state) query = query.where("state", "=", filter.state);
  if (filter.endpointId) query = query.where("endpoint_id", "=", filter.endpointId);
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id")
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    endpointId: r.endpoint_id,
    event: r.event,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  }));
}

/** Re-queues a delivery (any state) under the same webhook id; false when unknown. */
export async function replayDelivery(db: Db, id: string, now = Date.now()): Promise<boolean> {
  const result = await db
    .updateTable("webhook_outbox")
    .set({
      state: "pending",
      attempts: 0,
      next_attempt_at: now,
      window_start: now,
      delivered_at: null,
    })
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
