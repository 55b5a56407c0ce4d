import { isDeepStrictEqual } from "node:util";
import { FormatRegistry } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  type ErrorCode,
  errorRegistry,
  type PrivacyAudience,
  type PrivacySettings,
  type ServerFrame,
  VisibleProfile,
} from "@veil/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  noRelations,
  phoneLookupProfile,
  type Relations,
  type Subject,
  visibleProfile,
} from "../src/privacy/policy.js";
import { backends } from "./helpers/backends.js";
import { http, type LiveSocket, phoneProof, type Reply, TestUser } from "./helpers/client.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

// Value.Check needs the formats the schemas use.
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set(
    "date-time",
    (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v)),
  );
}

/*
 * The reference below is written from the rule table of PRIVACY-MODEL.md,
 * field by field, without looking at how policy.ts groups its rules. The
 * policy must agree with it on every subject and every combination of facts.
 */

type Field = keyof VisibleProfile;
const allFields: readonly Field[] = [
  "id",
  "name",
  "phone",
  "username",
  "photo",
  "about",
  "presence",
];
type Guarded = "phone" | "photo" | "about" | "presence";

/** allowed(setting): `contacts` tests whether S has V in S's address book. */
function admits(audience: PrivacyAudience, subjectHasViewerAsContact: boolean): boolean {
  if (audience === "everyone") return true;
  if (audience === "contacts") return subjectHasViewerAsContact;
  return false;
}

/** The fields the rules grant V of S (before dropping fields S has no value for). */
function referenceGrants(privacy: PrivacySettings, r: Relations): Set<Field> {
  // R1: V is S.
  if (r.self) return new Set(allFields);
  const ok = (field: Guarded) => admits(privacy[field], r.subjectHasViewerAsContact);
  // R2 (1:1 chat, S in V's contacts, V found S by phone) and R11 (as R2).
  const r2 =
    r.directChat || r.viewerHasSubjectAsContact || r.foundByPhone || r.customerOfViewerBusiness;
  const r3 = r.sharedGroup;
  const r5 = r.subjectAdminsViewersCommunity;
  const r6 = r.viewerAdminsSubjectsCommunity;
  const r10 = r.coChannelAdmins;
  // R4, R7, R8, R9, R12 and R13 grant nothing through visibleProfile.
  const any = r2 || r3 || r5 || r6 || r10;
  const granted: Record<Field, boolean> = {
    id: any,
    name: any,
    username: r2 || r3,
    phone: (r2 && (ok("phone") || r.foundByPhone)) || r3 || r6 || r10,
    photo: any && ok("photo"),
    about: (r2 || r3) && ok("about"),
    presence: (r2 || r3) && ok("presence"),
  };
  // B: S blocked V: at most id and name.
  if (r.blockedBySubject) {
    for (const f of allFields) if (f !== "id" && f !== "name") granted[f] = false;
  }
  return new Set(allFields.filter((f) => granted[f]));
}

/** The profile built from granted fields; a field S has no value for is absent. */
function profileOf(subject: Subject, granted: ReadonlySet<Field>): VisibleProfile | null {
  if (!granted.has("id")) return null;
  const p: VisibleProfile = { id: subject.id };
  if (granted.has("name")) p.name = subject.name;
  if (granted.has("phone") && subject.phone !== null) p.phone = subject.phone;
  if (granted.has("username") && subject.username !== null) p.username = subject.username;
  if (granted.has("photo") && subject.photo !== null) p.photo = subject.photo;
  if (granted.has("about")) p.about = subject.about;
  if (granted.has("presence")) p.presence = subject.presence;
  return p;
}

function referenceProfile(subject: Subject, r: Relations): VisibleProfile | null {
  return profileOf(subject, referenceGrants(subject.privacy, r));
}

/** R13: a lookup by S's exact number, when S is discoverable, adds id, name and photo-if-allowed. */
function referenceLookup(subject: Subject, r: Relations): VisibleProfile | null {
  const rules = referenceGrants(subject.privacy, r);
  if (!subject.privacy.discoverableByPhone) return profileOf(subject, rules);
  const lookup = new Set<Field>(["id", "name"]);
  if (!r.blockedBySubject && admits(subject.privacy.photo, r.subjectHasViewerAsContact)) {
    lookup.add("photo");
  }
  return profileOf(subject, new Set([...rules, ...lookup]));
}

// ---------------------------------------------------------------------------
// Generators

const audience = fc.constantFrom<PrivacyAudience>("everyone", "contacts", "nobody");
const privacy: fc.Arbitrary<PrivacySettings> = fc.record({
  phone: audience,
  photo: audience,
  about: audience,
  presence: audience,
  discoverableByPhone: fc.boolean(),
});
const subject: fc.Arbitrary<Subject> = fc.record({
  id: fc.stringMatching(/^u_[A-Za-z0-9_-]{22}$/),
  name: fc.string({ minLength: 1, maxLength: 16 }),
  phone: fc.option(fc.stringMatching(/^\+[1-9][0-9]{7,13}$/), { nil: null }),
  username: fc.option(fc.stringMatching(/^[a-z][a-z0-9._]{2,12}$/), { nil: null }),
  photo: fc.option(fc.stringMatching(/^p_[A-Za-z0-9_-]{22}$/), { nil: null }),
  about: fc.string({ maxLength: 20 }),
  presence: fc.record({
    online: fc.boolean(),
    lastSeenAt: fc.option(
      fc
        .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
        .map((d) => d.toISOString()),
      { nil: null },
    ),
  }),
  privacy,
});

