import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Builds the server and the SDK once, before any suite spawns `veil` or `veil-chat` (incremental). */
export function setup(): void {
  execFileSync("npx", ["tsc", "-b", "packages/server", "packages/sdk"], {
    cwd: fileURLToPath(new URL("../../../", import.meta.url)),
    stdio: "inherit",
  });
}
