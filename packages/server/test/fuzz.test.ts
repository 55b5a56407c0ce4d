import net from "node:net";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ClientFrame, closeCodes, errorRegistry, isErrorCode } from "@veil/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backends } from "./helpers/backends.js";
import { DeviceKey, deviceProof, http, TestUser } from "./helpers/client.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

/*
 * Robustness: every route of the OpenAPI document and the WebSocket get
 * malformed, random and oversized input. Whatever arrives, the server
 * answers inside its error contract and keeps serving.
 */

const bodyLimit = 64 * 1024;
const methods = ["get", "post", "put", "patch", "delete"] as const;
type Method = (typeof methods)[number];

interface Route {
  method: Method;
  /** OpenAPI form: /v1/users/{userId}. */
  path: string;
  params: string[];
  /** Property names anywhere in the request body schema, to aim wrong types at. */
  fields: string[];
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
}

function fieldNames(schema: unknown, into = new Set<string>()): Set<string> {
  if (schema === null || typeof schema !== "object") return into;
  const s = schema as Record<string, unknown>;
  if (s.properties && typeof s.properties === "object") {
    for (const [name, sub] of Object.entries(s.properties)) {
      into.add(name);
      fieldNames(sub, into);
    }
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(s[key])) for (const sub of s[key]) fieldNames(sub, into);
  }
  return into;
}

function routesOf(doc: {
  paths: Record<string, Partial<Record<string, OpenApiOperation>>>;
}): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const op = operations[method];
      if (!op) continue;
      const schemas = Object.values(op.requestBody?.content ?? {}).map((c) => c.schema);
      const fields = new Set<string>();
      for (const schema of schemas) fieldNames(schema, fields);
      routes.push({
        method,
        path,
        params: (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name),
        fields: [...fields],
      });
    }
  }
  return routes;
}

// ---------------------------------------------------------------------------
// What a request carries

type Auth = { kind: "valid" } | { kind: "none" } | { kind: "header"; value: string };
type Body =
  | { kind: "none"; contentType?: string }
  | { kind: "text"; contentType: string; text: string }
  | { kind: "bytes"; contentType: string; bytes: Uint8Array }
  | { kind: "stream"; contentType: string; size: number };

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "valid" as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.string().map((s) => `Bearer ${s}`),
        fc.stringMatching(/^[A-Za-z0-9_-]{0,200}$/).map((s) => `Bearer vt_${s}`),
        fc.constantFrom("Bearer", "Bearer ", "Basic dmVpbDp2ZWls", "bearer vt_x", "vt_x"),
        fc.integer({ min: 129, max: 4000 }).map((n) => `Bearer vt_${"a".repeat(n)}`),
      )
      .map((value) => ({ kind: "header" as const, value })),
  },
);

/** Path parameter values: well-formed ids, real ones, and garbage (sent percent-encoded). */
const paramValue = (real: () => string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    fc.stringMatching(/^u_[A-Za-z0-9_-]{22}$/),
    {
      // Often: real ids get past "not found" to the handlers' deeper paths.
      weight: 4,
      arbitrary: fc.nat().map((i) => {
        const ids = real();
        return ids[i % ids.length] as string;
      }),
    },
    fc.string({ unit: "binary", maxLength: 80 }).map(encodeURIComponent),
    fc.stringMatching(/^[A-Za-z0-9_-]{65,300}$/),
    fc.constantFrom(
      "%",
      "%zz",
      "%E0%A4%A",
      "%00",
      "..",
      "%2e%2e",
      "%2F",
      "a%2Fb",
      "%C0%AF",
      "~",
      "null",
    ),
  );

const contentTypes = [
  "application/json",
  "application/json; charset=utf-8",
  "application/JSON",
  "application/json; charset=utf-16",
  "application/json;;;",
  "text/plain",
  "text/html",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "image/png",
  "image/jpeg",
  "image/webp",
  "*/*",
  "invalid",
];

