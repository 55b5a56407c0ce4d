import type { Kysely, Migration } from "kysely";

/** Announce a linked device when it can be added (it has key packages), not at approval. */
export const migration0006: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("device_links")
      .addColumn("announced", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
