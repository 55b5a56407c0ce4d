import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hitLimit } from "../src/limits/fixed-window.js";
import type { Database } from "../src/store/database.js";
import { migrations } from "../src/store/migrations/index.js";
import { openPostgres } from "../src/store/postgres.js";
import { openSqlite } from "../src/store/sqlite.js";
import { backends, dropSchema, freshSchema, postgresUrl } from "./helpers/backends.js";

const user = (id: string, phone: string | null = null) => ({
  id,
  name: "N",
  phone,
  username: null,
  about: "",
  photo_id: null,
  privacy_phone: "everyone" as const,
  privacy_photo: "everyone" as const,
  privacy_about: "everyone" as const,
  privacy_presence: "contacts" as const,
  discoverable_by_phone: 1,
  platform_role: null,
  created_at: 1_790_000_000_000,
  updated_at: 1_790_000_000_000,
});

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`the Database wrapper [${backend}]`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    const hookErrors: unknown[] = [];

    beforeAll(async () => {
      if (backend === "sqlite") {
        const dir = mkdtempSync(path.join(tmpdir(), "veil-store-"));
        database = openSqlite(path.join(dir, "veil.sqlite"), (e) => hookErrors.push(e));
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const schema = freshSchema();
        database = await openPostgres(postgresUrl, schema, (e) => hookErrors.push(e));
        cleanup = () => dropSchema(schema);
      }
      expect(await database.migrate()).toEqual(Object.keys(migrations));
    });
    afterAll(async () => {
      await database?.close();
      await cleanup?.();
    });

    it("migrates once: a second run applies nothing", async () => {
      expect(await database.migrate()).toEqual([]);
      expect(database.dialect).toBe(backend);
    });

    it("commits, then runs after-commit hooks in order", async () => {
      const seen: string[] = [];
      await database.transaction(async (tx) => {
        await tx.db.insertInto("users").values(user("u_commit")).execute();
        tx.onCommit(() => {
          seen.push("first");
        });
        tx.onCommit(async () => {
          seen.push("second");
        });
        expect(seen).toEqual([]);
      });
      expect(seen).toEqual(["first", "second"]);
      const row = await database.db
        .selectFrom("users")
        .selectAll()
        .where("id", "=", "u_commit")
        .executeTakeFirstOrThrow();
      expect(row.created_at).toBe(1_790_000_000_000);
      expect(typeof row.created_at).toBe("number");
    });

    it("rolls back on error and never runs the hooks", async () => {
      let ran = false;
      await expect(
        database.transaction(async (tx) => {
          await tx.db.insertInto("users").values(user("u_rollback")).execute();
          tx.onCommit(() => {
            ran = true;
          });
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(ran).toBe(false);
      expect(
        await database.db
          .selectFrom("users")
          .select("id")
          .where("id", "=", "u_rollback")
          .executeTakeFirst(),
      ).toBeUndefined();
    });

    it("reports a failing hook without undoing the commit", async () => {
      await database.transaction(async (tx) => {
        await tx.db.insertInto("users").values(user("u_hook")).execute();
        tx.onCommit(() => {
          throw new Error("hook failed");
        });
      });
      expect(hookErrors).toHaveLength(1);
      expect(
        await database.db
          .selectFrom("users")
          .select("id")
          .where("id", "=", "u_hook")
          .executeTakeFirst(),
      ).toBeDefined();
    });

    it("recognises unique violations, and only them", async () => {
      await database.db.insertInto("users").values(user("u_a", "+14155552671")).execute();
      const duplicate = await database.db
        .insertInto("users")
        .values(user("u_b", "+14155552671"))
        .execute()
        .catch((e: unknown) => e);
      expect(database.isUniqueViolation(duplicate)).toBe(true);
      const other = await database.db
        .insertInto("devices")
        .values({
          id: "d_x",
          user_id: "u_missing",
          name: "x",
          public_key: "k",
          created_at: 0,
          online_since: null,
          last_seen_at: null,
        })
        .execute()
        .catch((e: unknown) => e);
      expect(other).toBeInstanceOf(Error);
      expect(database.isUniqueViolation(other)).toBe(false);
      expect(database.isUniqueViolation(new Error("x"))).toBe(false);
    });

    it("stores bytes exactly", async () => {
      const bytes = Buffer.from([0, 1, 2, 255, 254, 0, 10]);
      await database.db
        .insertInto("photos")
        .values({ id: "p_1", user_id: "u_a", content_type: "image/png", bytes, created_at: 1 })
        .execute();
      const row = await database.db
        .selectFrom("photos")
        .select("bytes")
        .where("id", "=", "p_1")
        .executeTakeFirstOrThrow();
      expect(Buffer.from(row.bytes).equals(bytes)).toBe(true);
    });

    it("counts fixed-window rate limits exactly, per key and per window", async () => {
      const results: boolean[] = [];
      for (let i = 0; i < 5; i++)
        results.push(await hitLimit(database.db, "k1", 3, 60_000, 120_000 + i));
      expect(results).toEqual([true, true, true, false, false]);
      expect(await hitLimit(database.db, "k2", 3, 60_000, 120_000)).toBe(true);
      expect(await hitLimit(database.db, "k1", 3, 60_000, 180_000)).toBe(true);
      // Concurrent hits never lose a count.
      const concurrent = await Promise.all(
        Array.from({ length: 20 }, () => hitLimit(database.db, "k3", 10, 60_000, 120_000)),
      );
      expect(concurrent.filter(Boolean)).toHaveLength(10);
    });
  });
}

describe.skipIf(!backends.find((b) => b.backend === "postgres")?.available)(
  "migrations on a database whose other schemas come and go",
  () => {
    it("migrates while other schemas of the database are dropped", async () => {
      // Kysely's migrator reads every schema's tables; one dropped under it fails that
      // read with "schema … does not exist". The wrapper reads again, so the start succeeds.
      const pg = (await import("pg")).default;
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      const others = Array.from({ length: 40 }, () => freshSchema());
      const mine = freshSchema();
      try {
        for (const other of others) {
          await admin.query(`create schema "${other}"`);
          for (let t = 0; t < 5; t++) {
            await admin.query(`create table "${other}".t${t} (id serial primary key, a text)`);
          }
        }
        const db = await openPostgres(postgresUrl, mine);
        const dropping = (async () => {
          for (const other of others) await admin.query(`drop schema "${other}" cascade`);
        })();
        try {
          expect(await db.migrate()).toEqual(Object.keys(migrations));
        } finally {
          await dropping;
          await db.close();
        }
      } finally {
        for (const other of others) await admin.query(`drop schema if exists "${other}" cascade`);
        await admin.end();
        await dropSchema(mine);
      }
    }, 60_000);
  },
);
