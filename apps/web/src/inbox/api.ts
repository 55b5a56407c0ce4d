/**
 * The gateway's team inbox API (`/api/inbox/…`, same origin), typed. Every
 * answer is checked before use: the screens never trust a shape blindly.
 */

export type ConversationStatus = "open" | "pending" | "closed";
export const statuses: readonly ConversationStatus[] = ["open", "pending", "closed"];

export interface Agent {
  id: string;
  name: string;
  email: string;
  roleId: string;
  active: boolean;
}

export interface Team {
  id: string;
  name: string;
}

export interface Me {
  agent: Agent;
  permissions: string[];
}

export interface ConversationSummary {
  id: string;
  customer: { id: string; name: string };
  status: ConversationStatus;
  teamId: string | null;
  assigneeId: string | null;
  lastMessage: { preview: string; direction: "incoming" | "outgoing"; at: number } | null;
  updatedAt: number;
}

export interface Entity {
  type: string;
  text: string;
  /** Where it starts in the message's text. */
  start: number;
  value?: string;
}

export interface Insights {
  intent: { intent: string; confidence: number } | null;
  sentiment: { label: string; score: number } | null;
  entities: Entity[];
  suspicious: { spamScore: number; scam: string[]; burst: boolean; suspicious: boolean } | null;
}

/** A message's attachment (its bytes come from `InboxApi.media`). */
export interface MediaInfo {
  id: string;
  kind: string;
  mimeType: string;
  fileSize: number;
  filename: string | null;
  caption: string | null;
}

export type TimelineItem =
  | {
      kind: "message";
      id: string;
      direction: "incoming" | "outgoing";
      type: string;
      /** The text, or an attachment's caption. */
      text: string | null;
      media: MediaInfo | null;
      at: number;
      status: string | null;
      agentId: string | null;
      insights: Insights | null;
    }
  | { kind: "note"; id: string; body: string; agentId: string | null; at: number };

/** An error the API answered with (its Cloud API shape), or a network failure. */
export class InboxApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    message: string,
  ) {
    super(message);
    this.name = "InboxApiError";
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;
/** A time as milliseconds: the API may give ms, seconds or an ISO string. */
const time = (value: unknown): number => {
  if (typeof value === "number") return value < 1e11 ? value * 1000 : value;
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
    const n = Number(value);
    if (Number.isFinite(n)) return n < 1e11 ? n * 1000 : n;
  }
  return 0;
};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function parseAgent(value: unknown): Agent | null {
  if (!isObject(value)) return null;
  const id = str(value.id);
  if (!id) return null;
  return {
    id,
    name: str(value.name) ?? "",
    email: str(value.email) ?? "",
    roleId: str(value.roleId) ?? "",
    active: value.active !== false,
  };
}

function parseTeam(value: unknown): Team | null {
  if (!isObject(value)) return null;
  const id = str(value.id);
  return id ? { id, name: str(value.name) ?? id } : null;
}

/** The gateway stores "in" and "out". */
const outgoing = (direction: unknown) => direction === "out" || direction === "outgoing";

const isStatus = (value: unknown): value is ConversationStatus =>
  value === "open" || value === "pending" || value === "closed";

function parseConversation(value: unknown): ConversationSummary | null {
  if (!isObject(value)) return null;
  const id = str(value.id);
  if (!id) return null;
  const customer = isObject(value.customer) ? value.customer : {};
  const last = isObject(value.lastMessage) ? value.lastMessage : null;
  return {
    id,
    customer: { id: str(customer.id) ?? "", name: str(customer.name) ?? "Customer" },
    status: isStatus(value.status) ? value.status : "open",
    teamId: str(value.teamId),
    assigneeId: str(value.assigneeId),
    lastMessage: last
      ? {
          preview: str(last.preview) ?? "",
          direction: outgoing(last.direction) ? "outgoing" : "incoming",
          at: time(last.at),
        }
      : null,
    updatedAt: time(value.updatedAt),
  };
}

