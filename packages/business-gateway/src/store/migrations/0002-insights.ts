import type { Kysely, Migration } from "kysely";

/** Each incoming message's insights (intent, sentiment, entities, suspicious signals), as JSON text. */
export const migration0002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("messages").addColumn("insights", "text").execute();
  },
};
