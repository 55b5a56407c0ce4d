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
  inbox_roles: InboxRolesTable;
  inbox_agents: InboxAgentsTable;
  inbox_invitations: InboxInvitationsTable;
  inbox_sessions: InboxSessionsTable;
  inbox_teams: InboxTeamsTable;
  inbox_team_members: InboxTeamMembersTable;
  inbox_settings: InboxSettingsTable;
  inbox_conversation_state: InboxConversationStateTable;
  inbox_notes: InboxNotesTable;
  inbox_message_agents: InboxMessageAgentsTable;
  inbox_audit: InboxAuditTable;
  inbox_intent_examples: InboxIntentExamplesTable;
  media: MediaTable;
}

// --- the team inbox (migration 0003) ---------------------------------------------

/** Built-in (admin, supervisor, agent) and custom roles; permissions as a JSON array. */
export interface InboxRolesTable {
  id: string;
  name: string;
  permissions: string;
  builtin: number;
  created_at: number;
  updated_at: number;
}

export interface InboxAgentsTable {
  id: string;
  name: string;
  /** Lower-cased. */
  email: string;
  role_id: string;
  /** `scrypt$N$r$p$salt$hash` (base64url); null until the invitation is accepted. */
  password_hash: string | null;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface InboxInvitationsTable {
  /** SHA-256 of the invitation token, hex. */
  token_hash: string;
  agent_id: string;
  expires_at: number;
  used_at: number | null;
}

export interface InboxSessionsTable {
  /** SHA-256 of the session token, hex. */
  token_hash: string;
  agent_id: string;
  created_at: number;
  expires_at: number;
}

export interface InboxTeamsTable {
  id: string;
  name: string;
  /** manual | round_robin */
  routing: string;
  /** The round-robin cursor: the agent the last conversation went to. */
  rr_last_agent_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface InboxTeamMembersTable {
  team_id: string;
  agent_id: string;
  created_at: number;
}

export interface InboxSettingsTable {
  key: string;
  value: string;
}

/** Each conversation's place in the inbox. */
export interface InboxConversationStateTable {
  group_id: string;
  /** open | pending | closed */
  status: string;
  team_id: string | null;
  assignee_id: string | null;
  /** The last activity (a message either way, or a change here). */
  updated_at: number;
}

/** Internal notes: never sent to the customer, never in webhooks. */
export interface InboxNotesTable {
  id: string;
  group_id: string;
  /** An agent id, or "admin-key". */
  author: string;
  body: string;
  created_at: number;
}

/** Who in the business wrote an outgoing message (the customer only sees the business). */
export interface InboxMessageAgentsTable {
  /** The message's `wamid.…`. */
  message_id: string;
  author: string;
}

export interface InboxAuditTable {
  id: string;
  at: number;
  /** An agent id, "admin-key", "api-key:<id>" or "system". */
  actor: string;
  action: string;
  target: string | null;
  /** JSON object: ids and settings, never message text or customer names. */
  details: string;
}

export interface InboxIntentExamplesTable {
  position: number;
  intent: string;
  text: string;
}

// --- media (migration 0004) ------------------------------------------------------

/** A media file; its bytes live in the data dir under their SHA-256 (shared by equal files). */
export interface MediaTable {
  /** The Cloud API media id (digits). */
  id: string;
  /** SHA-256 of the file, hex: where its bytes are stored. */
  sha256: string;
  mime_type: string;
  file_size: number;
  /** A document's file name, when known. */
  filename: string | null;
  /** upload | link | incoming */
  origin: string;
  created_at: number;
}
