import { type Kysely, type Migration, sql } from "kysely";

/**
 * The team inbox: agents (scrypt password hashes), their sessions and
 * invitations (SHA-256 of the tokens), roles, teams with a round-robin cursor,
 * each conversation's status/team/assignee, internal notes, who replied, the
 * audit log and the intent examples. Existing conversations start open.
 */
// Copied, not imported: a released migration never changes with the code.
const builtinRoles: Record<string, string[]> = {
  admin: [
    "conversations:read:all",
    "conversations:reply",
    "conversations:assign",
    "conversations:status",
    "notes:write",
    "agents:manage",
    "teams:manage",
    "roles:manage",
    "api-keys:manage",
    "webhooks:manage",
    "intents:manage",
    "audit:read",
  ],
  supervisor: [
    "conversations:read:all",
    "conversations:reply",
    "conversations:assign",
    "conversations:status",
    "notes:write",
    "audit:read",
    "intents:manage",
  ],
  agent: [
    "conversations:read:team",
    "conversations:read:assigned",
    "conversations:reply",
    "conversations:assign",
    "conversations:status",
    "notes:write",
  ],
};

export const migration0003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("inbox_roles")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("permissions", "text", (c) => c.notNull())
      .addColumn("builtin", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    const now = Date.now();
    for (const [id, permissions] of Object.entries(builtinRoles))
      await sql`insert into inbox_roles (id, name, permissions, builtin, created_at, updated_at)
        values (${id}, ${id}, ${JSON.stringify(permissions)}, 1, ${now}, ${now})`.execute(db);

    await db.schema
      .createTable("inbox_agents")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("email", "text", (c) => c.notNull().unique())
      .addColumn("role_id", "text", (c) => c.notNull().references("inbox_roles.id"))
      .addColumn("password_hash", "text")
      .addColumn("active", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("inbox_invitations")
      .addColumn("token_hash", "text", (c) => c.primaryKey())
      .addColumn("agent_id", "text", (c) =>
        c.notNull().references("inbox_agents.id").onDelete("cascade"),
      )
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("used_at", "bigint")
      .execute();

    await db.schema
      .createTable("inbox_sessions")
      .addColumn("token_hash", "text", (c) => c.primaryKey())
      .addColumn("agent_id", "text", (c) =>
        c.notNull().references("inbox_agents.id").onDelete("cascade"),
      )
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("inbox_sessions_agent")
      .on("inbox_sessions")
      .column("agent_id")
      .execute();

    await db.schema
      .createTable("inbox_teams")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("routing", "text", (c) => c.notNull())
      .addColumn("rr_last_agent_id", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("inbox_team_members")
      .addColumn("team_id", "text", (c) =>
        c.notNull().references("inbox_teams.id").onDelete("cascade"),
      )
      .addColumn("agent_id", "text", (c) =>
        c.notNull().references("inbox_agents.id").onDelete("cascade"),
      )
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("inbox_team_members_pk", ["team_id", "agent_id"])
      .execute();

    await db.schema
      .createTable("inbox_settings")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("inbox_conversation_state")
      .addColumn("group_id", "text", (c) =>
        c.primaryKey().references("conversations.group_id").onDelete("cascade"),
      )
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("team_id", "text")
      .addColumn("assignee_id", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("inbox_conversation_state_updated")
      .on("inbox_conversation_state")
      .columns(["updated_at", "group_id"])
      .execute();
    await sql`insert into inbox_conversation_state (group_id, status, team_id, assignee_id, updated_at)
      select group_id, 'open', null, null, updated_at from conversations`.execute(db);

    await db.schema
      .createTable("inbox_notes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("group_id", "text", (c) => c.notNull())
      .addColumn("author", "text", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("inbox_notes_group")
      .on("inbox_notes")
      .columns(["group_id", "created_at"])
      .execute();

    await db.schema
      .createTable("inbox_message_agents")
      .addColumn("message_id", "text", (c) => c.primaryKey())
      .addColumn("author", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("inbox_audit")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("target", "text")
      .addColumn("details", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("inbox_audit_at").on("inbox_audit").columns(["at", "id"]).execute();

    await db.schema
      .createTable("inbox_intent_examples")
      .addColumn("position", "integer", (c) => c.primaryKey())
      .addColumn("intent", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .execute();
  },
};