/** The insights stored with an incoming message (JSON text or an object). */
export function parseInsights(value: unknown): Insights | null {
  let raw = value;
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!isObject(raw)) return null;
  const intent = isObject(raw.intent) ? raw.intent : null;
  const sentiment = isObject(raw.sentiment) ? raw.sentiment : null;
  const suspicious = isObject(raw.suspicious) ? raw.suspicious : null;
  return {
    intent:
      intent && str(intent.intent)
        ? { intent: str(intent.intent) as string, confidence: num(intent.confidence) ?? 0 }
        : null,
    sentiment: sentiment
      ? { label: str(sentiment.label) ?? "neutral", score: num(sentiment.score) ?? 0 }
      : null,
    entities: list(raw.entities).flatMap((e) => {
      if (!isObject(e) || !str(e.type) || !str(e.text)) return [];
      const value = str(e.value);
      return [
        {
          type: str(e.type) as string,
          text: str(e.text) as string,
          start: num(e.start) ?? 0,
          ...(value ? { value } : {}),
        },
      ];
    }),
    suspicious: suspicious
      ? {
          spamScore: num(suspicious.spamScore) ?? 0,
          scam: list(suspicious.scam).flatMap((s) => (typeof s === "string" ? [s] : [])),
          burst: suspicious.burst === true,
          suspicious: suspicious.suspicious === true,
        }
      : null,
  };
}

function parseMedia(value: unknown): MediaInfo | null {
  if (!isObject(value)) return null;
  const id = str(value.id);
  if (!id) return null;
  return {
    id,
    kind: str(value.kind) ?? "document",
    mimeType: str(value.mimeType) ?? "application/octet-stream",
    fileSize: num(value.fileSize) ?? 0,
    filename: str(value.filename),
    caption: str(value.caption),
  };
}

function parseTimelineItem(value: unknown): TimelineItem | null {
  if (!isObject(value)) return null;
  const inner = isObject(value.message) ? value.message : isObject(value.note) ? value.note : null;
  const item = inner ? { ...inner, kind: value.kind ?? value.type } : value;
  const id = str(item.id);
  if (!id) return null;
  const at = time(item.at ?? item.createdAt);
  const agentId = str(item.agentId);
  const isNote = item.kind === "note" || (item.kind !== "message" && str(item.body) !== null);
  if (isNote) return { kind: "note", id, body: str(item.body) ?? "", agentId, at };
  return {
    kind: "message",
    id,
    direction: outgoing(item.direction) ? "outgoing" : "incoming",
    type: item.kind === "message" ? (str(item.type) ?? "text") : (str(item.messageType) ?? "text"),
    text: str(item.text),
    media: parseMedia(item.media),
    at,
    status: str(item.status),
    agentId,
    insights: parseInsights(item.insights),
  };
}

/** A call of the inbox API with the session's bearer token. */
export class InboxApi {
  constructor(private readonly token: string | null) {}

