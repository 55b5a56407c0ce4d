import { randomBytes } from "node:crypto";
import { randomId } from "../ids.js";
import type { Db } from "../store/database.js";
import { checkWebhookUrl, WebhookUrlError } from "./ssrf-guard.js";

export interface EndpointInfo {
  id: string;
  url: string;
  state: string;
  disabledReason: string | null;
  createdAt: number;
}

const info = (r: {
  id: string;
  url: string;
  state: string;
  disabled_reason: string | null;
  created_at: number;
}): EndpointInfo => ({
  id: r.id,
  url: r.url,
  state: r.state,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at,
});

/**
 * The Cloud API's verification handshake: GET the endpoint with hub.mode,
 * hub.verify_token and a random hub.challenge; it must answer 200 with the challenge.
 */
export async function verifyEndpoint(
  url: URL,
  verifyToken: string,
  timeoutMs: number,
): Promise<void> {
  const challenge = randomBytes(12).toString("hex");
  const target = new URL(url);
  target.searchParams.set("hub.mode", "subscribe");
  target.searchParams.set("hub.verify_token", verifyToken);
  target.searchParams.set("hub.challenge", challenge);
  let response: Response;
  try {
    response = await fetch(target, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new WebhookUrlError("the endpoint did not answer the verification request");
  }
  const text = (await response.text().catch(() => "")).trim();
  if (response.status !== 200 || text !== challenge)
    throw new WebhookUrlError("the endpoint did not echo hub.challenge");
}

/** Checks (SSRF guard, handshake) and stores a subscription. */
export async function subscribeEndpoint(
  db: Db,
  rawUrl: string,
  options: { verifyToken: string; allowPrivate: boolean; timeoutMs: number },
): Promise<EndpointInfo> {
  const url = await checkWebhookUrl(rawUrl, options.allowPrivate);
  await verifyEndpoint(url, options.verifyToken, options.timeoutMs);
  const now = Date.now();
  const row = {
    id: randomId("wh_", 9),
    url: url.toString(),
    state: "active",
    disabled_reason: null,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto("webhook_endpoints").values(row).execute();
  return info(row);
}

export async function listEndpoints(db: Db): Promise<EndpointInfo[]> {
  const rows = await db.selectFrom("webhook_endpoints").selectAll().orderBy("created_at").execute();
  return rows.map(info);
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointInfo | undefined> {
  const row = await db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? info(row) : undefined;
}

/** Removes a subscription and its deliveries; false when unknown. */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  await db.deleteFrom("webhook_outbox").where("endpoint_id", "=", id).execute();
  const result = await db.deleteFrom("webhook_endpoints").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Re-activates a disabled endpoint after the handshake passes again; false when unknown. */
export async function enableEndpoint(
  db: Db,
  id: string,
  options: { verifyToken: string; allowPrivate: boolean; timeoutMs: number },
): Promise<EndpointInfo | undefined> {
  const found = await getEndpoint(db, id);
  if (!found) return undefined;
  const url = await checkWebhookUrl(found.url, options.allowPrivate);
  await verifyEndpoint(url, options.verifyToken, options.timeoutMs);
  await db
    .updateTable("webhook_endpoints")
    .set({ state: "active", disabled_reason: null, updated_at: Date.now() })
    .where("id", "=", id)
    .execute();
  return getEndpoint(db, id);
}
