import type { Kysely, Migration } from "kysely";

/**
 * Channels: public one-way broadcasts. A post is one row whatever the
 * number of followers; reactions are one row per follower per post, with
 * counters kept in the same transaction.
 */
export const migration0009: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("channels")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("handle", "text", (c) => c.notNull().unique())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("category", "text")
      .addColumn("country", "text")
      .addColumn("verified", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("reaction_policy", "text", (c) => c.notNull().defaultTo("any"))
      .addColumn("invite_code", "text", (c) => c.notNull().unique())
      .addColumn("status", "text", (c) => c.notNull().defaultTo("active"))
      .addColumn("follower_count", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("last_seq", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("last_post_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("channels_directory")
      .on("channels")
      .columns(["status", "created_at"])
      .execute();

    await db.schema
      .createTable("channel_admins")
      .addColumn("channel_id", "text", (c) =>
        c.notNull().references("channels.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("added_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_admins_pk", ["channel_id", "user_id"])
      .execute();
    await db.schema
      .createIndex("channel_admins_user")
      .on("channel_admins")
      .column("user_id")
      .execute();

    await db.schema
      .createTable("channel_admin_invites")
      .addColumn("channel_id", "text", (c) =>
        c.notNull().references("channels.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_admin_invites_pk", ["channel_id", "user_id"])
      .execute();

    await db.schema
      .createTable("channel_followers")
      .addColumn("channel_id", "text", (c) =>
        c.notNull().references("channels.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("handle", "text", (c) => c.notNull())
      .addColumn("muted", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("followed_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_followers_pk", ["channel_id", "user_id"])
      .execute();
    await db.schema
      .createIndex("channel_followers_user")
      .on("channel_followers")
      .column("user_id")
      .execute();

    await db.schema
      .createTable("channel_posts")
      .addColumn("channel_id", "text", (c) =>
        c.notNull().references("channels.id").onDelete("cascade"),
      )
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("client_id", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("edited_at", "bigint")
      .addPrimaryKeyConstraint("channel_posts_pk", ["channel_id", "seq"])
      .execute();
    await db.schema
      .createIndex("channel_posts_client_id")
      .on("channel_posts")
      .columns(["channel_id", "client_id"])
      .unique()
      .execute();
    await db.schema
      .createIndex("channel_posts_age")
      .on("channel_posts")
      .column("created_at")
      .execute();

    await db.schema
      .createTable("channel_reactions")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("emoji", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_reactions_pk", ["channel_id", "seq", "user_id"])
      .addForeignKeyConstraint(
        "channel_reactions_post",
        ["channel_id", "seq"],
        "channel_posts",
        ["channel_id", "seq"],
        (c) => c.onDelete("cascade"),
      )
      .execute();

    await db.schema
      .createTable("channel_counts")
      .addColumn("channel_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("emoji", "text", (c) => c.notNull())
      .addColumn("count", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("channel_counts_pk", ["channel_id", "seq", "emoji"])
      .addForeignKeyConstraint(
        "channel_counts_post",
        ["channel_id", "seq"],
        "channel_posts",
        ["channel_id", "seq"],
        (c) => c.onDelete("cascade"),
      )
      .execute();
  },
};