/** A flag that holds with probability `percent`/100: keeps R1 from drowning the other rules. */
const flag = (percent: number) => fc.integer({ min: 0, max: 99 }).map((n) => n < percent);
const relationsWith = (self: fc.Arbitrary<boolean>): fc.Arbitrary<Relations> =>
  fc.record({
    self,
    subjectHasViewerAsContact: flag(50),
    viewerHasSubjectAsContact: flag(25),
    directChat: flag(20),
    foundByPhone: flag(25),
    sharedGroup: flag(20),
    subjectAdminsViewersCommunity: flag(20),
    viewerAdminsSubjectsCommunity: flag(20),
    coChannelAdmins: flag(20),
    customerOfViewerBusiness: flag(15),
    blockedBySubject: flag(30),
  });
const relations = relationsWith(flag(10));
const notSelf = relationsWith(fc.constant(false));

const granting = [
  "self",
  "viewerHasSubjectAsContact",
  "directChat",
  "foundByPhone",
  "sharedGroup",
  "subjectAdminsViewersCommunity",
  "viewerAdminsSubjectsCommunity",
  "coChannelAdmins",
  "customerOfViewerBusiness",
] as const satisfies ReadonlyArray<keyof Relations>;

const keysOf = (p: VisibleProfile | null) => (p === null ? [] : Object.keys(p).sort());
const runs = { numRuns: 4000 };