const json = "application/json";
const jsonText = fc.jsonValue().map((v) => JSON.stringify(v));
/** Strings with the characters that trip parsers and databases: NUL, lone surrogates, RTL marks. */
const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff x",
    "\u202e",
    "\uffff",
    "' or 1=1 --",
    "{{x}}",
    "__proto__",
  ),
);
const wrongValue = fc.oneof(
  fc.jsonValue(),
  nastyString,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}, "", " "),
);
const huge = fc
  .tuple(
    fc.integer({ min: 1000, max: bodyLimit - 200 }),
    fc.constantFrom("x", "é", "\u0000", "😀", "\\", '"'),
  )
  .map(([n, c]) => c.repeat(Math.max(1, Math.floor(n / Buffer.byteLength(JSON.stringify(c))))));

const body = (route: Route, real: () => string[] = () => []): fc.Arbitrary<Body> => {
  const names = route.fields.length > 0 ? route.fields : ["x"];
  const field = fc.constantFrom(...names, "__proto__", "constructor", "extra");
  const text = (contentType: string, t: fc.Arbitrary<string>) =>
    t.map((s) => ({ kind: "text" as const, contentType, text: s }));
  return fc.oneof(
    // No body at all, with or without a content type.
    fc
      .option(fc.constantFrom(...contentTypes), { nil: undefined })
      .map((ct) =>
        ct === undefined ? { kind: "none" as const } : { kind: "none" as const, contentType: ct },
      ),
    text(json, fc.constant("")),
    // Malformed JSON.
    text(
      json,
      fc.oneof(
        jsonText.map((s) => s.slice(0, Math.max(0, s.length - 1))),
        fc.string().map((s) => `{${s}`),
        fc.constantFrom(
          "{",
          "[1,",
          '{"a":}',
          "nul",
          "{'a':1}",
          '{"a":1}}',
          "\u0000",
          '{"__proto__":{"x":1}}',
        ),
      ),
    ),
    // Random JSON values.
    text(json, jsonText),
    text(
      json,
      fc.anything().map((v) => {
        try {
          return JSON.stringify(v) ?? "null";
        } catch {
          return "null";
        }
      }),
    ),
    // Objects with the route's fields set to wrong types.
    text(
      json,
      fc.dictionary(field, wrongValue, { minKeys: 1, maxKeys: 6 }).map((o) => JSON.stringify(o)),
    ),
    // The route's own fields, all strings, with characters that trip parsers and databases.
    {
      weight: 3,
      arbitrary: text(
        json,
        fc
          .tuple(fc.subarray(names, { minLength: 1 }), fc.array(nastyString, { minLength: 1 }))
          .map(([keys, values]) =>
            JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, values[i % values.length]]))),
          ),
      ),
    },
    // The route's own fields set to real ids (a group to link, a member to promote), so
    // the handler gets past "not found" to its deeper checks.
    {
      weight: 2,
      arbitrary: text(
        json,
        fc.tuple(fc.subarray(names, { minLength: 1 }), fc.nat()).map(([keys, i]) => {
          const ids = real();
          if (ids.length === 0) return "{}";
          return JSON.stringify(
            Object.fromEntries(keys.map((k, j) => [k, ids[(i + j) % ids.length]])),
          );
        }),
      ),
    },
    // Huge strings in every field, under the body limit.
    text(
      json,
      fc.tuple(fc.subarray(names, { minLength: 1 }), huge).map(([keys, s]) => {
        const each = Math.floor(s.length / keys.length);
        return JSON.stringify(Object.fromEntries(keys.map((k) => [k, s.slice(0, each)])));
      }),
    ),
    // Bodies over the limit, with a length and streamed without one.
    text(
      json,
      fc
        .integer({ min: bodyLimit + 1, max: 3 * bodyLimit })
        .map((n) => JSON.stringify({ x: "y".repeat(n) })),
    ),
    fc
      .record({
        contentType: fc.constantFrom(json, "image/png", "text/plain"),
        size: fc.integer({ min: bodyLimit + 1, max: 3 * bodyLimit }),
      })
      .map((r) => ({ kind: "stream" as const, ...r })),
    // Wrong content types, with text or bytes.
    fc.record({
      kind: fc.constant("text" as const),
      contentType: fc.constantFrom(...contentTypes),
      text: fc.oneof(jsonText, nastyString),
    }),
    // Random binary.
    fc.record({
      kind: fc.constant("bytes" as const),
      contentType: fc.constantFrom(...contentTypes),
      bytes: fc.uint8Array({ maxLength: 4096 }),
    }),
  );
};

