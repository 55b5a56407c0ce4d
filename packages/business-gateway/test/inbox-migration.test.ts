import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Migrator } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, freshSchema, postgresUrl } from "../../server/test/helpers/backends.js";
import { type Database, openPostgres, openSqlite } from "../src/store/database.js";
import { migrations } from "../src/store/migrations/index.js";
import { backends } from "./helpers/harness.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`migration 0003-inbox (${backend})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(): Promise<{ database: Database; schema?: string }> {
      if (backend === "postgres") {
        const schema = freshSchema();
        const database = await openPostgres(postgresUrl, schema);
        cleanups.push(() => dropSchema(schema));
        cleanups.push(() => database.close());
        return { database, schema };
      }
      const dir = mkdtempSync(path.join(tmpdir(), "veil-inbox-migration-"));
      const database = openSqlite(path.join(dir, "gateway.sqlite"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      cleanups.push(() => database.close());
      return { database };
    }

    it("opens the existing conversations and seeds the built-in roles", async () => {
      const { database, schema } = await open();
      const migrator = new Migrator({
        db: database.db,
        provider: { getMigrations: async () => migrations },
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      expect((await migrator.migrateTo("0002-insights")).error).toBeUndefined();
      await database.db
        .insertInto("conversations")
        .values({
          group_id: "g1",
          customer_user_id: "u1",
          customer_name: "Ann",
          created_at: 1,
          updated_at: 5,
        })
        .execute();
      expect((await migrator.migrateTo("0003-inbox")).error).toBeUndefined();
      expect(
        await database.db.selectFrom("inbox_conversation_state").selectAll().execute(),
      ).toEqual([
        { group_id: "g1", status: "open", team_id: null, assignee_id: null, updated_at: 5 },
      ]);
      const roles = await database.db
        .selectFrom("inbox_roles")
        .select(["id", "builtin"])
        .orderBy("id")
        .execute();
      expect(roles).toEqual([
        { id: "admin", builtin: 1 },
        { id: "agent", builtin: 1 },
        { id: "supervisor", builtin: 1 },
      ]);
      await database.migrate();
    });
  });
}
