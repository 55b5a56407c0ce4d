import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Builds the server once before any suite spawns `veil` as a process (incremental). */
export function setup(): void {
  execFileSync("npx", ["tsc", "-b", "packages/server"], {
    cwd: fileURLToPath(new URL("../../../", import.meta.url)),
    stdio: "inherit",
  });
}
