import type { Kysely, Migration } from "kysely";

/**
 * Content guidelines enforcement: held changes, the review queue (cases,
 * reports, notes), strikes, appeals, the audit log, and account abuse
 * (chats with strangers, flags). Ids of users and channels are plain text,
 * without foreign keys: a case, a strike and the audit log outlive the post,
 * channel or account they are about.
 */
export const migration0012: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("channels").addColumn("suspended_by", "text").execute();

    await db.schema
      .createTable("moderation_holds")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("seq", "bigint")
      .addColumn("client_id", "text")
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("category", "text")
      .addColumn("reasons", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("decided_at", "bigint")
      .execute();
    await db.schema
      .createIndex("moderation_holds_channel")
      .on("moderation_holds")
      .columns(["channel_id", "status"])
      .execute();
    // NULLs are distinct in both databases: only held posts take part.
    await db.schema
      .createIndex("moderation_holds_client_id")
      .on("moderation_holds")
      .columns(["channel_id", "client_id"])
      .unique()
      .execute();

    await db.schema
      .createTable("moderation_cases")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("subject_key", "text", (c) => c.notNull())
      .addColumn("open_key", "text", (c) => c.unique())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("channel_id", "text")
      .addColumn("seq", "bigint")
      .addColumn("user_id", "text")
      .addColumn("hold_id", "text")
      .addColumn("text", "text")
      .addColumn("risk", "integer", (c) => c.notNull())
      .addColumn("category", "text")
      .addColumn("reasons", "text", (c) => c.notNull())
      .addColumn("report_count", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("opened_at", "bigint", (c) => c.notNull())
      .addColumn("claimed_by", "text")
      .addColumn("claimed_at", "bigint")
      .addColumn("outcome", "text")
      .addColumn("outcome_category", "text")
      .addColumn("decided_by", "text")
      .addColumn("decided_at", "bigint")
      .execute();
    await db.schema
      .createIndex("moderation_cases_queue")
      .on("moderation_cases")
      .columns(["status", "risk", "opened_at"])
      .execute();
    await db.schema
      .createIndex("moderation_cases_channel")
      .on("moderation_cases")
      .column("channel_id")
      .execute();
    await db.schema
      .createIndex("moderation_cases_user")
      .on("moderation_cases")
      .column("user_id")
      .execute();

    await db.schema
      .createTable("moderation_reports")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("case_id", "text", (c) =>
        c.notNull().references("moderation_cases.id").onDelete("cascade"),
      )
      .addColumn("reporter_id", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("note", "text")
      .addColumn("messages", "text", (c) => c.notNull())
      .addColumn("user_id", "text")
      .addColumn("group_id", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addUniqueConstraint("moderation_reports_once", ["case_id", "reporter_id"])
      .execute();
    await db.schema
      .createIndex("moderation_reports_user")
      .on("moderation_reports")
      .columns(["user_id", "created_at"])
      .execute();

    await db.schema
      .createTable("moderation_notes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("case_id", "text", (c) =>
        c.notNull().references("moderation_cases.id").onDelete("cascade"),
      )
      .addColumn("author_id", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("moderation_notes_case")
      .on("moderation_notes")
      .column("case_id")
      .execute();

    await db.schema
      .createTable("moderation_strikes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("case_id", "text", (c) => c.notNull().unique())
      .addColumn("category", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("lifted_at", "bigint")
      .execute();
    await db.schema
      .createIndex("moderation_strikes_channel")
      .on("moderation_strikes")
      .columns(["channel_id", "created_at"])
      .execute();

    await db.schema
      .createTable("moderation_appeals")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("case_id", "text", (c) => c.notNull().unique())
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("decided_by", "text")
      .addColumn("decided_at", "bigint")
      .execute();
    await db.schema
      .createIndex("moderation_appeals_status")
      .on("moderation_appeals")
      .columns(["status", "created_at"])
      .execute();

    await db.schema
      .createTable("moderation_audit")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("actor_id", "text")
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("case_id", "text")
      .addColumn("detail", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("stranger_chats")
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("chat_key", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("stranger_chats_pk", ["user_id", "chat_key"])
      .execute();
    await db.schema
      .createIndex("stranger_chats_age")
      .on("stranger_chats")
      .columns(["user_id", "at"])
      .execute();

    await db.schema
      .createTable("account_flags")
      .addColumn("user_id", "text", (c) => c.primaryKey())
      .addColumn("strangers_at", "bigint")
      .addColumn("reports_at", "bigint")
      .addColumn("limited", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("case_id", "text")
      .execute();
  },
};
