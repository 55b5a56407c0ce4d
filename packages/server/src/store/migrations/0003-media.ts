import type { Kysely, Migration } from "kysely";

/** Encrypted attachments and the groups allowed to fetch them. */
export const migration0003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("blobs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("blob_grants")
      .addColumn("blob_id", "text", (c) => c.notNull().references("blobs.id").onDelete("cascade"))
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("blob_grants_pk", ["blob_id", "group_id"])
      .execute();
    await db.schema.createIndex("blob_grants_group").on("blob_grants").column("group_id").execute();
  },
};
