import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The labelled sets behind the figures in docs/business.md ("AI insights"): their shape, size
// and independence are checked here; the figures come from scripts/business-eval.js.
function lines(name: string): Record<string, unknown>[] {
  return readFileSync(new URL(`../data/business/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("business evaluation data", () => {
  const train = lines("intents-train.jsonl");
  const test = lines("intents-test.jsonl");
  const devNone = lines("intents-dev-none.jsonl");

  it("keeps the intent test set apart from the training and development texts", () => {
    const seen = new Set([...train, ...devNone].map((row) => String(row.text).toLowerCase()));
    for (const row of test)
      expect(seen.has(String(row.text).toLowerCase()), String(row.text)).toBe(false);
    const trained = new Set(train.map((row) => row.intent));
    expect(trained.size).toBeGreaterThanOrEqual(6);
    for (const row of test) expect(row.intent === "none" || trained.has(row.intent)).toBe(true);
    expect(test.filter((row) => row.intent === "none").length).toBeGreaterThanOrEqual(10);
    expect(devNone.every((row) => row.intent === "none")).toBe(true);
  });

  it("has at least 150 labelled sentiment sentences, negations among them", () => {
    const rows = lines("sentiment.jsonl");
    expect(rows.length).toBeGreaterThanOrEqual(150);
    for (const row of rows) expect(["positive", "neutral", "negative"]).toContain(row.label);
    const texts = rows.map((row) => String(row.text));
    expect(texts.some((text) => /^not bad/i.test(text))).toBe(true);
    expect(texts.some((text) => /not happy/i.test(text))).toBe(true);
    expect(texts.some((text) => /never works/i.test(text))).toBe(true);
  });

  it("has at least 60 entity texts whose spans occur in the text", () => {
    const rows = lines("entities.jsonl");
    expect(rows.length).toBeGreaterThanOrEqual(60);
    for (const row of rows) {
      for (const entity of row.entities as { type: string; text: string }[]) {
        expect(["email", "url", "amount", "date"]).toContain(entity.type);
        expect(String(row.text).includes(entity.text), entity.text).toBe(true);
      }
    }
  });
});
