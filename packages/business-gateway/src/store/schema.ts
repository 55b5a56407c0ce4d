// Times are Unix milliseconds (bigint), flags integer 0/1, lists and payloads JSON text:
// the same meaning on SQLite and PostgreSQL.

/** One chat with one customer (a direct MLS chat on Veil). */
export interface ConversationsTable {
  group_id: string;
  customer_user_id: string;
  customer_name: string;
  created_at: number;
  updated_at: number;
}

/** Decrypted messages, in and out, keyed by their Cloud-API-style id. */
export interface MessagesTable {
  /** `wamid.…`, derived from the Veil message id. */
  id: string;
  veil_id: string;
  group_id: string;
  customer_user_id: string;
  direction: "in" | "out";
  type: "text" | "reaction" | "attachment";
  /** The content as JSON text: `{ body, replyTo }`, `{ messageId, emoji }`, … */
  content: string;
  /** Outgoing: sent | delivered | read; incoming: received | read. */
  status: string;
  sent_at: number;
  created_at: number;
  /** Incoming messages: their insights as JSON text (null for outgoing ones). */
  insights: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 of the key, hex: the key itself is shown once and never stored. */
  key_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** active | disabled */
  state: string;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookOutboxTable {
  /** The webhook id receivers de-duplicate on: the same across retries and replays. */
  id: string;
  endpoint_id: string;
  /** messages | statuses */
  event: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
  /** pending | delivered | dead */
  state: string;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  /** Start of the current retry window (creation, or the last replay). */
  window_start: number;
  delivered_at: number | null;
}

export interface Schema {
  conversations: ConversationsTable;
  messages: MessagesTable;
  api_keys: ApiKeysTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_outbox: WebhookOutboxTable;
}
