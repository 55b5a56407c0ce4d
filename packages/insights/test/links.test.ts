import { analyzeText, linkSignals } from "@veil/insights";
import { describe, expect, it } from "vitest";

const reasons = (text: string) => linkSignals(text).map((s) => s.reason);

describe("link checks", () => {
  it("notes shortened links, as a mild risk on their own", () => {
    for (const host of ["bit.ly", "tinyurl.com", "t.co", "goo.gl", "is.gd"]) {
      expect(reasons(`see https://${host}/abc123`)).toEqual([
        `shortened link (${host}) hides where it leads`,
      ]);
    }
    expect(analyzeText("Photos from the party: https://bit.ly/party-pics").findings).toEqual([]);
  });

  it("flags punycode, digits for letters and mixed alphabets", () => {
    expect(reasons("https://xn--pypal-4ve.com")).toContain(
      "punycode (xn--) domain, often used to imitate another site",
    );
    expect(reasons("https://paypa1.com/login")).toContain(
      "look-alike of paypal (digits or look-alike letters)",
    );
    expect(reasons("https://arnazon.co.uk")).toContain(
      "look-alike of amazon (digits or look-alike letters)",
    );
    expect(reasons("https://аpple.com")).toContain(
      "link mixes letters from different alphabets (look-alike domain)",
    );
    for (const text of ["https://paypa1.com/login", "https://xn--pypal-4ve.com/verify"]) {
      expect(analyzeText(text).top?.category, text).toBe("fraud");
    }
  });

  it("flags a brand used as a subdomain of another site", () => {
    expect(reasons("http://paypal.com.secure-login.xyz/verify")).toContain(
      "brand name (paypal) used as a subdomain of another site",
    );
    expect(reasons("https://appleid.apple.com.verify-user.info")).toContain(
      "brand name (apple) used as a subdomain of another site",
    );
  });

  it("flags a brand name spelt with look-alike letters in plain text", () => {
    expect(reasons("Your Pаypal account")).toContain(
      "brand name (paypal) spelt with look-alike letters",
    );
  });

  it("leaves the brands' own links and ordinary links alone", () => {
    for (const text of [
      "https://www.paypal.com/signin",
      "https://accounts.google.com/login",
      "https://www.amazon.co.uk/orders",
      "https://login.microsoftonline.com",
      "https://example.com/slides",
      "https://www.w3.org/WAI/",
      "e.g. this, i.e. that, at 3.30pm",
    ]) {
      expect(reasons(text), text).toEqual([]);
    }
  });
});