describe("privacy policy (pure): visibleProfile and phoneLookupProfile against PRIVACY-MODEL.md", () => {
  it("agrees with the reference rule table on every subject and set of relations", () => {
    fc.assert(
      fc.property(subject, relations, (s, r) => {
        const actual = visibleProfile(s, r);
        expect(actual).toEqual(referenceProfile(s, r));
        if (actual !== null) expect(Value.Check(VisibleProfile, actual)).toBe(true);
      }),
      runs,
    );
  });

  it("covers every rule alone: each granting flag, on its own, gives exactly its row", () => {
    // A deterministic sweep, so no row depends on what the generator happened to draw.
    const full: Subject = {
      id: "u_AAAAAAAAAAAAAAAAAAAAAA",
      name: "Sam",
      phone: "+14155550100",
      username: "sam",
      photo: "p_AAAAAAAAAAAAAAAAAAAAAA",
      about: "hi",
      presence: { online: true, lastSeenAt: null },
      privacy: {
        phone: "everyone",
        photo: "everyone",
        about: "everyone",
        presence: "everyone",
        discoverableByPhone: true,
      },
    };
    const rows: Record<(typeof granting)[number], string[]> = {
      self: ["about", "id", "name", "phone", "photo", "presence", "username"],
      viewerHasSubjectAsContact: ["about", "id", "name", "phone", "photo", "presence", "username"],
      directChat: ["about", "id", "name", "phone", "photo", "presence", "username"],
      foundByPhone: ["about", "id", "name", "phone", "photo", "presence", "username"],
      customerOfViewerBusiness: ["about", "id", "name", "phone", "photo", "presence", "username"],
      sharedGroup: ["about", "id", "name", "phone", "photo", "presence", "username"],
      subjectAdminsViewersCommunity: ["id", "name", "photo"],
      viewerAdminsSubjectsCommunity: ["id", "name", "phone", "photo"],
      coChannelAdmins: ["id", "name", "phone", "photo"],
    };
    const nobody: Subject = {
      ...full,
      privacy: {
        phone: "nobody",
        photo: "nobody",
        about: "nobody",
        presence: "nobody",
        discoverableByPhone: true,
      },
    };
    const rowsNobody: Record<(typeof granting)[number], string[]> = {
      self: ["about", "id", "name", "phone", "photo", "presence", "username"],
      viewerHasSubjectAsContact: ["id", "name", "username"],
      directChat: ["id", "name", "username"],
      foundByPhone: ["id", "name", "phone", "username"],
      customerOfViewerBusiness: ["id", "name", "username"],
      sharedGroup: ["id", "name", "phone", "username"],
      subjectAdminsViewersCommunity: ["id", "name"],
      viewerAdminsSubjectsCommunity: ["id", "name", "phone"],
      coChannelAdmins: ["id", "name", "phone"],
    };
    for (const rule of granting) {
      const r = { ...noRelations, [rule]: true };
      expect(keysOf(visibleProfile(full, r)), rule).toEqual(rows[rule]);
      expect(keysOf(visibleProfile(nobody, r)), `${rule} (nobody)`).toEqual(rowsNobody[rule]);
      const blocked = rule === "self" ? rows.self : ["id", "name"];
      expect(
        keysOf(visibleProfile(full, { ...r, blockedBySubject: true })),
        `${rule} (blocked)`,
      ).toEqual(blocked);
    }
    expect(visibleProfile(full, noRelations)).toBeNull();
    expect(
      visibleProfile(full, {
        ...noRelations,
        subjectHasViewerAsContact: true,
        blockedBySubject: true,
      }),
    ).toBeNull();
  });

  it("R1: the subject sees everything of itself, whatever else holds", () => {
    fc.assert(
      fc.property(subject, relations, (s, r) => {
        const all = profileOf(s, new Set(allFields));
        expect(visibleProfile(s, { ...r, self: true })).toEqual(all);
      }),
      runs,
    );
  });

  it("B: a subject who blocked the viewer shows at most id and name", () => {
    fc.assert(
      fc.property(subject, notSelf, (s, r) => {
        const p = visibleProfile(s, { ...r, blockedBySubject: true });
        for (const key of keysOf(p)) expect(["id", "name"]).toContain(key);
        if (p) expect(p.name).toBe(s.name);
      }),
      runs,
    );
  });

  it("`nobody` hides a field from every other viewer, except the number through R2-found-by-phone, R3, R6, R10", () => {
    fc.assert(
      fc.property(subject, notSelf, (s, r) => {
        const p = visibleProfile(s, r);
        for (const f of ["photo", "about", "presence"] as const) {
          if (s.privacy[f] === "nobody") expect(p?.[f]).toBeUndefined();
        }
        if (s.privacy.phone === "nobody" && p?.phone !== undefined) {
          expect(r.blockedBySubject).toBe(false);
          expect(
            r.foundByPhone || r.sharedGroup || r.viewerAdminsSubjectsCommunity || r.coChannelAdmins,
          ).toBe(true);
        }
      }),
      runs,
    );
  });

  it("`contacts` shows a field only to viewers in the subject's address book (the number also through R2-found-by-phone, R3, R6, R10)", () => {
    fc.assert(
      fc.property(subject, notSelf, (s, r) => {
        const p = visibleProfile(s, r);
        for (const f of ["photo", "about", "presence"] as const) {
          if (s.privacy[f] === "contacts" && p?.[f] !== undefined)
            expect(r.subjectHasViewerAsContact).toBe(true);
        }
        if (s.privacy.phone === "contacts" && p?.phone !== undefined) {
          expect(
            r.subjectHasViewerAsContact ||
              r.foundByPhone ||
              r.sharedGroup ||
              r.viewerAdminsSubjectsCommunity ||
              r.coChannelAdmins,
          ).toBe(true);
        }
        // And the other way round: with S having V as a contact, `contacts` acts as `everyone`.
        const asEveryone: Subject = {
          ...s,
          privacy: {
            ...s.privacy,
            ...Object.fromEntries(
              (["phone", "photo", "about", "presence"] as const).map((f) => [
                f,
                s.privacy[f] === "contacts" ? "everyone" : s.privacy[f],
              ]),
            ),
          },
        };
        const withContact = { ...r, subjectHasViewerAsContact: true };
        expect(visibleProfile(s, withContact)).toEqual(visibleProfile(asEveryone, withContact));
      }),
      runs,
    );
  });

  it("answers null exactly when no rule grants anything (R4, R7, R9, R12, R13 and blocking alone)", () => {
    fc.assert(
      fc.property(subject, relations, (s, r) => {
        const anyRule = granting.some((k) => r[k]);
        expect(visibleProfile(s, r) === null).toBe(!anyRule);
        // The facts that grant nothing on their own.
        const bare: Relations = {
          ...noRelations,
          subjectHasViewerAsContact: r.subjectHasViewerAsContact,
          blockedBySubject: r.blockedBySubject,
        };
        expect(visibleProfile(s, bare)).toBeNull();
      }),
      runs,
    );
  });

  it("is the union of what each rule grants on its own", () => {
    fc.assert(
      fc.property(subject, relations, (s, r) => {
        const context = {
          subjectHasViewerAsContact: r.subjectHasViewerAsContact,
          blockedBySubject: r.blockedBySubject,
        };
        const parts = granting
          .filter((k) => r[k])
          .map((k) => visibleProfile(s, { ...noRelations, ...context, [k]: true }));
        const union = parts.reduce<VisibleProfile | null>(
          (acc, p) => (p === null ? acc : { ...(acc ?? { id: p.id }), ...p }),
          null,
        );
        expect(visibleProfile(s, r)).toEqual(union);
      }),
      runs,
    );
  });

  it("phoneLookupProfile: R13 adds id, name and photo-if-allowed to the other rules when discoverable", () => {
    fc.assert(
      fc.property(subject, relations, (s, r) => {
        const actual = phoneLookupProfile(s, r);
        expect(actual).toEqual(referenceLookup(s, r));
        if (!s.privacy.discoverableByPhone) {
          expect(actual).toEqual(visibleProfile(s, r));
          return;
        }
        expect(actual).not.toBeNull();
        expect(actual).toMatchObject({ id: s.id, name: s.name });
        const base = visibleProfile(s, r);
        if (base) expect(actual).toMatchObject(base);
        if (r.blockedBySubject && !r.self) {
          for (const key of keysOf(actual)) expect(["id", "name"]).toContain(key);
        }
        // A stranger learns no more than id, name and photo from a lookup.
        if (!granting.some((k) => r[k])) {
          for (const key of keysOf(actual)) expect(["id", "name", "photo"]).toContain(key);
        }
      }),
      runs,
    );
  });
});