  /** The raw answer of a call; throws the API's error for a failed one. */
  private async send(
    method: string,
    path: string,
    accept: string,
    body?: unknown,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`/api/inbox${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new InboxApiError(0, null, "The gateway cannot be reached. Check your connection.");
    }
    if (response.ok) return response;
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(await response.text());
    } catch {}
    const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : null;
    throw new InboxApiError(
      response.status,
      error ? num(error.code) : null,
      (error && str(error.message)) ?? `The gateway answered ${response.status}.`,
    );
  }

  private async request(method: string, path: string, body?: unknown): Promise<Json> {
    const text = await (await this.send(method, path, "application/json", body)).text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return isObject(parsed) ? parsed : {};
  }

  /** An attachment's bytes (the bearer token goes with them: an <img> cannot send it). */
  async media(conversationId: string, media: MediaInfo): Promise<Blob> {
    const response = await this.send(
      "GET",
      `/conversations/${encodeURIComponent(conversationId)}/media/${encodeURIComponent(media.id)}`,
      "*/*",
    );
    try {
      const bytes = await response.arrayBuffer();
      return new Blob([bytes], { type: media.mimeType });
    } catch {
      throw new InboxApiError(0, null, "The download was cut off. Try again.");
    }
  }

  async signIn(email: string, password: string): Promise<string> {
    const answer = await this.request("POST", "/sessions", { email, password });
    const token = str(answer.token);
    if (!token) throw new InboxApiError(500, null, "The gateway gave no session.");
    return token;
  }

  async acceptInvitation(token: string, password: string): Promise<string> {
    const answer = await this.request("POST", "/invitations/accept", { token, password });
    const session = str(answer.token);
    if (!session) throw new InboxApiError(500, null, "The gateway gave no session.");
    return session;
  }

  async signOut(): Promise<void> {
    await this.request("DELETE", "/sessions/current");
  }

  async me(): Promise<Me> {
    const answer = await this.request("GET", "/me");
    const agent = parseAgent(answer.agent);
    if (!agent) throw new InboxApiError(500, null, "The gateway did not say who you are.");
    return {
      agent,
      permissions: list(answer.permissions).flatMap((p) => (typeof p === "string" ? [p] : [])),
    };
  }

  async agents(): Promise<Agent[]> {
    const answer = await this.request("GET", "/agents");
    return list(answer.agents).flatMap((a) => parseAgent(a) ?? []);
  }

  async teams(): Promise<Team[]> {
    const answer = await this.request("GET", "/teams");
    return list(answer.teams).flatMap((t) => parseTeam(t) ?? []);
  }

  async conversations(filter: {
    status: ConversationStatus | "all";
    team: string;
    assignee: string;
  }): Promise<ConversationSummary[]> {
    const query = new URLSearchParams({ limit: "100" });
    if (filter.status !== "all") query.set("status", filter.status);
    if (filter.team) query.set("team", filter.team);
    if (filter.assignee) query.set("assignee", filter.assignee);
    const answer = await this.request("GET", `/conversations?${query}`);
    return list(answer.conversations).flatMap((c) => parseConversation(c) ?? []);
  }

  async conversation(id: string): Promise<ConversationSummary> {
    const answer = await this.request("GET", `/conversations/${encodeURIComponent(id)}`);
    const conversation = parseConversation(
      isObject(answer.conversation) ? answer.conversation : answer,
    );
    if (!conversation) throw new InboxApiError(404, null, "This conversation does not exist.");
    return conversation;
  }

  async timeline(id: string): Promise<TimelineItem[]> {
    const answer = await this.request("GET", `/conversations/${encodeURIComponent(id)}/timeline`);
    const items = list(answer.timeline ?? answer.items ?? answer.entries).flatMap(
      (item) => parseTimelineItem(item) ?? [],
    );
    // Older answers may list messages and notes apart.
    if (items.length === 0) {
      for (const m of list(answer.messages)) {
        const parsed = parseTimelineItem(isObject(m) ? { ...m, kind: "message" } : m);
        if (parsed) items.push(parsed);
      }
      for (const n of list(answer.notes)) {
        const parsed = parseTimelineItem(isObject(n) ? { ...n, kind: "note" } : n);
        if (parsed) items.push(parsed);
      }
    }
    return items.sort((a, b) => a.at - b.at);
  }

  async reply(id: string, text: string): Promise<void> {
    await this.request("POST", `/conversations/${encodeURIComponent(id)}/messages`, { text });
  }

  async update(
    id: string,
    change: { status?: ConversationStatus; assigneeId?: string | null; teamId?: string | null },
  ): Promise<void> {
    await this.request("PATCH", `/conversations/${encodeURIComponent(id)}`, change);
  }

  async addNote(id: string, body: string): Promise<void> {
    await this.request("POST", `/conversations/${encodeURIComponent(id)}/notes`, { body });
  }
}
