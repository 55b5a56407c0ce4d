import { CloudError } from "../cloud-errors.js";
import { randomId, wamidOf } from "../ids.js";
import type { Database, Db, Tx } from "../store/database.js";
import { type Actor, audit } from "./audit.js";
import { encodeCursor } from "./cursors.js";
import { conversation, type ReadScope, readScope } from "./permissions.js";
import type { Principal } from "./principals.js";
import { getSettings, nextRoundRobinAgent } from "./teams.js";

export const statuses = ["open", "pending", "closed"] as const;
export type Status = (typeof statuses)[number];

export interface ConversationSummary {
  id: string;
  customer: { id: string; name: string };
  status: Status;
  teamId: string | null;
  assigneeId: string | null;
  lastMessage: { preview: string; direction: "in" | "out"; at: number } | null;
  updatedAt: number;
}

type Row = {
  group_id: string;
  customer_user_id: string;
  customer_name: string;
  status: string;
  team_id: string | null;
  assignee_id: string | null;
  updated_at: number;
};

/** Conversations the inbox has not seen yet (started through the API) enter as open. */
async function ensureStates(db: Db): Promise<void> {
  // A read first: most calls find nothing to add, and need no write lock.
  const missing = await db
    .selectFrom("conversations as c")
    .leftJoin("inbox_conversation_state as x", "x.group_id", "c.group_id")
    .select("c.group_id")
    .where("x.group_id", "is", null)
    .limit(1)
    .executeTakeFirst();
  if (!missing) return;
  await db
    .insertInto("inbox_conversation_state")
    .columns(["group_id", "status", "team_id", "assignee_id", "updated_at"])
    .expression((eb) =>
      eb
        .selectFrom("conversations as c")
        .select((s) => [
          "c.group_id",
          s.val("open").as("status"),
          s.val(null).as("team_id"),
          s.val(null).as("assignee_id"),
          "c.updated_at",
        ])
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("inbox_conversation_state as x")
                .select("x.group_id")
                .whereRef("x.group_id", "=", "c.group_id"),
            ),
          ),
        ),
    )
    .onConflict((oc) => oc.column("group_id").doNothing())
    .execute();
}

const baseQuery = (db: Db) =>
  db
    .selectFrom("inbox_conversation_state as s")
    .innerJoin("conversations as c", "c.group_id", "s.group_id")
    .select([
      "s.group_id",
      "c.customer_user_id",
      "c.customer_name",
      "s.status",
      "s.team_id",
      "s.assignee_id",
      "s.updated_at",
    ]);

/** A non-empty string field of stored message content, else null. */
const field = (value: unknown): string | null =>
  typeof value === "string" && value !== "" ? value : null;

/** What the timeline shows of a stored attachment (never its bytes). */
export interface TimelineMedia {
  id: string;
  kind: string;
  mimeType: string;
  fileSize: number;
  filename: string | null;
  caption: string | null;
}

/** An attachment message's media facts; null for other messages and unsupported files. */
function mediaOf(type: string, content: Record<string, unknown>): TimelineMedia | null {
  const id = field(content.mediaId);
  if (type !== "attachment" || id === null) return null;
  return {
    id,
    kind: field(content.kind) ?? "document",
    mimeType: field(content.mimeType) ?? "application/octet-stream",
    fileSize: typeof content.fileSize === "number" ? content.fileSize : 0,
    filename: field(content.filename),
    caption: field(content.caption),
  };
}

function preview(type: string, content: string): string {
  try {
    const parsed = JSON.parse(content) as Record<string, unknown>;
    let text = "";
    if (type === "text" && typeof parsed.body === "string") text = parsed.body;
    else if (type === "reaction" && typeof parsed.emoji === "string") text = parsed.emoji;
    else if (type === "attachment")
      text = `📎 ${field(parsed.caption) ?? field(parsed.filename) ?? field(parsed.kind) ?? "attachment"}`;
    return [...text].slice(0, 140).join("");
  } catch {}
  return "";
}