// ---------------------------------------------------------------------------
// Server level: real users over HTTP and WebSocket, checked against the same reference.

const userCount = 6;
const withPhoneAtStart = 4;
const png = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5a1b5d80000000049454e44ae426082",
  "hex",
);
const missingId = "u_ZZZZZZZZZZZZZZZZZZZZZZ";
const noPresence = { online: false, lastSeenAt: null };

/**
 * Whom an action is about: any user, or (more often) one the viewer is
 * already related to in the way the action needs, so relations build up.
 */
type Target = { kind: "any"; user: number } | { kind: "related"; pick: number };

/** Which number an action uses: someone's current one, one seen earlier in the run, or one nobody has. */
type NumberChoice =
  | { kind: "current"; user: number }
  | { kind: "seen"; pick: number }
  | { kind: "unknown" };
type Format = "e164" | "spaced" | "dashed";

type Action =
  | { kind: "privacy"; user: number; patch: Partial<PrivacySettings> }
  | { kind: "profile"; user: number; name?: number; about?: string; username?: number | null }
  | { kind: "addById"; viewer: number; subject: Target }
  | { kind: "addByPhone"; viewer: number; number: NumberChoice; format: Format }
  | { kind: "removeContact"; viewer: number; subject: Target }
  | { kind: "block"; viewer: number; subject: Target }
  | { kind: "unblock"; viewer: number; subject: Target }
  | { kind: "lookup"; viewer: number; number: NumberChoice; format: Format }
  | { kind: "setPhone"; user: number; fresh: boolean; pick: number }
  | { kind: "removePhone"; user: number }
  | { kind: "photo"; user: number; set: boolean };

/** Users 0 to 2 come up more often, so the same pairs meet again and relations pile up. */
const userIx = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: userCount - 1 }) },
);
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("any" as const), user: userIx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("related" as const), pick: fc.nat(5) }) },
);
const numberChoice: fc.Arbitrary<NumberChoice> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("current" as const), user: userIx }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("seen" as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unknown" as const) }) },
);
const format = fc.constantFrom<Format>("e164", "spaced", "dashed");
const names = ["Ann", " Bob ", "Cé", "Dana", "Eve"];
/** Username pool: index 4 is invalid (too short); the others collide between users on purpose. */
const usernameStems = ["ann", "Bob", "cat.x", "dan_1", "x"];

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("privacy" as const),
      user: userIx,
      patch: fc
        .record(
          {
            phone: audience,
            photo: audience,
            about: audience,
            presence: audience,
            discoverableByPhone: fc.boolean(),
          },
          { requiredKeys: [] },
        )
        .filter((p) => Object.keys(p).length > 0),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          kind: fc.constant("profile" as const),
          user: userIx,
          name: fc.nat(names.length - 1),
          about: fc.string({ maxLength: 12 }),
          username: fc.option(fc.nat(usernameStems.length - 1), { nil: null }),
        },
        { requiredKeys: ["kind", "user"] },
      )
      .filter((a) => "name" in a || "about" in a || "username" in a),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("addById" as const),
      viewer: userIx,
      subject: target,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("addByPhone" as const),
      viewer: userIx,
      number: numberChoice,
      format,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("removeContact" as const),
      viewer: userIx,
      subject: target,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("block" as const), viewer: userIx, subject: target }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("unblock" as const),
      viewer: userIx,
      subject: target,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("lookup" as const),
      viewer: userIx,
      number: numberChoice,
      format,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("setPhone" as const),
      user: userIx,
      fresh: fc.boolean(),
      pick: fc.nat(50),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("removePhone" as const), user: userIx }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("photo" as const), user: userIx, set: fc.boolean() }),
  },
);

interface ModelUser {
  client: TestUser;
  socket: LiveSocket;
  name: string;
  username: string | null;
  phone: string | null;
  photo: string | null;
  about: string;
  privacy: PrivacySettings;
}

const pair = (a: number, b: number) => `${a}>${b}`;

/** What the server should hold: accounts, address books, blocks and phone discoveries. */
class Model {
  readonly contacts = new Set<string>();
  readonly blocks = new Set<string>();
  /** viewer>subject → the number the viewer last found the subject by. */
  readonly discoveries = new Map<string, string>();
  /** Every number that appeared in the run, in order. */
  readonly numbers: string[] = [];
  /** Per viewer and subject, every profile the rules granted at some point of the run. */
  readonly history = new Map<string, Array<VisibleProfile | null>>();

  constructor(readonly users: ModelUser[]) {}

