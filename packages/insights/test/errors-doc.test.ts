import { readFileSync } from "node:fs";
import { InsightsError, insightsErrorCodes } from "@veil/insights";
import { describe, expect, it } from "vitest";
import { moderationDocUrl } from "./helpers/fixtures.js";

// docs/moderation.md lists every InsightsError code, in the registry's order, each meaning
// starting with the registry's message: a new code is documented in the same commit.
describe("InsightsError codes and docs/moderation.md", () => {
  const doc = readFileSync(moderationDocUrl, "utf8");
  const section = doc.slice(doc.indexOf("### Errors"), doc.indexOf("### Reproducing"));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => ({
    code: m[1],
    meaning: m[2] ?? "",
  }));

  it("lists the registry's codes in order", () => {
    expect(rows.map((r) => r.code)).toEqual(Object.keys(insightsErrorCodes));
  });

  it("starts each meaning with the registry's message", () => {
    for (const { code, meaning } of rows) {
      const message = insightsErrorCodes[code as keyof typeof insightsErrorCodes];
      expect(meaning.startsWith(message.replace(/\.$/, "")), code).toBe(true);
    }
  });

  it("gives every error its registry message, then the detail", () => {
    const e = new InsightsError("fixture_invalid", "(line 3: not JSON)");
    expect(e.message).toBe("A line of labelled messages is malformed. (line 3: not JSON)");
    expect(e.name).toBe("InsightsError");
    expect(e).toBeInstanceOf(Error);
  });
});
