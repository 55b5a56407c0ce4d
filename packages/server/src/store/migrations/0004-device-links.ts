import type { Kysely, Migration } from "kysely";

/** Linking new devices, and removing gone devices from MLS trees. */
export const migration0004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("device_links")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("code", "text", (c) => c.notNull().unique())
      .addColumn("secret_hash", "text", (c) => c.notNull())
      .addColumn("public_key", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("device_id", "text")
      .addColumn("user_id", "text")
      .execute();
    await db.schema
      .createTable("pending_removals")
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("device_id", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("pending_removals_pk", ["group_id", "device_id"])
      .execute();
    await db.schema.alterTable("mailbox").addColumn("device_ref", "text").execute();
  },
};