  subject(s: number): Subject {
    const u = this.users[s] as ModelUser;
    return {
      id: u.client.id,
      name: u.name,
      phone: u.phone,
      username: u.username,
      photo: u.photo,
      about: u.about,
      presence: noPresence,
      privacy: u.privacy,
    };
  }

  relations(v: number, s: number): Relations {
    const phone = (this.users[s] as ModelUser).phone;
    return {
      ...noRelations,
      self: v === s,
      subjectHasViewerAsContact: this.contacts.has(pair(s, v)),
      viewerHasSubjectAsContact: this.contacts.has(pair(v, s)),
      foundByPhone: phone !== null && this.discoveries.get(pair(v, s)) === phone,
      blockedBySubject: this.blocks.has(pair(s, v)),
    };
  }

  expected(v: number, s: number): VisibleProfile | null {
    return referenceProfile(this.subject(s), this.relations(v, s));
  }

  owner(phone: string): number | null {
    const i = this.users.findIndex((u) => u.phone === phone);
    return i < 0 ? null : i;
  }

  /** Records what every viewer may see now, for checking frames that arrive later. */
  snapshot(): void {
    for (let v = 0; v < userCount; v++) {
      for (let s = 0; s < userCount; s++) {
        const key = pair(v, s);
        const list = this.history.get(key) ?? [];
        list.push(this.expected(v, s));
        this.history.set(key, list);
      }
    }
  }
}

function formatted(phone: string, f: Format): string {
  // +1 415 555 NNNN
  const local = phone.slice(2);
  if (f === "spaced") return `+1 ${local.slice(0, 3)} ${local.slice(3, 6)} ${local.slice(6)}`;
  if (f === "dashed") return `+1 (${local.slice(0, 3)}) ${local.slice(3, 6)}-${local.slice(6)}`;
  return phone;
}

/** A profile with presence reduced to "present": its value is the server's, not the model's. */
function comparable(p: unknown): unknown {
  if (p === null || typeof p !== "object") return p;
  const { presence, ...rest } = p as VisibleProfile;
  return presence === undefined ? rest : { ...rest, presence: "present" };
}

