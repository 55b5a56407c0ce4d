import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { errorCodes } from "@veil/protocol";
import {
  clientErrorCodes,
  type Envelope,
  encodeEnvelope,
  parseEnvelope,
  parseLinkUri,
} from "@veil/sdk";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const utf8 = (s: string) => new TextEncoder().encode(s);
const id = fc.stringMatching(/^m_[A-Za-z0-9_-]{8,20}$/);
const b64 = (length: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${length}}$`));

const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("text" as const),
    id,
    ts: fc.nat(),
    text: fc.string({ maxLength: 200 }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("reaction" as const),
    id,
    ts: fc.nat(),
    target: id,
    emoji: fc.string({ maxLength: 8 }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("receipt" as const),
    id,
    ts: fc.nat(),
    status: fc.constantFrom("delivered" as const, "read" as const),
    messageIds: fc.array(id, { minLength: 1, maxLength: 5 }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("attachment" as const),
    id,
    ts: fc.nat(),
    attachment: fc.record({
      blobId: b64(43),
      key: b64(43),
      nonce: b64(16),
      size: fc.integer({ min: 16, max: 1 << 30 }),
      sha256: b64(43),
    }),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("sender_key" as const),
    id,
    ts: fc.nat(),
    announcementGroupId: fc.stringMatching(/^g_[A-Za-z0-9_-]{8,20}$/),
    distribution: b64(120),
  }),
  fc.record({
    v: fc.constant(1 as const),
    type: fc.constant("reaction_counts" as const),
    id,
    ts: fc.nat(),
    target: id,
    counts: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1 }), {
      maxKeys: 5,
    }),
  }),
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant("reaction" as const),
      id,
      ts: fc.nat(),
      target: id,
      emoji: fc.string({ maxLength: 8 }),
      announcementGroupId: fc.stringMatching(/^g_[A-Za-z0-9_-]{8,20}$/),
    },
    { requiredKeys: ["v", "type", "id", "ts", "target", "emoji"] },
  ),
);

describe("the message envelope", () => {
  it("round-trips every valid envelope", () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(parseEnvelope(encodeEnvelope(e))).toEqual({ kind: "envelope", envelope: e });
      }),
    );
  });

  it("never throws on arbitrary bytes or JSON, and never accepts a malformed known type", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(["envelope", "unknown", "invalid"]).toContain(parseEnvelope(bytes).kind);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseEnvelope(utf8(JSON.stringify(value)));
        if (parsed.kind === "envelope") expect(parsed.envelope.v).toBe(1);
      }),
    );
    fc.assert(
      fc.property(envelope, fc.constantFrom("id", "ts"), (e, field) => {
        const broken = { ...e, [field]: { nested: true } };
        expect(parseEnvelope(utf8(JSON.stringify(broken))).kind).toBe("invalid");
      }),
    );
  });

  it("skips newer versions and types quietly, and refuses what is not an envelope", () => {
    expect(parseEnvelope(utf8('{"v":2,"type":"text","id":"m_12345678","ts":1}')).kind).toBe(
      "unknown",
    );
    expect(parseEnvelope(utf8('{"v":1,"type":"poll","id":"m_12345678","ts":1}')).kind).toBe(
      "unknown",
    );
    expect(parseEnvelope(utf8('{"v":1,"type":"text","id":"m_1","ts":1,"text":"x"}')).kind).toBe(
      "invalid",
    );
    expect(parseEnvelope(utf8("[1,2]")).kind).toBe("invalid");
    // Reaction counts are counts: a name or a negative number is not one.
    const counts = (value: unknown) =>
      parseEnvelope(
        utf8(
          JSON.stringify({
            v: 1,
            type: "reaction_counts",
            id: "m_12345678",
            ts: 1,
            target: "m_12345678",
            counts: value,
          }),
        ),
      ).kind;
    expect(counts({ "👍": 2 })).toBe("envelope");
    expect(counts({ "👍": "Ana" })).toBe("invalid");
    expect(counts({ "👍": -1 })).toBe("invalid");
    expect(parseEnvelope(Uint8Array.from([0xff, 0xfe])).kind).toBe("invalid");
  });
});

describe("the SDK's error codes", () => {
  it("never reuse one of the server's codes", () => {
    for (const code of Object.keys(clientErrorCodes)) expect(errorCodes).not.toContain(code);
  });

  it("are each documented in the SDK's README, and nothing else is", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## veil-chat"));
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(clientErrorCodes).sort());
  });
});

describe("device link strings", () => {
  it("carry a code and a 32-byte key, and nothing else", () => {
    const key = Buffer.alloc(32, 7).toString("base64url");
    expect(parseLinkUri(`veil-link:1234-5678:${key}`)).toEqual({
      code: "1234-5678",
      publicKey: key,
    });
    for (const bad of [
      "1234-5678",
      `veil-link:12-34:${key}`,
      "veil-link:1234-5678:AAAA",
      `veil-link:1234-5678:${key}:x`,
    ]) {
      expect(() => parseLinkUri(bad)).toThrow();
    }
  });
});

describe("the browser build", () => {
  it("reaches no Node module and no Node global from @veil/sdk's entry point", () => {
    const src = fileURLToPath(new URL("../src/", import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        if (!spec) continue;
        expect(spec.startsWith("node:") || spec === "ws", `${file} imports ${spec}`).toBe(false);
        if (spec.startsWith("."))
          visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
      }
      const code = text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
      expect(/\bBuffer\b|\bprocess\./.test(code), `${file} uses a Node global`).toBe(false);
    };
    visit(path.join(src, "index.ts"));
    expect(seen.size).toBeGreaterThan(15);
    expect([...seen].some((f) => f.endsWith("file-store.ts"))).toBe(false);
  });
});
