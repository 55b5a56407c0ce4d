import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the PostgreSQL and NATS suites connect; CI always has both. */
export const postgresUrl =
  process.env.VEIL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const natsUrl = process.env.VEIL_TEST_BUS_URL ?? "nats://127.0.0.1:4222";
const inCi = process.env.CI === "true";

async function reachable(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

export const postgresAvailable = await reachable(async () => {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  await client.end();
});

export const natsAvailable = await reachable(async () => {
  const { connect } = await import("nats");
  const nc = await connect({ servers: natsUrl, timeout: 2000, reconnect: false });
  await nc.close();
});

for (const [name, ok] of [
  ["PostgreSQL", postgresAvailable],
  ["NATS", natsAvailable],
] as const) {
  if (ok) continue;
  if (inCi) throw new Error(`${name} is not reachable, and CI must run its suites`);
  console.error(
    `\n*** ${name} is NOT reachable: its suites are SKIPPED on this machine (CI runs them). ***\n`,
  );
}

export type Backend = "sqlite" | "postgres";

/** Every storage suite runs on both backends (PostgreSQL skips loudly when absent, never in CI). */
export const backends: Array<{ backend: Backend; available: boolean }> = [
  { backend: "sqlite", available: true },
  { backend: "postgres", available: postgresAvailable },
];

/**
 * The test run's id: global-setup.ts sets it once, and every worker inherits it, so each
 * schema a suite makes is named after its run.
 */
const runId = process.env.VEIL_TEST_RUN;

/** A fresh PostgreSQL schema name for one suite. */
export const freshSchema = (): string =>
  `veil_test_${runId ? `${runId}_` : ""}${randomBytes(6).toString("hex")}`;

/**
 * Drops a suite's schema, or, inside a test run, leaves it to the run's teardown: a drop
 * while another suite migrates breaks that migration (Kysely's migrator introspects every
 * schema, and PostgreSQL answers "schema … does not exist" for one dropped under it).
 */
export async function dropSchema(schema: string): Promise<void> {
  if (runId && schema.startsWith(`veil_test_${runId}_`)) return;
  await dropSchemasLike(schema, "=");
}

/** Drops every schema of one test run (its teardown), after every suite has finished. */
export function dropRunSchemas(run: string): Promise<number> {
  return dropSchemasLike(`veil_test_${run}_`, "starts_with");
}

async function dropSchemasLike(name: string, match: "=" | "starts_with"): Promise<number> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const found = await client.query<{ nspname: string }>(
      match === "="
        ? "select nspname from pg_namespace where nspname = $1"
        : "select nspname from pg_namespace where starts_with(nspname, $1)",
      [name],
    );
    for (const { nspname } of found.rows) {
      await client.query(`drop schema if exists ${client.escapeIdentifier(nspname)} cascade`);
    }
    return found.rows.length;
  } finally {
    await client.end();
  }
}
