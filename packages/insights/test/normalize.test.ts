import { normalizeText } from "@veil/insights";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("normalizeText", () => {
  it.each([
    ["B U Y  c0caine!!!", "buy cocaine!!!"],
    ["k.i.l.l", "kill"],
    ["s e l l i n g h e r o i n", "selling heroin"],
    ["I w i l l k i l l y o u", "i will kill you"],
    ["ｆｕｃｋ", "fuck"],
    ["shît", "shit"],
    ["pаypal", "paypal"], // Cyrillic а
    ["ki\u200bll", "kill"],
    ["killllll", "kill"],
    ["sub4sub", "sub4sub"],
    ["It’s", "it's"],
    ["$500 for 10 pills", "$500 for 10 pills"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it("leaves ordinary text as it is, lower-cased", () => {
    expect(normalizeText("Meet at 10am, Platform 3")).toBe("meet at 10am, platform 3");
  });

  it("gives lower case without invisible characters or runs of spaces, for any input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "grapheme" }), (text) => {
        const out = normalizeText(text);
        expect(out).toBe(out.toLowerCase());
        expect(out).not.toMatch(/[\u200b-\u200f\ufeff]|\s{2}|^\s|\s$/);
      }),
      { numRuns: 500 },
    );
  });
});