async function summarise(db: Db, row: Row): Promise<ConversationSummary> {
  const last = await db
    .selectFrom("messages")
    .select(["type", "content", "direction", "sent_at"])
    .where("group_id", "=", row.group_id)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return {
    id: row.group_id,
    customer: { id: row.customer_user_id, name: row.customer_name },
    status: row.status as Status,
    teamId: row.team_id,
    assigneeId: row.assignee_id,
    lastMessage: last
      ? { preview: preview(last.type, last.content), direction: last.direction, at: last.sent_at }
      : null,
    updatedAt: row.updated_at,
  };
}

export interface ListFilter {
  status?: Status;
  /** A team id, or "none". */
  team?: string;
  /** "me", "none", or an agent id. */
  assignee?: string;
  limit: number;
  cursor: { at: number; id: string } | null;
}

/** The conversations the principal may read, newest activity first. */
export async function listConversations(
  db: Db,
  principal: Principal,
  filter: ListFilter,
): Promise<{ conversations: ConversationSummary[]; nextCursor: string | null }> {
  if (principal.kind === "api-key") throw new CloudError("permission_denied");
  const scope: ReadScope = readScope(principal.ability);
  if (scope === null)
    throw new CloudError("permission_denied", "This requires a conversations:read permission");
  await ensureStates(db);
  let query = baseQuery(db);
  if (scope !== "all") {
    const { teamIds, assigneeIds } = scope;
    if (teamIds.length === 0 && assigneeIds.length === 0)
      return { conversations: [], nextCursor: null };
    query = query.where((eb) =>
      eb.or([
        ...(teamIds.length > 0 ? [eb("s.team_id", "in", teamIds)] : []),
        ...(assigneeIds.length > 0 ? [eb("s.assignee_id", "in", assigneeIds)] : []),
      ]),
    );
  }
  if (filter.status) query = query.where("s.status", "=", filter.status);
  if (filter.team === "none") query = query.where("s.team_id", "is", null);
  else if (filter.team !== undefined) query = query.where("s.team_id", "=", filter.team);
  if (filter.assignee === "none") query = query.where("s.assignee_id", "is", null);
  else if (filter.assignee === "me")
    query = query.where("s.assignee_id", "=", principal.kind === "agent" ? principal.agentId : "");
  else if (filter.assignee !== undefined)
    query = query.where("s.assignee_id", "=", filter.assignee);
  const cursor = filter.cursor;
  if (cursor)
    query = query.where((eb) =>
      eb.or([
        eb("s.updated_at", "<", cursor.at),
        eb.and([eb("s.updated_at", "=", cursor.at), eb("s.group_id", "<", cursor.id)]),
      ]),
    );
  const rows = await query
    .orderBy("s.updated_at", "desc")
    .orderBy("s.group_id", "desc")
    .limit(filter.limit + 1)
    .execute();
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    conversations: await Promise.all(page.map((row) => summarise(db, row))),
    nextCursor:
      rows.length > filter.limit && last ? encodeCursor(last.updated_at, last.group_id) : null,
  };
}

/** A conversation the principal may read; one it may not see answers like a missing one. */
export async function visibleConversation(db: Db, principal: Principal, id: string): Promise<Row> {
  if (principal.kind === "api-key") throw new CloudError("permission_denied");
  await ensureStates(db);
  const row = await baseQuery(db).where("s.group_id", "=", id).executeTakeFirst();
  if (
    !row ||
    !principal.ability.can(
      "read",
      conversation({ teamId: row.team_id, assigneeId: row.assignee_id }),
    )
  )
    throw new CloudError("not_found", "no such conversation");
  return row;
}

export async function getConversation(
  db: Db,
  principal: Principal,
  id: string,
): Promise<ConversationSummary> {
  return summarise(db, await visibleConversation(db, principal, id));
}