const query = fc.option(
  fc.oneof(
    fc.constantFrom("?", "?a=1", "?__proto__[x]=1", "?userId=x&userId=y", "?%zz"),
    fc.string({ maxLength: 30 }).map((s) => `?q=${encodeURIComponent(s)}`),
  ),
  { nil: "" },
);

// ---------------------------------------------------------------------------
// Checking answers

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** The error contract: no 5xx, and every failure is `{ error: { code, message } }` with a registered code. */
function expectContract(answer: Answer, context: string): void {
  expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status < 300) return;
  expect(answer.contentType, `${context}: content type`).toMatch(/^application\/json/);
  let parsed: unknown;
  expect(
    () => {
      parsed = JSON.parse(answer.text);
    },
    `${context}: ${answer.text.slice(0, 300)}`,
  ).not.toThrow();
  const shape = parsed as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(shape), `${context}: ${answer.text.slice(0, 300)}`).toEqual(["error"]);
  expect(Object.keys(shape.error ?? {}).sort(), `${context}: ${answer.text.slice(0, 300)}`).toEqual(
    ["code", "message"],
  );
  const code = shape.error?.code;
  expect(
    typeof code === "string" && isErrorCode(code),
    `${context}: unregistered code ${String(code)}`,
  ).toBe(true);
  expect(typeof shape.error?.message, context).toBe("string");
  if (typeof code === "string" && isErrorCode(code)) {
    expect(answer.status, `${context}: status of ${code}`).toBe(errorRegistry[code].status);
  }
}

async function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  b: Body,
): Promise<Answer | "cut"> {
  const init: RequestInit & { duplex?: "half" } = {
    method: method.toUpperCase(),
    headers: { ...headers },
  };
  const h = init.headers as Record<string, string>;
  const bodyless = method === "get" || method === "head";
  if (b.kind !== "none" && b.kind !== "stream") h["content-type"] = b.contentType;
  if (b.kind === "none" && b.contentType !== undefined) h["content-type"] = b.contentType;
  if (!bodyless) {
    if (b.kind === "text") init.body = b.text;
    if (b.kind === "bytes") init.body = b.bytes;
    if (b.kind === "stream") {
      h["content-type"] = b.contentType;
      const chunk = new Uint8Array(16 * 1024).fill(0x61);
      let left = b.size;
      init.body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (left <= 0) return controller.close();
          const n = Math.min(left, chunk.length);
          left -= n;
          controller.enqueue(chunk.subarray(0, n));
        },
      });
      init.duplex = "half";
    }
  }
  try {
    const response = await fetch(`${base}${path}`, init);
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      text: await response.text(),
    };
  } catch (error) {
    // Cutting the connection is a fair way to refuse an oversized upload, and only that:
    // the caller then checks that the server still answers.
    if (b.kind === "stream" || (b.kind === "text" && Buffer.byteLength(b.text) > bodyLimit)) {
      return "cut";
    }
    throw error;
  }
}

/** A request that is not oversized must get an answer. */
function answered(answer: Answer | "cut"): Answer {
  if (answer === "cut") throw new Error("the server cut the connection");
  return answer;
}

/** Sends bytes no HTTP client would, and parses the one answer. */
function rawHttp(port: number, request: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let data = "";
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = "", ...rest] = data.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      if (!status)
        return reject(new Error(`no HTTP answer: ${JSON.stringify(data.slice(0, 200))}`));
      const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? "";
      resolve({ status, contentType, text: rest.join("\r\n\r\n") });
    };
    const timer = setTimeout(done, 2000);
    socket.on("data", (chunk) => {
      data += chunk.toString();
    });
    socket.on("close", done);
    socket.on("error", () => {});
  });
}

