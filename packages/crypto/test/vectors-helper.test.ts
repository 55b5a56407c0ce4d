import { afterEach, describe, expect, it, vi } from "vitest";
import { vectorsAvailable, vectorsDir } from "./helpers/vectors.js";

// The rule every vector suite relies on: absent vectors skip loudly, except in CI.
describe("the test-vector folder check", () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    vi.restoreAllMocks();
  });

  it("lives beside the repository, in ../shared/test-vectors", () => {
    expect(vectorsDir.endsWith("/shared/test-vectors")).toBe(true);
  });

  it("skips with a visible notice outside CI", () => {
    delete process.env.CI;
    const notice = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(vectorsAvailable("no-such-vectors.json")).toBe(false);
    expect(notice).toHaveBeenCalledWith(expect.stringContaining("SKIPPED"));
  });

  it("fails in CI", () => {
    process.env.CI = "true";
    expect(() => vectorsAvailable("no-such-vectors.json")).toThrow(/missing in CI/);
  });
});
