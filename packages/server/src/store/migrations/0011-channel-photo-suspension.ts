import type { Kysely, Migration } from "kysely";

/**
 * Channels gain a photo and a suspension. The photo's bytes live in the blob
 * store under `photo` (their SHA-256, which doubles as the version clients
 * cache by). A platform admin's suspension keeps its reason and time.
 */
export const migration0011: Migration = {
  async up(db: Kysely<unknown>) {
    // One column per statement: SQLite adds one at a time.
    await db.schema.alterTable("channels").addColumn("photo", "text").execute();
    await db.schema.alterTable("channels").addColumn("photo_type", "text").execute();
    await db.schema.alterTable("channels").addColumn("suspension_reason", "text").execute();
    await db.schema.alterTable("channels").addColumn("suspended_at", "bigint").execute();
  },
};
