import type { Kysely, Migration } from "kysely";

/** Group admins, and who may send (everyone or admins only). */
export const migration0007: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("group_admins")
      .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addPrimaryKeyConstraint("group_admins_pk", ["group_id", "user_id"])
      .execute();
    await db.schema
      .alterTable("groups")
      .addColumn("send_policy", "text", (c) => c.notNull().defaultTo("all"))
      .execute();
  },
};
