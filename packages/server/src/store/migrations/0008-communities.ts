import type { Kysely, Migration } from "kysely";

/**
 * Communities: their members and roles, invite links, requests to join,
 * suggested groups; groups gain a name, a description, a community and
 * settings; key channels carry announcement keys between admins and members.
 */
export const migration0008: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("groups")
      .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema
      .alterTable("groups")
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema.alterTable("groups").addColumn("community_id", "text").execute();
    await db.schema
      .alterTable("groups")
      .addColumn("info_policy", "text", (c) => c.notNull().defaultTo("all"))
      .execute();
    await db.schema
      .alterTable("groups")
      .addColumn("approve_members", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex("groups_community").on("groups").column("community_id").execute();

    await db.schema
      .createTable("communities")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("owner_id", "text", (c) => c.notNull())
      .addColumn("announcement_group_id", "text", (c) => c.notNull())
      .addColumn("approve_members", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("group_add_policy", "text", (c) => c.notNull().defaultTo("admins"))
      .addColumn("photo", "bytea")
      .addColumn("photo_type", "text")
      .addColumn("deactivated_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("community_members")
      .addColumn("community_id", "text", (c) =>
        c.notNull().references("communities.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("joined_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("community_members_pk", ["community_id", "user_id"])
      .execute();
    await db.schema
      .createIndex("community_members_user")
      .on("community_members")
      .columns(["user_id", "community_id"])
      .execute();

    await db.schema
      .createTable("community_invites")
      .addColumn("code", "text", (c) => c.primaryKey())
      .addColumn("community_id", "text", (c) =>
        c.notNull().references("communities.id").onDelete("cascade"),
      )
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("join_requests")
      .addColumn("target_id", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("join_requests_pk", ["target_id", "user_id"])
      .execute();

    await db.schema
      .createTable("group_suggestions")
      .addColumn("community_id", "text", (c) =>
        c.notNull().references("communities.id").onDelete("cascade"),
      )
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("suggested_by", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("group_suggestions_pk", ["community_id", "group_id"])
      .execute();

    await db.schema
      .createTable("key_channels")
      .addColumn("user_low", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("user_high", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("key_channels_pk", ["user_low", "user_high"])
      .execute();
  },
};