// ---------------------------------------------------------------------------
// WebSocket

type WsFrame = { binary: boolean; data: string | Uint8Array };

const wsFrame: fc.Arbitrary<WsFrame> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }).map((data) => ({ binary: false, data })),
  jsonText.map((data) => ({ binary: false, data })),
  jsonText.map((s) => ({ binary: false, data: s.slice(0, Math.max(0, s.length - 1)) })),
  fc
    .record({
      type: fc.constantFrom("hello", "ping", "pong", "ready", "shout", "HELLO", ""),
      token: fc.option(fc.oneof(fc.string({ maxLength: 200 }), wrongValue), { nil: undefined }),
      id: fc.option(fc.oneof(fc.string({ maxLength: 100 }), wrongValue), { nil: undefined }),
      extra: fc.option(wrongValue, { nil: undefined }),
    })
    .map((o) => ({ binary: false, data: JSON.stringify(o) })),
  fc.uint8Array({ maxLength: 512 }).map((data) => ({ binary: true, data })),
  fc.constant({ binary: true, data: new TextEncoder().encode('{"type":"ping"}') }),
  fc
    .constantFrom("", "{}", "null", "[]", `{"type":"ping","id":"${"i".repeat(65)}"}`)
    .map((data) => ({ binary: false, data })),
  // Over the 64 KiB frame limit.
  fc
    .tuple(fc.boolean(), fc.integer({ min: bodyLimit + 1, max: 2 * bodyLimit }))
    .map(([binary, n]) => ({ binary, data: binary ? new Uint8Array(n) : `"${"z".repeat(n)}"` })),
);

const checkClientFrame = TypeCompiler.Compile(ClientFrame);
/** A text frame the server must answer with a pong. */
function isPing(frame: WsFrame): boolean {
  if (frame.binary || typeof frame.data !== "string") return false;
  try {
    const value: unknown = JSON.parse(frame.data);
    return checkClientFrame.Check(value) && value.type === "ping";
  } catch {
    return false;
  }
}

/** Close codes a client may see: the application's, and the protocol's own for too big / gone. */
const allowedCloseCodes = new Set<number>([...Object.values(closeCodes), 1000, 1005, 1006, 1009]);

