import type { Kysely, Migration } from "kysely";

/** One copy of each Welcome: a commit adding a thousand devices wrote it a thousand times. */
export const migration0005: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("welcomes")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("data", "bytea", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.alterTable("mailbox").addColumn("welcome_id", "text").execute();
    await db.schema.createIndex("mailbox_welcome").on("mailbox").column("welcome_id").execute();
  },
};
