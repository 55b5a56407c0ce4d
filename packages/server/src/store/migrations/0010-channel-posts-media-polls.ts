import type { Kysely, Migration } from "kysely";

/**
 * Channel posts gain media, a link preview and polls. Media is public (not
 * end-to-end encrypted) and lives in the blob store by hash; a poll's votes
 * are one row per follower per option, with counters kept in the same
 * transaction, as for reactions.
 */
export const migration0010: Migration = {
  async up(db: Kysely<unknown>) {
    // One column per statement: SQLite adds one at a time.
    await db.schema.alterTable("channel_posts").addColumn("media", "text").execute();
    await db.schema.alterTable("channel_posts").addColumn("preview", "text").execute();

    await db.schema
      .createTable("channel_media")
      .addColumn("channel_id", "text", (c) =>
        c.notNull().references("channels.id").onDelete("cascade"),
      )
      .addColumn("id", "text", (c) => c.notNull())
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_media_pk", ["channel_id", "id"])
      .execute();

    await db.schema
      .createTable("channel_polls")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("question", "text", (c) => c.notNull())
      .addColumn("options", "text", (c) => c.notNull())
      .addColumn("multiple", "integer", (c) => c.notNull())
      .addColumn("closes_at", "bigint")
      .addColumn("voters", "bigint", (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint("channel_polls_pk", ["channel_id", "seq"])
      .addForeignKeyConstraint(
        "channel_polls_post",
        ["channel_id", "seq"],
        "channel_posts",
        ["channel_id", "seq"],
        (c) => c.onDelete("cascade"),
      )
      .execute();

    await db.schema
      .createTable("channel_poll_votes")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("option", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_poll_votes_pk", ["channel_id", "seq", "user_id", "option"])
      .addForeignKeyConstraint(
        "channel_poll_votes_poll",
        ["channel_id", "seq"],
        "channel_polls",
        ["channel_id", "seq"],
        (c) => c.onDelete("cascade"),
      )
      .execute();

    await db.schema
      .createTable("channel_poll_counts")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("option", "integer", (c) => c.notNull())
      .addColumn("count", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_poll_counts_pk", ["channel_id", "seq", "option"])
      .addForeignKeyConstraint(
        "channel_poll_counts_poll",
        ["channel_id", "seq"],
        "channel_polls",
        ["channel_id", "seq"],
        (c) => c.onDelete("cascade"),
      )
      .execute();
  },
};
