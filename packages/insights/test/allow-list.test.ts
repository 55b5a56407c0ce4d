import { analyzeText, defaultAllowList, ProfanityChecker } from "@veil/insights";
import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from "obscenity";
import { describe, expect, it } from "vitest";

const bare = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });

describe("allow-list (the Scunthorpe problem)", () => {
  it("keeps names and places clean", () => {
    for (const text of [
      "Scunthorpe",
      "Penistone",
      "Essex",
      "Sussex",
      "Dick Van Dyke",
      "cockpit",
      "Shitake",
      "shiitake",
      "Moby Dick",
      "magna cum laude",
      "a blue tit at the feeder",
      "flame retardant",
      "rapeseed oil",
      "Emily Dickinson",
    ]) {
      expect(analyzeText(text).findings, text).toEqual([]);
    }
  });

  it("holds only entries that obscenity would flag without it", () => {
    for (const term of defaultAllowList) {
      expect(bare.hasMatch(term), term).toBe(true);
      expect(new ProfanityChecker().words(term), term).toEqual(new Set());
    }
  });

  it("still flags the word next to an allowed name", () => {
    expect(analyzeText("Penistone is full of dicks").top?.category).toBe("profanity");
  });

  it("takes custom entries", () => {
    const text = "Meet at the Cock and Bull in Cockshutt";
    expect(analyzeText(text).top?.category).toBe("profanity");
    expect(analyzeText(text, { allowList: ["Cock and Bull", "COCKSHUTT"] }).findings).toEqual([]);
  });
});