export type TimelineItem =
  | {
      kind: "message";
      id: string;
      direction: "in" | "out";
      type: string;
      /** The text, or an attachment's caption. */
      text: string | null;
      emoji: string | null;
      /** An attachment (download it from `…/media/{media.id}`). */
      media: TimelineMedia | null;
      /** The message this one answers (`wamid.…`). */
      replyTo: string | null;
      /** A reaction's target (`wamid.…`). */
      reactionTo: string | null;
      at: number;
      status: string;
      agentId: string | null;
      insights: Record<string, unknown> | null;
    }
  | { kind: "note"; id: string; body: string; agentId: string; at: number };

/** Messages and internal notes, oldest first (the latest `limit` of them). */
export async function timeline(db: Db, groupId: string, limit: number): Promise<TimelineItem[]> {
  const messages = await db
    .selectFrom("messages as m")
    .leftJoin("inbox_message_agents as w", "w.message_id", "m.id")
    .select([
      "m.id",
      "m.veil_id",
      "m.direction",
      "m.type",
      "m.content",
      "m.status",
      "m.sent_at",
      "m.created_at",
      "m.insights",
      "w.author",
    ])
    .where("m.group_id", "=", groupId)
    .orderBy("m.created_at", "desc")
    .limit(limit)
    .execute();
  const notes = await db
    .selectFrom("inbox_notes")
    .selectAll()
    .where("group_id", "=", groupId)
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
  const items: Array<TimelineItem & { order: number }> = [];
  for (const m of messages) {
    let content: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(m.content);
      if (parsed !== null && typeof parsed === "object") content = parsed as typeof content;
    } catch {}
    const attachment = m.type === "attachment";
    let insights: Record<string, unknown> | null = null;
    try {
      insights = m.insights ? (JSON.parse(m.insights) as Record<string, unknown>) : null;
    } catch {}
    items.push({
      kind: "message",
      id: m.id,
      direction: m.direction,
      type: m.type,
      text: attachment
        ? field(content.caption)
        : typeof content.body === "string"
          ? content.body
          : null,
      emoji: typeof content.emoji === "string" ? content.emoji : null,
      media: mediaOf(m.type, content),
      replyTo: typeof content.replyTo === "string" ? wamidOf(content.replyTo) : null,
      reactionTo: typeof content.messageId === "string" ? wamidOf(content.messageId) : null,
      at: m.sent_at,
      status: m.status,
      agentId: m.author ?? null,
      insights,
      order: m.created_at,
    });
  }
  for (const n of notes)
    items.push({
      kind: "note",
      id: n.id,
      body: n.body,
      agentId: n.author,
      at: n.created_at,
      order: n.created_at,
    });
  items.sort(
    (a, b) => a.order - b.order || (a.kind === b.kind ? 0 : a.kind === "message" ? -1 : 1),
  );
  return items.slice(-limit).map(({ order: _order, ...item }) => item as TimelineItem);
}

/**
 * Whether a media id belongs to an attachment message of the conversation
 * (media ids are digits, so the LIKE pattern holds no wildcard).
 */
export async function conversationHasMedia(
  db: Db,
  groupId: string,
  mediaId: string,
): Promise<boolean> {
  if (!/^[0-9]{1,40}$/.test(mediaId)) return false;
  const rows = await db
    .selectFrom("messages")
    .select(["type", "content"])
    .where("group_id", "=", groupId)
    .where("type", "=", "attachment")
    .where("content", "like", `%${mediaId}%`)
    .execute();
  return rows.some((row) => {
    try {
      return (JSON.parse(row.content) as { mediaId?: unknown }).mediaId === mediaId;
    } catch {
      return false;
    }
  });
}

export async function addNote(database: Database, actor: Actor, groupId: string, body: string) {
  const note = {
    id: randomId("note_", 12),
    group_id: groupId,
    author: actor,
    body,
    created_at: Date.now(),
  };
  await database.transaction(async (tx) => {
    await tx.db.insertInto("inbox_notes").values(note).execute();
    await tx.db
      .updateTable("inbox_conversation_state")
      .set({ updated_at: note.created_at })
      .where("group_id", "=", groupId)
      .execute();
    await audit(tx.db, actor, "note.created", groupId, { noteId: note.id }, note.created_at);
  });
  return { kind: "note" as const, id: note.id, body, agentId: actor, at: note.created_at };
}

