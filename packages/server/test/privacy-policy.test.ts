import { Value } from "@sinclair/typebox/value";
import {
  type BusinessCard,
  type BusinessCategory,
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
import {
  Auditor,
  addressBookRoute,
  auditReads,
  Collector,
  comparable,
  describeViolations,
  freshMissingIds,
  grantedFields,
  lookupGrants,
  noFacts,
  type PairFacts,
  type ProfileField,
  pairKey,
  photoRoute,
  profileFields,
  profileOf,
  profileRoute,
  tinyPng,
  World,
  type WorldUser,
} from "./helpers/privacy-audit.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

// (The harness registers the formats Value.Check needs.)

/*
 * The reference is the privacy audit harness's oracle (helpers/privacy-audit.ts),
 * written from the rule table of PRIVACY-MODEL.md, field by field, without
 * looking at how policy.ts groups its rules. The policy must agree with it on
 * every subject and every combination of facts.
 */

type Field = ProfileField;
const allFields = profileFields;

/** The policy's relations as the facts the oracle reads (named after the rule table). */
function factsOf(r: Relations, s: Subject): PairFacts {
  return {
    ...noFacts,
    subjectIsBusiness: s.business !== null,
    self: r.self,
    subjectHasViewerAsContact: r.subjectHasViewerAsContact,
    viewerHasSubjectAsContact: r.viewerHasSubjectAsContact,
    directChat: r.directChat,
    foundByPhone: r.foundByPhone,
    sharedGroup: r.sharedGroup,
    subjectAdminsViewersCommunity: r.subjectAdminsViewersCommunity,
    viewerAdminsSubjectsCommunity: r.viewerAdminsSubjectsCommunity,
    askedToJoinViewersSpace: r.askedToJoinViewersSpace,
    coChannelAdmins: r.coChannelAdmins,
    customerOfViewerBusiness: r.customerOfViewerBusiness,
    blockedBySubject: r.blockedBySubject,
  };
}

function referenceProfile(subject: Subject, r: Relations): VisibleProfile | null {
  return profileOf(subject, grantedFields(subject.privacy, factsOf(r, subject)), subject.presence);
}

/** R13: a lookup by S's exact number, when S is discoverable, adds id, name and photo-if-allowed. */
function referenceLookup(subject: Subject, r: Relations): VisibleProfile | null {
  return profileOf(subject, lookupGrants(subject.privacy, factsOf(r, subject)), subject.presence);
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
  business: fc.constant(null),
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
    askedToJoinViewersSpace: flag(15),
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
  "askedToJoinViewersSpace",
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
      business: null,
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
      askedToJoinViewersSpace: ["id", "name", "photo"],
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
      askedToJoinViewersSpace: ["id", "name"],
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
        const all = profileOf(s, new Set(allFields), s.presence);
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
// Businesses (R11, R12): a business account is related by R1-R13 like any
// account (the union rule); what is added is its card and its business name.

const businessCard: fc.Arbitrary<BusinessCard> = fc.record({
  name: fc.string({ minLength: 1, maxLength: 16 }),
  verified: fc.boolean(),
  description: fc.string({ maxLength: 20 }),
  category: fc.constantFrom<BusinessCategory>("retail", "food", "other"),
  contact: fc.record(
    {
      email: fc.constant("help@shop.example"),
      website: fc.constant("https://shop.example"),
      address: fc.string({ minLength: 1, maxLength: 10 }),
    },
    { requiredKeys: [] },
  ),
});
const anySubject: fc.Arbitrary<Subject> = fc
  .tuple(subject, fc.option(businessCard, { nil: null, freq: 2 }))
  .map(([s, business]) => ({ ...s, business }));
const businessSubject: fc.Arbitrary<Subject> = fc
  .tuple(subject, businessCard)
  .map(([s, business]) => ({ ...s, business }));
/** The rules other than R11: the only ways a business sees someone who never wrote to it. */
const otherThanR11 = granting.filter((k) => k !== "customerOfViewerBusiness");

describe("privacy policy (pure): businesses, R11 and R12", () => {
  it("agrees with the reference rule table for businesses and their customers", () => {
    fc.assert(
      fc.property(anySubject, relations, (s, r) => {
        const actual = visibleProfile(s, r);
        expect(actual).toEqual(referenceProfile(s, r));
        if (actual !== null) expect(Value.Check(VisibleProfile, actual)).toBe(true);
        const lookup = phoneLookupProfile(s, r);
        expect(lookup).toEqual(referenceLookup(s, r));
        if (lookup !== null) expect(Value.Check(VisibleProfile, lookup)).toBe(true);
      }),
      runs,
    );
  });

  it("R11 grants exactly what R2 grants: the same as a 1:1 chat, as a contact, and added to every other rule", () => {
    fc.assert(
      fc.property(anySubject, notSelf, (s, r) => {
        const context = {
          ...noRelations,
          subjectHasViewerAsContact: r.subjectHasViewerAsContact,
          blockedBySubject: r.blockedBySubject,
        };
        const r11 = visibleProfile(s, { ...context, customerOfViewerBusiness: true });
        expect(r11).not.toBeNull();
        expect(r11).toEqual(visibleProfile(s, { ...context, directChat: true }));
        expect(r11).toEqual(visibleProfile(s, { ...context, viewerHasSubjectAsContact: true }));
        // The union: with R11 on top of any relations, V sees what those relations
        // show plus what a 1:1 chat shows; never less than without R11.
        const without = { ...r, customerOfViewerBusiness: false };
        const withR11 = visibleProfile(s, { ...r, customerOfViewerBusiness: true });
        expect(withR11).toEqual(visibleProfile(s, { ...without, directChat: true }));
        const before = visibleProfile(s, without);
        if (before !== null) expect(withR11).toMatchObject(before);
      }),
      runs,
    );
  });

  it("a business subject is seen per R1-R13 like the same account without a business, plus its card and business name", () => {
    fc.assert(
      fc.property(businessSubject, relations, (s, r) => {
        const person: Subject = { ...s, business: null };
        const pairs: Array<[VisibleProfile | null, VisibleProfile | null]> = [
          [visibleProfile(s, r), visibleProfile(person, r)],
          [phoneLookupProfile(s, r), phoneLookupProfile(person, r)],
        ];
        for (const [asBusiness, asPerson] of pairs) {
          if (asPerson === null) {
            expect(asBusiness).toBeNull();
            continue;
          }
          // The card goes with the profile, except to someone the business blocked (B).
          const card = r.self || !r.blockedBySubject ? { business: s.business } : {};
          expect(asBusiness).toEqual({
            ...asPerson,
            ...(asPerson.name === undefined ? {} : { name: s.business?.name }),
            ...card,
          });
        }
        // In particular its group co-members see its number (R3), its contacts
        // and 1:1 chats as its `phone` setting allows (R2), and strangers nothing (R13).
        if (!r.self && !r.blockedBySubject) {
          expect(visibleProfile(s, { ...noRelations, sharedGroup: true })?.phone).toBe(
            s.phone ?? undefined,
          );
        }
        expect(visibleProfile(s, noRelations)).toBeNull();
      }),
      runs,
    );
  });

  it("a business viewer sees someone who never wrote to it only through the other rules (R2 paths and lookup included)", () => {
    fc.assert(
      fc.property(anySubject, notSelf, (s, r) => {
        const nonCustomer = { ...r, customerOfViewerBusiness: false };
        const actual = visibleProfile(s, nonCustomer);
        expect(actual === null).toBe(!otherThanR11.some((k) => nonCustomer[k]));
        expect(actual).toEqual(referenceProfile(s, nonCustomer));
        // R2's own paths still show S to a business: its address book, a 1:1 chat, a lookup.
        for (const path of ["viewerHasSubjectAsContact", "directChat", "foundByPhone"] as const) {
          expect(visibleProfile(s, { ...nonCustomer, [path]: true })).not.toBeNull();
        }
        if (s.privacy.discoverableByPhone) {
          expect(phoneLookupProfile(s, nonCustomer)).not.toBeNull();
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

/**
 * One run: the harness's world (accounts, address books, blocks, phone
 * discoveries, every state it went through) and what each user received.
 */
interface Run {
  world: World;
  collector: Collector;
  sockets: LiveSocket[];
  /** Every number that appeared in the run, in order. */
  numbers: string[];
}

function formatted(phone: string, f: Format): string {
  // +1 415 555 NNNN
  const local = phone.slice(2);
  if (f === "spaced") return `+1 ${local.slice(0, 3)} ${local.slice(3, 6)} ${local.slice(6)}`;
  if (f === "dashed") return `+1 (${local.slice(0, 3)}) ${local.slice(3, 6)}-${local.slice(6)}`;
  return phone;
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

      async function setUp(): Promise<Run> {
        const world = new World();
        const collector = new Collector(world, t.url);
        // Reads happen between actions, with nothing in flight: each against the state it follows.
        collector.quiet = true;
        const sockets: LiveSocket[] = [];
        for (let i = 0; i < userCount; i++) {
          const phone = i < withPhoneAtStart ? freshNumber() : null;
          const name = `U${i}`;
          if (phone) verifications.set(phone, (verifications.get(phone) ?? 0) + 1);
          const client = await TestUser.register(
            t.url,
            phone ? { name, phone, verifier: t.verifier } : { name },
          );
          const socket = await client.connect(t.wsUrl);
          world.addUser({
            id: client.id,
            client,
            deviceIds: [client.deviceId],
            name,
            username: null,
            phone,
            photo: null,
            photoBytes: null,
            about: "",
            privacy: {
              phone: "everyone",
              photo: "everyone",
              about: "everyone",
              presence: "contacts",
              discoverableByPhone: true,
            },
          });
          collector.listen(i, socket);
          sockets.push(socket);
        }
        const numbers = world.users.flatMap((u) => (u.phone ? [u.phone] : []));
        world.commit();
        return { world, collector, sockets, numbers };
      }

      function resolveNumber(run: Run, choice: NumberChoice): string {
        if (choice.kind === "current") {
          const phone = (run.world.users[choice.user] as WorldUser).phone;
          if (phone) return phone;
        }
        if (choice.kind === "seen" && run.numbers.length > 0) {
          return run.numbers[choice.pick % run.numbers.length] as string;
        }
        const phone = freshNumber();
        run.numbers.push(phone);
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
        run: Run,
        viewer: number,
        phone: string,
      ): { found: number | null; self: boolean } {
        const owner = run.world.ownerOf(phone);
        if (owner === null) return { found: null, self: false };
        if (owner === viewer) return { found: owner, self: true };
        if (!(run.world.users[owner] as WorldUser).privacy.discoverableByPhone)
          return { found: null, self: false };
        run.world.discoveries.set(pairKey(viewer, owner), phone);
        return { found: owner, self: false };
      }

      /** The user a Target names, given what the model holds now. */
      function resolveTarget(run: Run, a: Extract<Action, { subject: Target }>): number {
        if (a.subject.kind === "any") return a.subject.user;
        const v = a.viewer;
        const others = run.world.users.map((_, s) => s).filter((s) => s !== v);
        const pool = others.filter((s) => {
          switch (a.kind) {
            case "addById":
              return run.world.expected(v, s) !== null && !run.world.contacts.has(pairKey(v, s));
            case "block":
              return run.world.expected(v, s) !== null && !run.world.blocks.has(pairKey(v, s));
            case "removeContact":
              return run.world.contacts.has(pairKey(v, s));
            case "unblock":
              return run.world.blocks.has(pairKey(v, s));
          }
          return false;
        });
        const from = pool.length > 0 ? pool : others;
        return from[a.subject.pick % from.length] as number;
      }

      async function apply(run: Run, a: Action, runTag: string): Promise<void> {
        const subject = "subject" in a ? resolveTarget(run, a) : -1;
        const ctx = subject < 0 ? JSON.stringify(a) : `${JSON.stringify(a)} → U${subject}`;
        const u = (i: number) => run.world.user(i);
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
            const holder = run.world.users.findIndex((x) => username && x.username === username);
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
            const visible = run.world.expected(a.viewer, subject);
            const r = await u(a.viewer).client.request("POST", "/v1/contacts", {
              userId: u(subject).client.id,
            });
            if (visible === null) return expectError(r, "user_not_found", ctx);
            if (a.viewer === subject) return expectError(r, "contact_self", ctx);
            expect(r.status, ctx).toBe(201);
            run.world.contacts.add(pairKey(a.viewer, subject));
            expect(comparable(r.body), ctx).toEqual(
              comparable(run.world.expected(a.viewer, subject)),
            );
            return;
          }
          case "addByPhone":
          case "lookup": {
            const phone = resolveNumber(run, a.number);
            const path = a.kind === "lookup" ? "/v1/lookup/phone" : "/v1/contacts";
            const r = await u(a.viewer).client.request("POST", path, {
              phone: formatted(phone, a.format),
            });
            const outcome = lookupOutcome(run, a.viewer, phone);
            if (outcome.found === null) return expectError(r, "user_not_found", ctx);
            const s = outcome.found;
            if (a.kind === "addByPhone") {
              if (outcome.self) return expectError(r, "contact_self", ctx);
              // Between the lookup and the insert, the server held this state: frames may show it.
              run.world.commit();
              expect(r.status, ctx).toBe(201);
              run.world.contacts.add(pairKey(a.viewer, s));
              expect(comparable(r.body), ctx).toEqual(comparable(run.world.expected(a.viewer, s)));
              return;
            }
            expect(r.status, ctx).toBe(200);
            if (outcome.self) {
              expect(comparable(r.body), ctx).toEqual(comparable(run.world.expected(a.viewer, s)));
              return;
            }
            // R13 at least (id, name, photo if allowed); at most what the rules grant now plus R13.
            const facts = run.world.facts(a.viewer, s);
            const values = run.world.values(s);
            const lookup = profileOf(values, lookupGrants(values.privacy, facts)) as VisibleProfile;
            // The facts that condition allowed() and blocking, without any granting rule.
            const r13 = profileOf(
              values,
              lookupGrants(values.privacy, {
                ...noFacts,
                subjectHasViewerAsContact: facts.subjectHasViewerAsContact,
                blockedBySubject: facts.blockedBySubject,
              }),
            );
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
            if (!run.world.contacts.delete(pairKey(a.viewer, subject)))
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            return;
          }
          case "block": {
            const r = await u(a.viewer).client.request("PUT", `/v1/blocks/${u(subject).client.id}`);
            if (a.viewer === subject) return expectError(r, "block_self", ctx);
            if (run.world.expected(a.viewer, subject) === null)
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            run.world.blocks.add(pairKey(a.viewer, subject));
            return;
          }
          case "unblock": {
            const r = await u(a.viewer).client.request(
              "DELETE",
              `/v1/blocks/${u(subject).client.id}`,
            );
            if (!run.world.blocks.delete(pairKey(a.viewer, subject)))
              return expectError(r, "user_not_found", ctx);
            expect(r.status, ctx).toBe(204);
            return;
          }
          case "setPhone": {
            let phone =
              a.fresh || run.numbers.length === 0
                ? null
                : (run.numbers[a.pick % run.numbers.length] as string);
            if (phone === null || (verifications.get(phone) ?? 0) >= 5) {
              phone = freshNumber();
              run.numbers.push(phone);
            }
            const proof = await verify(phone);
            const r = await u(a.user).client.request("PUT", "/v1/me/phone", proof);
            const owner = run.world.ownerOf(phone);
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
                  raw: tinyPng,
                  contentType: "image/png",
                })
              : await u(a.user).client.request("DELETE", "/v1/me/photo");
            expect(r.status, ctx).toBe(200);
            u(a.user).photo = r.body.photo;
            u(a.user).photoBytes = a.set ? tinyPng : null;
            expect(r.body.photo === null, ctx).toBe(!a.set);
            return;
          }
        }
      }

      const missing = freshMissingIds();

      /** Invariant 1, for every ordered pair, through every read path (hidden users answer like missing ones). */
      async function checkAll(run: Run, after: string): Promise<void> {
        const { world, collector } = run;
        const violations = await Promise.all(
          world.users.map((u) =>
            auditReads(world, collector, u.index, missing, [
              profileRoute,
              photoRoute,
              addressBookRoute,
            ]),
          ),
        );
        const all = violations.flat();
        expect(all, `after ${after}: ${describeViolations(world, all)}`).toEqual([]);
      }

      /**
       * Every profile.updated frame a viewer got is what the rules granted that
       * viewer around its arrival: no field ever leaked, and the whole profile
       * equals one state the server went through (the auditor walks the reads
       * too). Returns how many frames about others it checked.
       */
      function checkFrames(run: Run): number {
        const { world, collector } = run;
        let checked = 0;
        for (const d of collector.delivered) {
          if (!d.where.startsWith("frame")) continue;
          const frame = d.body as ServerFrame;
          const ctx = `U${d.viewer} got ${JSON.stringify(frame)}`;
          expect(frame.type, ctx).toBe("profile.updated");
          if (frame.type !== "profile.updated") continue;
          expect(Value.Check(VisibleProfile, frame.profile), ctx).toBe(true);
          expect(world.indexOf(frame.profile.id), ctx).toBeDefined();
          if (frame.profile.id !== world.user(d.viewer).id) checked++;
        }
        const violations = new Auditor(world).inspectAll(collector);
        expect(violations, describeViolations(world, violations)).toEqual([]);
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
        let runs = 0;
        let frames = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(action, { minLength: 30, maxLength: 40 }), async (actions) => {
            const runTag = `r${(runs++).toString(36)}`;
            const run = await setUp();
            try {
              await checkAll(run, "set-up");
              for (const [i, a] of actions.entries()) {
                await apply(run, a, runTag);
                run.world.commit();
                await checkAll(run, `#${i} ${JSON.stringify(a)}`);
              }
              await new Promise((resolve) => setTimeout(resolve, 100));
              frames += checkFrames(run);
            } finally {
              for (const socket of run.sockets) socket.close();
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
