import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { MlsError, mlsErrorCodes } from "@veil/crypto";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/vectors.js";

// docs/crypto.md lists every MlsError code, in the registry's order, each meaning starting
// with the registry's message: a new code is documented in the same commit.
describe("MlsError codes and docs/crypto.md", () => {
  const doc = readFileSync(resolve(repoRoot, "docs/crypto.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Errors"), doc.indexOf("## State"));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => ({
    code: m[1],
    meaning: m[2] ?? "",
  }));

  it("lists the registry's codes in order", () => {
    expect(rows.map((r) => r.code)).toEqual(Object.keys(mlsErrorCodes));
  });

  it("starts each meaning with the registry's message", () => {
    for (const { code, meaning } of rows) {
      const message = mlsErrorCodes[code as keyof typeof mlsErrorCodes];
      expect(meaning.startsWith(message.replace(/\.$/, "")), code).toBe(true);
    }
  });

  it("gives every error its registry message by default", () => {
    const e = new MlsError("wrong_epoch");
    expect(e.message).toBe(mlsErrorCodes.wrong_epoch);
    expect(e.name).toBe("MlsError");
    expect(e).toBeInstanceOf(Error);
  });
});
