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

/** A fresh PostgreSQL schema name for one suite. */
export const freshSchema = (): string => `veil_test_${randomBytes(6).toString("hex")}`;

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${client.escapeIdentifier(schema)} cascade`);
  } finally {
    await client.end();
  }
}
