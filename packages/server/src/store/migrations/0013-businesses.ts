import type { Kysely, Migration } from "kysely";

/**
 * Business accounts (issue 9): one business profile per account that chose
 * to be a business. Removing the row ends being a business; the account stays.
 */
export const migration0013: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("business_profiles")
      .addColumn("user_id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("category", "text", (c) => c.notNull())
      .addColumn("email", "text")
      .addColumn("website", "text")
      .addColumn("address", "text")
      .addColumn("verified", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
};
