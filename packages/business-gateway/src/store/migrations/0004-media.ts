import type { Kysely, Migration } from "kysely";

/** Media files (uploaded, fetched by link, or received from customers); the bytes live in the data dir. */
export const migration0004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("media")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("sha256", "text", (c) => c.notNull())
      .addColumn("mime_type", "text", (c) => c.notNull())
      .addColumn("file_size", "bigint", (c) => c.notNull())
      .addColumn("filename", "text")
      .addColumn("origin", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("media_sha256").on("media").column("sha256").execute();
  },
};
