import { describe, expect, it } from "vitest";
import { newInviteCode } from "../src/ids.js";

describe("invite codes", () => {
  it("are 24 base64url characters that never start with '-' or '_' (a shell would read an option)", () => {
    const codes = new Set(Array.from({ length: 2000 }, () => newInviteCode()));
    expect(codes.size).toBe(2000);
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{23}$/);
  });
});
