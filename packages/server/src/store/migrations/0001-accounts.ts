import type { Kysely, Migration } from "kysely";

// Column types are chosen to mean the same on SQLite and PostgreSQL:
// bigint (Unix ms), integer (0/1 flags), text, bytea (SQLite stores it as a blob).
export const migration0001: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("users")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("phone", "text", (c) => c.unique())
      .addColumn("username", "text", (c) => c.unique())
      .addColumn("about", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("photo_id", "text")
      .addColumn("privacy_phone", "text", (c) => c.notNull())
      .addColumn("privacy_photo", "text", (c) => c.notNull())
      .addColumn("privacy_about", "text", (c) => c.notNull())
      .addColumn("privacy_presence", "text", (c) => c.notNull())
      .addColumn("discoverable_by_phone", "integer", (c) => c.notNull())
      .addColumn("platform_role", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("photos")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("content_type", "text", (c) => c.notNull())
      .addColumn("bytes", "bytea", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("photos_user").on("photos").column("user_id").execute();

    await db.schema
      .createTable("devices")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("public_key", "text", (c) => c.notNull().unique())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("online_since", "bigint")
      .addColumn("last_seen_at", "bigint")
      .execute();
    await db.schema.createIndex("devices_user").on("devices").column("user_id").execute();

    await db.schema
      .createTable("sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("device_id", "text", (c) =>
        c.notNull().references("devices.id").onDelete("cascade"),
      )
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("last_used_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("sessions_device").on("sessions").column("device_id").execute();
    await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();

    await db.schema
      .createTable("auth_challenges")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("challenge", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("phone_verifications")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("phone", "text", (c) => c.notNull())
      .addColumn("code_hash", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("contacts")
      .addColumn("owner_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("contact_id", "text", (c) =>
        c.notNull().references("users.id").onDelete("cascade"),
      )
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("contacts_pk", ["owner_id", "contact_id"])
      .execute();
    await db.schema.createIndex("contacts_contact").on("contacts").column("contact_id").execute();

    await db.schema
      .createTable("blocks")
      .addColumn("blocker_id", "text", (c) =>
        c.notNull().references("users.id").onDelete("cascade"),
      )
      .addColumn("blocked_id", "text", (c) =>
        c.notNull().references("users.id").onDelete("cascade"),
      )
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("blocks_pk", ["blocker_id", "blocked_id"])
      .execute();
    await db.schema.createIndex("blocks_blocked").on("blocks").column("blocked_id").execute();

    await db.schema
      .createTable("phone_discoveries")
      .addColumn("viewer_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("subject_id", "text", (c) =>
        c.notNull().references("users.id").onDelete("cascade"),
      )
      .addColumn("phone", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("phone_discoveries_pk", ["viewer_id", "subject_id"])
      .execute();
    await db.schema
      .createIndex("phone_discoveries_subject")
      .on("phone_discoveries")
      .column("subject_id")
      .execute();

    await db.schema
      .createTable("rate_limits")
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("window_start", "bigint", (c) => c.notNull())
      .addColumn("count", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("rate_limits_pk", ["key", "window_start"])
      .execute();
  },
};
