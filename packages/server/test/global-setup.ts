import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

/**
 * Builds the server and the SDK once, before any suite spawns `veil` or `veil-chat`
 * (incremental), and names the run: suites' PostgreSQL schemas carry its id, and the
 * teardown drops them all once no suite can be migrating any more.
 */
export async function setup(): Promise<() => Promise<void>> {
  execFileSync("npx", ["tsc", "-b", "packages/server", "packages/sdk"], {
    cwd: fileURLToPath(new URL("../../../", import.meta.url)),
    stdio: "inherit",
  });
  const run = randomBytes(3).toString("hex");
  process.env.VEIL_TEST_RUN = run;
  return async () => {
    const { dropRunSchemas, postgresAvailable } = await import("./helpers/backends.js");
    if (postgresAvailable) await dropRunSchemas(run);
  };
}
