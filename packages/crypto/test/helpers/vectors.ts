import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder with the workspace package.json). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** Shared test vectors live beside the repository, never inside it. */
export const vectorsDir = resolve(repoRoot, "../shared/test-vectors");

/**
 * Whether `relative` (a file or folder under the vectors folder) is here. Absent on a user's
 * machine: the suites that need it skip with a visible notice. Absent in CI: a failure.
 */
export function vectorsAvailable(relative: string): boolean {
  const path = resolve(vectorsDir, relative);
  if (existsSync(path)) return true;
  if (process.env.CI === "true") {
    throw new Error(`Test vectors missing in CI: ${path}. CI must have ../shared beside the repo.`);
  }
  console.error(
    `\n*** Test vectors NOT found at ${path}: their suites are SKIPPED here (CI runs them). ***\n`,
  );
  return false;
}

export function readVectors<T>(relative: string): T {
  return JSON.parse(readFileSync(resolve(vectorsDir, relative), "utf8")) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
export const toHex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