/** Records who in the business wrote an outgoing message, and the conversation's activity. */
export async function recordReply(
  db: Db,
  actor: Actor,
  groupId: string,
  messageId: string,
): Promise<void> {
  await db
    .insertInto("inbox_message_agents")
    .values({ message_id: messageId, author: actor })
    .execute();
  await db
    .updateTable("inbox_conversation_state")
    .set({ updated_at: Date.now() })
    .where("group_id", "=", groupId)
    .execute();
}

/** Status, team and assignee changes (checked by the caller), audited. */
export async function updateConversation(
  database: Database,
  actor: Actor,
  groupId: string,
  changes: { status?: Status; teamId?: string | null; assigneeId?: string | null },
): Promise<void> {
  if (Object.values(changes).every((v) => v === undefined)) return;
  const now = Date.now();
  await database.transaction(async (tx) => {
    await tx.db
      .updateTable("inbox_conversation_state")
      .set({
        updated_at: now,
        ...(changes.status !== undefined ? { status: changes.status } : {}),
        ...(changes.teamId !== undefined ? { team_id: changes.teamId } : {}),
        ...(changes.assigneeId !== undefined ? { assignee_id: changes.assigneeId } : {}),
      })
      .where("group_id", "=", groupId)
      .execute();
    if (changes.status !== undefined)
      await audit(tx.db, actor, "conversation.status", groupId, { status: changes.status }, now);
    if (changes.teamId !== undefined || changes.assigneeId !== undefined)
      await audit(
        tx.db,
        actor,
        "conversation.assigned",
        groupId,
        {
          ...(changes.teamId !== undefined ? { teamId: changes.teamId } : {}),
          ...(changes.assigneeId !== undefined ? { assigneeId: changes.assigneeId } : {}),
        },
        now,
      );
  });
}

/**
 * The inbound hook, inside the transaction that stores a customer's message:
 * a new conversation goes to the default team, open; a closed one reopens;
 * an unassigned one in a round-robin team goes to the team's next agent.
 */
export async function routeInbound(tx: Tx, event: { groupId: string; at: number }): Promise<void> {
  const db = tx.db;
  const state = await db
    .selectFrom("inbox_conversation_state")
    .select(["status", "team_id", "assignee_id"])
    .where("group_id", "=", event.groupId)
    .executeTakeFirst();
  let teamId: string | null;
  let assigneeId: string | null;
  if (!state) {
    teamId = (await getSettings(db)).defaultTeamId;
    assigneeId = null;
    await db
      .insertInto("inbox_conversation_state")
      .values({
        group_id: event.groupId,
        status: "open",
        team_id: teamId,
        assignee_id: null,
        updated_at: event.at,
      })
      .execute();
    await audit(db, "system", "conversation.opened", event.groupId, { teamId }, event.at);
  } else {
    teamId = state.team_id;
    assigneeId = state.assignee_id;
    await db
      .updateTable("inbox_conversation_state")
      .set({ updated_at: event.at, ...(state.status === "closed" ? { status: "open" } : {}) })
      .where("group_id", "=", event.groupId)
      .execute();
    if (state.status === "closed")
      await audit(
        db,
        "system",
        "conversation.status",
        event.groupId,
        { status: "open", reopened: true },
        event.at,
      );
  }
  if (teamId !== null && assigneeId === null) {
    const next = await nextRoundRobinAgent(db, teamId);
    if (next !== null) {
      await db
        .updateTable("inbox_conversation_state")
        .set({ assignee_id: next })
        .where("group_id", "=", event.groupId)
        .execute();
      await audit(
        db,
        "system",
        "conversation.assigned",
        event.groupId,
        { teamId, assigneeId: next, routing: "round_robin" },
        event.at,
      );
    }
  }
}