async function rawGet(base: string, token: string, path: string) {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get("content-type"), bytes };
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(
    `privacy model over HTTP and WebSocket: random action sequences [${backend}]`,
    () => {
      let t: TestServer;
      let nextNumber = 2000;
      /** Verifications sent per number: the server allows 5 an hour for each. */
      const verifications = new Map<string, number>();
      const freshNumber = () => `+1415555${String(nextNumber++).padStart(4, "0")}`;

      beforeAll(async () => {
        t = await startTestServer({
          backend,
          env: {
            ...noRateLimits,
          },
        });
      });
      afterAll(async () => t?.close());

      const verify = async (phone: string) => {
        verifications.set(phone, (verifications.get(phone) ?? 0) + 1);
        return phoneProof(t.url, t.verifier, phone);
      };

      async function setUp(): Promise<Model> {
        const users: ModelUser[] = [];
        for (let i = 0; i < userCount; i++) {
          const phone = i < withPhoneAtStart ? freshNumber() : null;
          const name = `U${i}`;
          if (phone) verifications.set(phone, (verifications.get(phone) ?? 0) + 1);
          const client = await TestUser.register(
            t.url,
            phone ? { name, phone, verifier: t.verifier } : { name },
          );
          const socket = await client.connect(t.wsUrl);
          users.push({
            client,
            socket,
            name,
            username: null,
            phone,
            photo: null,
            about: "",
            privacy: {
              phone: "everyone",
              photo: "everyone",
              about: "everyone",
              presence: "contacts",
              discoverableByPhone: true,
            },
          });
        }
        const model = new Model(users);
        for (const u of users) if (u.phone) model.numbers.push(u.phone);
        model.snapshot();
        return model;
      }

      function resolveNumber(model: Model, choice: NumberChoice): string {
        if (choice.kind === "current") {
          const phone = (model.users[choice.user] as ModelUser).phone;
          if (phone) return phone;
        }
        if (choice.kind === "seen" && model.numbers.length > 0) {
          return model.numbers[choice.pick % model.numbers.length] as string;
        }
        const phone = freshNumber();
        model.numbers.push(phone);
        return phone;
      }

      function expectError(r: Reply, code: ErrorCode, context: string) {
        expect({ status: r.status, code: r.body?.error?.code }, context).toEqual({
          status: errorRegistry[code].status,
          code,
        });
      }

      /** A lookup (alone or inside add-by-phone): the model's answer, and its side effect. */
      function lookupOutcome(
        model: Model,
        viewer: number,
        phone: string,
      ): { found: number | null; self: boolean } {
        const owner = model.owner(phone);
        if (owner === null) return { found: null, self: false };
        if (owner === viewer) return { found: owner, self: true };
        if (!(model.users[owner] as ModelUser).privacy.discoverableByPhone)
          return { found: null, self: false };
        model.discoveries.set(pair(viewer, owner), phone);
        return { found: owner, self: false };
      }

      /** The user a Target names, given what the model holds now. */
      function resolveTarget(model: Model, a: Extract<Action, { subject: Target }>): number {
        if (a.subject.kind === "any") return a.subject.user;
        const v = a.viewer;
        const others = model.users.map((_, s) => s).filter((s) => s !== v);
        const pool = others.filter((s) => {
          switch (a.kind) {
            case "addById":
              return model.expected(v, s) !== null && !model.contacts.has(pair(v, s));
            case "block":
              return model.expected(v, s) !== null && !model.blocks.has(pair(v, s));
            case "removeContact":
              return model.contacts.has(pair(v, s));
            case "unblock":
              return model.blocks.has(pair(v, s));
          }
          return false;
        });
        const from = pool.length > 0 ? pool : others;
        return from[a.subject.pick % from.length] as number;
      }

      async function apply(model: Model, a: Action, runTag: string): Promise<void> {
        const subject = "subject" in a ? resolveTarget(model, a) : -1;
        const ctx = subject < 0 ? JSON.stringify(a) : `${JSON.stringify(a)} → U${subject}`;
        const u = (i: number) => model.users[i] as ModelUser;
        switch (a.kind) {
          case "privacy": {
            const r = await u(a.user).client.request("PATCH", "/v1/me/privacy", a.patch);
            expect(r.status, ctx).toBe(200);
            u(a.user).privacy = { ...u(a.user).privacy, ...a.patch };
            expect(r.body.privacy, ctx).toEqual(u(a.user).privacy);
            return;
          }
          case "profile": {
            const body: Record<string, unknown> = {};
            if (a.name !== undefined) body.name = names[a.name];
            if (a.about !== undefined) body.about = a.about;
            let username: string | null | undefined;
            if (a.username !== undefined) {
              const stem = a.username === null ? null : (usernameStems[a.username] as string);
              // Prefixed per run, so earlier runs' accounts never hold them; "x" stays invalid.
              body.username = stem === null ? null : stem === "x" ? stem : `${runTag}${stem}`;
              username = typeof body.username === "string" ? body.username.toLowerCase() : null;
            }
            const r = await u(a.user).client.request("PATCH", "/v1/me", body);
            if (body.username === "x") return expectError(r, "username_invalid", ctx);
            const holder = model.users.findIndex((x) => username && x.username === username);
            if (holder >= 0 && holder !== a.user) return expectError(r, "username_taken", ctx);
            expect(r.status, ctx).toBe(200);
            if (a.name !== undefined) u(a.user).name = (names[a.name] as string).trim();
            if (a.about !== undefined) u(a.user).about = a.about;
            if (username !== undefined) u(a.user).username = username;
            expect(
              { name: r.body.name, about: r.body.about, username: r.body.username },
              ctx,
            ).toEqual({
              name: u(a.user).name,
              about: u(a.user).about,
              username: u(a.user).username,
            });
            return;
          }
          case "addById": {
            const visible = model.expected(a.viewer, subject);
            const r = await u(a.viewer).client.request("POST", "/v1/contacts", {
              userId: u(subject).client.id,
            });
            if (visible === null) return expectError(r, "user_not_found", ctx);
            if (a.viewer === subject) return expectError(r, "contact_self", ctx);
            expect(r.status, ctx).toBe(201);
            model.contacts.add(pair(a.viewer, subject));
            expect(comparable(r.body), ctx).toEqual(comparable(model.expected(a.viewer, subject)));
            return;
          }
          case "addByPhone":
          case "lookup": {
            const phone = resolveNumber(model, a.number);
            const path = a.kind === "lookup" ? "/v1/lookup/phone" : "/v1/contacts";
            const r = await u(a.viewer).client.request("POST", path, {
              phone: formatted(phone, a.format),
            });
            const outcome = lookupOutcome(model, a.viewer, phone);
            if (outcome.found === null) return expectError(r, "user_not_found", ctx);
            const s = outcome.found;
            if (a.kind === "addByPhone") {
              if (outcome.self) return expectError(r, "contact_self", ctx);
              // Between the lookup and the insert, the server held this state: frames may show it.
              model.snapshot();
              expect(r.status, ctx).toBe(201);
              model.contacts.add(pair(a.viewer, s));
              expect(comparable(r.body), ctx).toEqual(comparable(model.expected(a.viewer, s)));
              return;
            }
            expect(r.status, ctx).toBe(200);
            if (outcome.self) {
              expect(comparable(r.body), ctx).toEqual(comparable(model.expected(a.viewer, s)));
              return;
            }
            // R13 at least (id, name, photo if allowed); at most what the rules grant now plus R13.
            const lookup = referenceLookup(
              model.subject(s),
              model.relations(a.viewer, s),
            ) as VisibleProfile;
            const r13 = referenceLookup(model.subject(s), {
              ...noRelations,
              ...pickContext(model.relations(a.viewer, s)),
            });
            expect(r.body, ctx).toMatchObject(comparable(r13) as object);
            for (const [key, value] of Object.entries(r.body as object)) {
              expect(key in lookup, `${ctx}: ${key} not granted`).toBe(true);
              if (key !== "presence") expect(value, ctx).toEqual(lookup[key as Field]);
            }
            return;
          }
          case "removeContact": {
            const r = await u(a.viewer).client.request(
              "DELETE",
              `/v1/contacts/${u(subject).client.id}`,
            );
            if (!model.contacts.delete(pair(a.viewer, subject)))
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            return;
          }
          case "block": {
            const r = await u(a.viewer).client.request("PUT", `/v1/blocks/${u(subject).client.id}`);
            if (a.viewer === subject) return expectError(r, "block_self", ctx);
            if (model.expected(a.viewer, subject) === null)
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            model.blocks.add(pair(a.viewer, subject));
            return;
          }
          case "unblock": {
            const r = await u(a.viewer).client.request(
              "DELETE",
              `/v1/blocks/${u(subject).client.id}`,
            );
            if (!model.blocks.delete(pair(a.viewer, subject)))
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            return;
          }
          case "setPhone": {
            let phone =
              a.fresh || model.numbers.length === 0
                ? null
                : (model.numbers[a.pick % model.numbers.length] as string);
            if (phone === null || (verifications.get(phone) ?? 0) >= 5) {
              phone = freshNumber();
              model.numbers.push(phone);
            }
            const proof = await verify(phone);
            const r = await u(a.user).client.request("PUT", "/v1/me/phone", proof);
            const owner = model.owner(phone);
            if (owner !== null && owner !== a.user) return expectError(r, "phone_taken", ctx);
            expect(r.status, ctx).toBe(200);
            u(a.user).phone = phone;
            expect(r.body.phone, ctx).toBe(phone);
            return;
          }
          case "removePhone": {
            const r = await u(a.user).client.request("DELETE", "/v1/me/phone");
            expect(r.status, ctx).toBe(200);
            u(a.user).phone = null;
            return;
          }
          case "photo": {
            const r = a.set
              ? await http(t.url, "PUT", "/v1/me/photo", {
                  token: u(a.user).client.token,
                  raw: png,
                  contentType: "image/png",
                })
              : await u(a.user).client.request("DELETE", "/v1/me/photo");
            expect(r.status, ctx).toBe(200);
            u(a.user).photo = r.body.photo;
            expect(r.body.photo === null, ctx).toBe(!a.set);
            return;
          }
        }
      }

      /** What each viewer gets for an id nobody has: invisible users must answer the same bytes. */
      async function missingAnswers(model: Model) {
        return Promise.all(
          model.users.map(async (u) => ({
            profile: await rawGet(t.url, u.client.token, `/v1/users/${missingId}`),
            photo: await rawGet(t.url, u.client.token, `/v1/users/${missingId}/photo`),
          })),
        );
      }
      type Missing = Awaited<ReturnType<typeof missingAnswers>>;

      /** Invariant 1, for every ordered pair, through every read path. */
      async function checkAll(model: Model, missing: Missing, after: string): Promise<void> {
        const checks: Array<Promise<void>> = [];
        for (let v = 0; v < userCount; v++) {
          const viewer = model.users[v] as ModelUser;
          const none = missing[v] as (typeof missing)[number];
          for (let s = 0; s < userCount; s++) {
            const subjectId = (model.users[s] as ModelUser).client.id;
            const expected = model.expected(v, s);
            const ctx = `after ${after}: U${v} viewing U${s}`;
            checks.push(
              (async () => {
                const got = await rawGet(t.url, viewer.client.token, `/v1/users/${subjectId}`);
                if (expected === null) {
                  // Indistinguishable from an id nobody has.
                  expect(
                    { status: got.status, type: got.type, body: got.bytes.toString() },
                    ctx,
                  ).toEqual({
                    status: none.profile.status,
                    type: none.profile.type,
                    body: none.profile.bytes.toString(),
                  });
                  return;
                }
                expect(got.status, ctx).toBe(200);
                const body = JSON.parse(got.bytes.toString()) as VisibleProfile;
                expect(comparable(body), ctx).toEqual(comparable(expected));
                expect(Value.Check(VisibleProfile, body), ctx).toBe(true);
              })(),
            );
            // A subject without a photo has no photo row to leak; checked when there is one.
            if (model.users[s]?.photo === null) continue;
            checks.push(
              (async () => {
                const got = await rawGet(
                  t.url,
                  viewer.client.token,
                  `/v1/users/${subjectId}/photo`,
                );
                if (expected?.photo === undefined) {
                  expect(
                    { status: got.status, body: got.bytes.toString() },
                    `${ctx} (photo)`,
                  ).toEqual({
                    status: none.photo.status,
                    body: none.photo.bytes.toString(),
                  });
                  return;
                }
                expect(got.status, `${ctx} (photo)`).toBe(200);
                expect(got.bytes.equals(png), `${ctx} (photo bytes)`).toBe(true);
              })(),
            );
          }
          checks.push(
            (async () => {
              const contacts = await viewer.client.request<VisibleProfile[]>("GET", "/v1/contacts");
              const blocks = await viewer.client.request<VisibleProfile[]>("GET", "/v1/blocks");
              expect(contacts.status).toBe(200);
              expect(blocks.status).toBe(200);
              const byId = (list: Array<VisibleProfile | null>) =>
                list
                  .filter((p): p is VisibleProfile => p !== null)
                  .map(comparable)
                  .sort((x, y) => ((x as VisibleProfile).id < (y as VisibleProfile).id ? -1 : 1));
              const mine = (set: Set<string>) =>
                model.users.flatMap((_, s) => (set.has(pair(v, s)) ? [model.expected(v, s)] : []));
              // Every listed user, every field: exactly what the rules grant (nothing of invisible users).
              expect(byId(contacts.body), `after ${after}: U${v}'s contacts`).toEqual(
                byId(mine(model.contacts)),
              );
              expect(byId(blocks.body), `after ${after}: U${v}'s blocks`).toEqual(
                byId(mine(model.blocks)),
              );
            })(),
          );
        }
        await Promise.all(checks);
      }

      /**
       * Every profile.updated frame a viewer got is what the rules granted that
       * viewer at some point of the run: no field ever leaked, and the whole
       * profile equals one state the server went through. Returns how many it checked.
       */
      function checkFrames(model: Model): number {
        const ids = model.users.map((u) => u.client.id);
        let checked = 0;
        for (let v = 0; v < userCount; v++) {
          for (const frame of (model.users[v] as ModelUser).socket.frames as ServerFrame[]) {
            expect(frame.type, `U${v} got ${JSON.stringify(frame)}`).toBe("profile.updated");
            if (frame.type !== "profile.updated") continue;
            const s = ids.indexOf(frame.profile.id);
            const ctx = `U${v} got ${JSON.stringify(frame.profile)} about U${s}`;
            expect(s, ctx).toBeGreaterThanOrEqual(0);
            expect(Value.Check(VisibleProfile, frame.profile), ctx).toBe(true);
            const seen = (model.history.get(pair(v, s)) ?? []).filter(
              (p): p is VisibleProfile => p !== null,
            );
            expect(seen.length, `${ctx}: never visible`).toBeGreaterThan(0);
            for (const [key, value] of Object.entries(frame.profile)) {
              const granted = seen.some(
                (p) => key in p && (key === "presence" || p[key as Field] === value),
              );
              expect(granted, `${ctx}: ${key}=${JSON.stringify(value)} was never granted`).toBe(
                true,
              );
            }
            const state = seen.some((p) =>
              isDeepStrictEqual(comparable(p), comparable(frame.profile)),
            );
            expect(state, `${ctx}: matches no state of the run`).toBe(true);
            checked++;
          }
        }
        return checked;
      }

      it("does not name, in the block list, a blocked user the viewer can no longer see", async () => {
        const phone = freshNumber();
        verifications.set(phone, 1);
        const subject = await TestUser.register(t.url, {
          name: "Sid",
          phone,
          verifier: t.verifier,
        });
        const viewer = await TestUser.register(t.url, { name: "Vic" });
        expect((await viewer.request("POST", "/v1/lookup/phone", { phone })).status).toBe(200);
        expect((await viewer.request("PUT", `/v1/blocks/${subject.id}`)).status).toBe(204);
        expect((await viewer.request("GET", "/v1/blocks")).body).toEqual([
          { id: subject.id, name: "Sid", phone, about: "" },
        ]);
        // The number Vic found Sid by is gone: no rule grants Vic anything of Sid any more.
        expect((await subject.request("DELETE", "/v1/me/phone")).status).toBe(200);
        expect((await viewer.request("GET", `/v1/users/${subject.id}`)).status).toBe(404);
        expect((await viewer.request("GET", "/v1/blocks")).body).toEqual([]);
        // The block itself still holds and can still be lifted by id.
        expect((await viewer.request("DELETE", `/v1/blocks/${subject.id}`)).status).toBe(204);
      });

      it("every read and every pushed profile obeys the rules after every action (invariant 1)", async () => {
        let run = 0;
        let frames = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(action, { minLength: 30, maxLength: 40 }), async (actions) => {
            const runTag = `r${(run++).toString(36)}`;
            const model = await setUp();
            const missing = await missingAnswers(model);
            try {
              await checkAll(model, missing, "set-up");
              for (const [i, a] of actions.entries()) {
                await apply(model, a, runTag);
                model.snapshot();
                await checkAll(model, missing, `#${i} ${JSON.stringify(a)}`);
              }
              await new Promise((resolve) => setTimeout(resolve, 100));
              frames += checkFrames(model);
            } finally {
              for (const u of model.users) u.socket.close();
            }
          }),
          // The time limit only bounds shrinking after a failure; a pass runs all 6.
          { numRuns: 6, interruptAfterTimeLimit: 60_000 },
        );
        // The frame checks above were not vacuous.
        expect(frames).toBeGreaterThan(0);
      }, 150_000);
    },
  );
}

/** The facts that condition allowed() and blocking, without any granting rule. */
function pickContext(
  r: Relations,
): Pick<Relations, "subjectHasViewerAsContact" | "blockedBySubject"> {
  return {
    subjectHasViewerAsContact: r.subjectHasViewerAsContact,
    blockedBySubject: r.blockedBySubject,
  };
}