class RawSocket {
  readonly messages: Array<{ binary: boolean; text: string }> = [];
  closeCode: number | null = null;
  closeReason = "";
  private readonly closedPromise: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, binary) => this.messages.push({ binary, text: data.toString() }));
    ws.on("error", () => {});
    this.closedPromise = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
  }

  static open(url: string): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const raw = new RawSocket(ws);
      ws.once("open", () => resolve(raw));
      ws.once("error", reject);
    });
  }

  send(frame: WsFrame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(frame.data, { binary: frame.binary }, () => {});
  }

  /** Waits for a message matching `match`, or for the close; false on a timeout. */
  async until(match: (m: { text: string }) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.messages.some(match) || this.closeCode !== null) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  async closed(timeoutMs: number): Promise<boolean> {
    return Promise.race([
      this.closedPromise.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs)),
    ]);
  }

  /** Every frame the server sent is a JSON frame; every error names a registered code. */
  expectWellFormed(context: string): void {
    for (const m of this.messages) {
      expect(m.binary, `${context}: binary frame from server`).toBe(false);
      const frame = JSON.parse(m.text) as { type?: unknown; code?: unknown; message?: unknown };
      expect(["ready", "pong", "error", "profile.updated", "profile.removed"], context).toContain(
        frame.type,
      );
      if (frame.type === "error") {
        expect(
          typeof frame.code === "string" && isErrorCode(frame.code),
          `${context}: ${m.text}`,
        ).toBe(true);
        expect(typeof frame.message, context).toBe("string");
      }
    }
    if (this.closeCode === null) return;
    expect(
      allowedCloseCodes.has(this.closeCode),
      `${context}: close ${this.closeCode} ${this.closeReason}`,
    ).toBe(true);
    const app = Object.entries(closeCodes).find(([, code]) => code === this.closeCode);
    // An application close names its code as the reason, and the error frame before it agrees.
    if (app) {
      expect(this.closeReason, context).toBe(app[0]);
      const errors = this.messages.map((m) => JSON.parse(m.text)).filter((f) => f.type === "error");
      expect(errors.at(-1)?.code, `${context}: error frame before close`).toBe(app[0]);
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

// ---------------------------------------------------------------------------

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`fuzzing every route and the WebSocket [${backend}]`, () => {
    let t: TestServer;
    let user: TestUser;
    let other: TestUser;
    let third: TestUser;
    let routes: Route[];

    beforeAll(async () => {
      t = await startTestServer({
        backend,
        env: {
          ...noRateLimits,
          VEIL_AUTH_TIMEOUT_MS: "1000",
        },
      });
      user = await TestUser.register(t.url, {
        name: "Fuzz",
        phone: "+14155550150",
        verifier: t.verifier,
      });
      other = await TestUser.register(t.url, {
        name: "Other",
        phone: "+14155550151",
        verifier: t.verifier,
      });
      third = await TestUser.register(t.url, { name: "Third" });
      const doc = await http(t.url, "GET", "/docs/json");
      expect(doc.status).toBe(200);
      routes = routesOf(doc.body);
    });
    afterAll(async () => t?.close());

    /** The fuzzed account may delete itself (DELETE /v1/me): then a new one takes its place. */
    async function ensureUser(): Promise<void> {
      if ((await user.request("GET", "/v1/me")).status === 200) return;
      user = await TestUser.register(t.url, { name: "Fuzz" });
    }

    /** Real ids of communities, groups, invite links and channels, by path parameter name. */
    const seeded = new Map<string, string[]>([
      ["communityId", []],
      ["groupId", []],
      ["code", []],
      ["channelId", []],
      ["handle", []],
      ["seq", []],
    ]);
    const remember = (param: string, ...ids: string[]) => seeded.get(param)?.push(...ids);
    let ownCommunity = "";
    let ownChannel = "";

    /**
     * A community the fuzzed user owns, that approves new members: with a
     * member, a group (and a request to join it), the announcement group, a
     * live invite link, a pending request to join, and a suggested group; a
     * community the user is a plain member of; a standalone group to link.
     * Made again when the fuzzing ends it (a deactivation, DELETE /v1/me);
     * the old ids stay, as ids of things gone.
     */
    async function seed(): Promise<void> {
      const ok = <T extends { status: number; body: any }>(r: T, what: string): T => {
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
        return r;
      };
      const as = (who: TestUser, method: string, path: string, b?: unknown) =>
        who.request(method, path, b).then((r) => ok(r, `${method} ${path}`));
      const a = (await as(user, "POST", "/v1/communities", { name: "Fuzz A" })).body;
      const code = (await as(user, "POST", `/v1/communities/${a.id}/invites`, {})).body.code;
      await as(other, "POST", `/v1/invites/${code}/join`);
      const group = (await as(user, "POST", `/v1/communities/${a.id}/groups`, { name: "G" })).body;
      await as(other, "POST", `/v1/groups/${group.id}/requests`);
      const solo = (await as(user, "POST", "/v1/groups", { kind: "group", name: "Solo" })).body;
      const others = (await as(other, "POST", "/v1/groups", { kind: "group", name: "O" })).body;
      await as(other, "POST", `/v1/communities/${a.id}/links`, { groupId: others.id });
      await as(user, "PATCH", `/v1/communities/${a.id}`, { approveMembers: true });
      await as(third, "POST", `/v1/invites/${code}/join`);
      const b = (await as(other, "POST", "/v1/communities", { name: "Fuzz B" })).body;
      const bCode = (await as(other, "POST", `/v1/communities/${b.id}/invites`, {})).body.code;
      await as(user, "POST", `/v1/invites/${bCode}/join`);
      ownCommunity = a.id;
      remember("communityId", a.id, b.id);
      remember(
        "groupId",
        group.id,
        a.announcementGroupId,
        b.announcementGroupId,
        solo.id,
        others.id,
      );
      remember("code", code, bCode);
      // A channel the user owns, with a text post and a poll, another user following
      // (reacting and voting), and a channel the user only follows.
      const tag = Math.random().toString(36).slice(2, 8);
      const own = (await as(user, "POST", "/v1/channels", { name: "Fuzz", handle: `fuzz_${tag}` }))
        .body;
      const post = (b: unknown) => as(user, "POST", `/v1/channels/${own.id}/posts`, b);
      await post({ id: `text-${tag}`, text: "hello followers" });
      await post({ id: `poll-${tag}`, poll: { question: "Which?", options: ["a", "b"] } });
      await as(other, "PUT", `/v1/channels/${own.id}/follow`, {});
      await as(other, "PUT", `/v1/channels/${own.id}/posts/1/reaction`, { emoji: "👍" });
      await as(other, "PUT", `/v1/channels/${own.id}/posts/2/vote`, { options: [0] });
      const reactions = (await as(user, "GET", `/v1/channels/${own.id}/posts/1/reactions`)).body;
      const theirs = (
        await as(other, "POST", "/v1/channels", { name: "Other", handle: `other_${tag}` })
      ).body;
      await as(user, "PUT", `/v1/channels/${theirs.id}/follow`, {});
      ownChannel = own.id;
      remember("channelId", own.id, theirs.id);
      remember(
        "handle",
        own.handle,
        theirs.handle,
        ...reactions.reactions.map((r: any) => r.handle),
      );
      remember("seq", "1", "2", "3");
    }

    /** The fuzzed user, and its community as `seed` makes it, whatever the last route did. */
    async function ensureSeed(): Promise<void> {
      await ensureUser();
      const view = await user.request("GET", `/v1/communities/${ownCommunity}`);
      const channel = await user.request("GET", `/v1/channels/${ownChannel}`);
      if (view.status !== 200 || view.body.role !== "owner" || channel.body.role !== "owner")
        await seed();
    }

    it("reads the OpenAPI document: every route is there", () => {
      const listed = routes.map((r) => `${r.method} ${r.path}`);
      for (const expected of [
        "post /v1/accounts",
        "get /v1/users/{userId}",
        "put /v1/me/photo",
        "post /v1/contacts",
        "delete /v1/blocks/{userId}",
        "get /healthz",
      ]) {
        expect(listed).toContain(expected);
      }
      expect(routes.length).toBeGreaterThanOrEqual(25);
    });

    it("answers every route, whatever it is sent, inside the error contract and never with a 5xx", async () => {
      const people = () => [user.id, other.id, third.id, user.deviceId, other.deviceId];
      const every = () => [...people(), ...[...seeded.values()].flat()];
      // A parameter gets real ids of its own kind (a community's for `communityId`), else any.
      const real = (param: string) => () => {
        const own = param === "userId" ? people() : (seeded.get(param) ?? []);
        return own.length > 0 ? own : every();
      };
      // Routes of communities, groups and invites that real ids took past "not found".
      const deep = new Set<string>();
      const aimed = /\{(communityId|groupId|code|channelId|handle)\}/;
      for (const route of routes) {
        await ensureSeed();
        await fc.assert(
          fc.asyncProperty(
            auth,
            fc.tuple(...route.params.map((name) => paramValue(real(name)))),
            body(route, every),
            query,
            async (a, values, b, q) => {
              let path = route.path;
              route.params.forEach((name, i) => {
                path = path.replace(`{${name}}`, values[i] as string);
              });
              path += q;
              const headers: Record<string, string> = {};
              if (a.kind === "valid") headers.authorization = `Bearer ${user.token}`;
              if (a.kind === "header") headers.authorization = a.value;
              const context = `${route.method.toUpperCase()} ${path.slice(0, 200)} auth=${a.kind} body=${b.kind}/${
                "contentType" in b ? b.contentType : "-"
              }`;
              const answer = await send(t.url, route.method, path, headers, b);
              if (answer === "cut") {
                expect((await http(t.url, "GET", "/healthz")).status, context).toBe(200);
                return;
              }
              expectContract(answer, context);
              if (aimed.test(route.path) && answer.status < 300)
                deep.add(`${route.method} ${route.path}`);
              if (route.method === "delete" && route.path === "/v1/me" && answer.status === 204) {
                await ensureUser();
              }
            },
          ),
          { numRuns: 150 },
        );
      }
      await ensureUser();
      expect((await http(t.url, "GET", "/healthz")).body).toEqual({ status: "ok" });
      // Not vacuous: the seeded ids reached the handlers' work, on many routes.
      if (process.env.FUZZ_VERBOSE === "1") process.stderr.write(`${[...deep].join("\n")}\n`);
      expect(deep.size).toBeGreaterThanOrEqual(8);
      expect([...deep].filter((r) => r.includes("{channelId}")).length).toBeGreaterThanOrEqual(5);
    }, 240_000);

    it("stores strange names, statuses and device names faithfully, or refuses them, never fails", async () => {
      const strange = fc.oneof(
        nastyString,
        fc.string({ unit: "binary", minLength: 1, maxLength: 64 }),
      );
      /** Lone surrogates cannot survive UTF-8 storage; such strings are checked for the contract only. */
      const wellFormed = (s: string) => Buffer.from(s, "utf8").toString("utf8") === s;
      await fc.assert(
        fc.asyncProperty(strange, strange, strange, async (name, deviceName, about) => {
          const context = JSON.stringify({ name, deviceName, about });
          const proof = await deviceProof(t.url, new DeviceKey(), deviceName);
          const registered = answered(
            await send(
              t.url,
              "post",
              "/v1/accounts",
              {},
              {
                kind: "text",
                contentType: json,
                text: JSON.stringify({ name, device: proof }),
              },
            ),
          );
          expectContract(registered, `register ${context}`);
          if (registered.status !== 201) return;
          const token = (JSON.parse(registered.text) as { session: { token: string } }).session
            .token;
          const me = await http(t.url, "GET", "/v1/me", { token });
          if (wellFormed(name)) expect(me.body.name, context).toBe(name.trim());
          const devices = await http(t.url, "GET", "/v1/devices", { token });
          // The helper sends no name for an empty one: the server then names it "Device".
          const sentName = deviceName === "" ? "Device" : deviceName;
          if (wellFormed(sentName)) expect(devices.body[0]?.name, context).toBe(sentName);
          const patched = answered(
            await send(
              t.url,
              "patch",
              "/v1/me",
              { authorization: `Bearer ${token}` },
              {
                kind: "text",
                contentType: json,
                text: JSON.stringify({ about, name }),
              },
            ),
          );
          expectContract(patched, `patch ${context}`);
          if (patched.status === 200 && wellFormed(about)) {
            expect((JSON.parse(patched.text) as { about: string }).about, context).toBe(about);
          }
        }),
        { numRuns: 40 },
      );
    });

    it("answers malformed HTTP and oversized headers inside the error contract", async () => {
      const { port } = new URL(t.url);
      const raw = [
        "GET /v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "POST /v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /v1/lookup/phone HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GARBAGE\r\n\r\n",
        `GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer vt_${"a".repeat(20_000)}\r\n\r\n`,
      ];
      for (const request of raw) {
        const answer = await rawHttp(Number(port), request);
        expectContract(answer, `raw ${JSON.stringify(request.slice(0, 60))}`);
      }
    });

    it("answers unknown routes and methods inside the error contract", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
          fc.oneof(
            fc.webPath(),
            fc.string({ maxLength: 60 }).map((s) => `/v1/${encodeURIComponent(s)}`),
            fc.constantFrom(
              "/v1/users",
              "/v1/me/",
              "/v1//me",
              "/v2/me",
              "/v1/users/%zz",
              "/%",
              "/v1/ws/x",
            ),
          ),
          async (method, path) => {
            const p = path.startsWith("/") ? path : `/${path}`;
            const answer = answered(
              await send(
                t.url,
                method.toLowerCase(),
                p,
                { authorization: `Bearer ${user.token}` },
                { kind: "none" },
              ),
            );
            // Welcome page, docs and the like are fine; failures must keep the contract.
            if (answer.status >= 300) expectContract(answer, `${method} ${p}`);
          },
        ),
        { numRuns: 150 },
      );
    });

    it("survives random, malformed and oversized WebSocket frames before hello", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(wsFrame, { minLength: 1, maxLength: 4 }), async (frames) => {
          const socket = await RawSocket.open(t.wsUrl);
          try {
            for (const f of frames) socket.send(f);
            // Anything but a good hello ends the connection: at once, or by the auth timeout.
            expect(await socket.closed(3000), "the socket was not closed").toBe(true);
            socket.expectWellFormed(`before hello: ${JSON.stringify(frames).slice(0, 300)}`);
          } finally {
            socket.close();
          }
        }),
        { numRuns: 100 },
      );
    }, 60_000);

    it("survives random, malformed and oversized WebSocket frames after hello", async () => {
      await ensureUser();
      await fc.assert(
        fc.asyncProperty(fc.array(wsFrame, { minLength: 1, maxLength: 5 }), async (frames) => {
          const socket = await RawSocket.open(t.wsUrl);
          try {
            socket.send({
              binary: false,
              data: JSON.stringify({ type: "hello", token: user.token }),
            });
            expect(await socket.until((m) => m.text.includes('"ready"'), 3000)).toBe(true);
            for (const f of frames) socket.send(f);
            socket.send({ binary: false, data: JSON.stringify({ type: "ping", id: "probe" }) });
            const context = `after hello: ${JSON.stringify(frames).slice(0, 300)}`;
            expect(await socket.until((m) => m.text.includes('"probe"'), 3000), context).toBe(true);
            // Bad frames after hello get error frames; only an oversized frame ends the connection.
            const oversized = frames.some(
              (f) =>
                (typeof f.data === "string" ? Buffer.byteLength(f.data) : f.data.length) >
                bodyLimit,
            );
            if (!oversized) {
              expect(socket.closeCode, context).toBeNull();
              expect(
                socket.messages.some((m) => m.text === '{"type":"pong","id":"probe"}'),
                context,
              ).toBe(true);
              // One answer per frame: a pong per ping, an error for anything else (a second hello too).
              const pings = frames.filter(isPing).length;
              const types = socket.messages.map(
                (m) => (JSON.parse(m.text) as { type: string }).type,
              );
              expect(types.filter((x) => x === "pong").length, context).toBe(pings + 1);
              expect(types.filter((x) => x === "error").length, context).toBe(
                frames.length - pings,
              );
            } else {
              await socket.closed(3000);
              expect([1006, 1009], context).toContain(socket.closeCode);
            }
            socket.expectWellFormed(context);
          } finally {
            socket.close();
          }
        }),
        { numRuns: 100 },
      );
    }, 60_000);

    it("still serves afterwards: health, HTTP and a fresh authenticated WebSocket", async () => {
      expect((await http(t.url, "GET", "/healthz")).body).toEqual({ status: "ok" });
      expect((await http(t.url, "GET", "/readyz")).status).toBe(200);
      await ensureUser();
      expect((await user.request("GET", "/v1/me")).status).toBe(200);
      const socket = await user.connect(t.wsUrl);
      socket.send({ type: "ping", id: "after" });
      expect(await socket.next((f) => f.type === "pong")).toEqual({ type: "pong", id: "after" });
      socket.close();
    });
  });
}
