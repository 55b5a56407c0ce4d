import type { Kysely, Migration } from "kysely";

/** The MLS delivery service: key packages, groups, their logs, cursors and mailboxes. */
export const migration0002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("devices")
      .addColumn("mailbox_seq", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable("key_packages")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("device_id", "text", (c) =>
        c.notNull().references("devices.id").onDelete("cascade"),
      )
      .addColumn("data", "bytea", (c) => c.notNull())
      .addColumn("last_resort", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("key_packages_device")
      .on("key_packages")
      .columns(["device_id", "last_resort", "created_at"])
      .execute();

    await db.schema
      .createTable("groups")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("epoch", "bigint", (c) => c.notNull())
      .addColumn("last_seq", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("direct_chats")
      .addColumn("user_low", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("user_high", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("direct_chats_pk", ["user_low", "user_high"])
      .execute();

    await db.schema
      .createTable("group_members")
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("device_id", "text", (c) =>
        c.notNull().references("devices.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("joined_seq", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("group_members_pk", ["group_id", "device_id"])
      .execute();
    await db.schema
      .createIndex("group_members_device")
      .on("group_members")
      .column("device_id")
      .execute();
    await db.schema
      .createIndex("group_members_user")
      .on("group_members")
      .columns(["user_id", "group_id"])
      .execute();

    await db.schema
      .createTable("group_log")
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("epoch", "bigint", (c) => c.notNull())
      .addColumn("sender_device_id", "text", (c) => c.notNull())
      .addColumn("sender_user_id", "text", (c) => c.notNull())
      .addColumn("client_id", "text")
      .addColumn("data", "bytea", (c) => c.notNull())
      .addColumn("withheld_from", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("group_log_pk", ["group_id", "seq"])
      .execute();
    await db.schema
      .createIndex("group_log_client_id")
      .on("group_log")
      .columns(["group_id", "client_id"])
      .unique()
      .execute();

    await db.schema
      .createTable("device_cursors")
      .addColumn("device_id", "text", (c) =>
        c.notNull().references("devices.id").onDelete("cascade"),
      )
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("device_cursors_pk", ["device_id", "group_id"])
      .execute();

    await db.schema
      .createTable("mailbox")
      .addColumn("device_id", "text", (c) =>
        c.notNull().references("devices.id").onDelete("cascade"),
      )
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("group_id", "text")
      .addColumn("data", "bytea")
      .addColumn("joined_seq", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("mailbox_pk", ["device_id", "seq"])
      .execute();
  },
};
