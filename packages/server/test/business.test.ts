import { randomBytes } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import {
  BusinessCard,
  BusinessProfile,
  defaultPrivacySettings,
  errorRegistry,
  LogEntry,
  type PrivacySettings,
  VisibleProfile,
} from "@veil/protocol";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../src/accounts/platform-roles.js";
import { backends } from "./helpers/backends.js";
import { http, type Reply, TestUser } from "./helpers/client.js";
import { migrationDatabase } from "./helpers/migration-database.js";
import { MlsDevice } from "./helpers/mls-device.js";
import {
  Auditor,
  auditReads,
  businessRoute,
  Collector,
  describeViolations,
  freshMissingIds,
  pairKey,
  profileRoute,
  tinyPng,
  World,
} from "./helpers/privacy-audit.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 3000;
const nextPhone = () => `+1415557${phoneCounter++}`;
const missingUser = () => `u_${randomBytes(16).toString("base64url")}`;

const shop = {
  name: "Corner Shop",
  description: "Fresh bread every morning",
  category: "food",
  contact: {
    email: "hello@corner.example",
    website: "https://corner.example",
    address: "1 Main St",
  },
} as const;

/** The one error shape, with a registered code and its status. */
function expectError(reply: Reply, code: keyof typeof errorRegistry) {
  expect(reply.body?.error?.code, JSON.stringify(reply.body)).toBe(code);
  expect(reply.status).toBe(errorRegistry[code].status);
  expect(typeof reply.body.error.message).toBe("string");
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`business accounts [${backend}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ backend, env: { ...noRateLimits } });
    });
    afterAll(async () => t?.close());

    const db = () => t.server.context.database.db;

    async function person(name: string) {
      const phone = nextPhone();
      const user = await TestUser.register(t.url, { name, phone, verifier: t.verifier });
      return Object.assign(user, { phone, name });
    }

    /** `viewer` looks `subject` up by number (R13), so R2 relates them from then on. */
    async function lookUp(viewer: TestUser, subject: { phone: string }) {
      expect(
        (await viewer.request("POST", "/v1/lookup/phone", { phone: subject.phone })).status,
      ).toBe(200);
    }

    it("creates, reads, updates and deletes a business profile; /v1/me says whether it is one", async () => {
      const owner = await person("Olga");
      const viewer = await person("Vic");
      const before = await owner.request("GET", "/v1/me");
      expect(before.body.business).toBeUndefined();

      const created = await owner.request("PUT", "/v1/me/business", shop);
      expect(created.status).toBe(200);
      expect(Value.Check(BusinessProfile, created.body)).toBe(true);
      expect(created.body).toEqual({ userId: owner.id, verified: false, ...shop });
      expect((await owner.request("GET", "/v1/me")).body.business).toEqual(created.body);

      // A business account is seen by the rules like any account: a stranger (R13)
      // sees nothing of it, card included.
      expectError(await viewer.request("GET", `/v1/businesses/${owner.id}`), "business_not_found");
      expectError(await viewer.request("GET", `/v1/users/${owner.id}`), "user_not_found");
      // Once the rules show the account (here R2, found by its number), the card comes
      // with it and the account is named by its business name.
      await lookUp(viewer, owner);
      const read = await viewer.request("GET", `/v1/businesses/${owner.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      const asUser = await viewer.request("GET", `/v1/users/${owner.id}`);
      expect(asUser.status).toBe(200);
      expect(Value.Check(VisibleProfile, asUser.body)).toBe(true);
      expect(asUser.body).toEqual({
        id: owner.id,
        name: shop.name,
        phone: owner.phone,
        about: "",
        business: { verified: false, ...shop },
      });

      // A photo shows beside the business, as the owner's photo setting allows.
      const photo = await http(t.url, "PUT", "/v1/me/photo", {
        token: owner.token,
        raw: tinyPng,
        contentType: "image/png",
      });
      expect(photo.status).toBe(200);
      expect(photo.body.business).toEqual(created.body);
      const withPhoto = await viewer.request("GET", `/v1/businesses/${owner.id}`);
      expect(withPhoto.body).toEqual({ ...created.body, photo: photo.body.photo });
      expect((await viewer.request("GET", `/v1/users/${owner.id}`)).body.photo).toBe(
        photo.body.photo,
      );
      await owner.request("PATCH", "/v1/me/privacy", { photo: "nobody" });
      expect((await viewer.request("GET", `/v1/businesses/${owner.id}`)).body).toEqual(
        created.body,
      );
      expect((await owner.request("DELETE", "/v1/me/photo")).body.business).toEqual(created.body);

      // Contact details are optional; leaving them out clears them.
      const updated = await owner.request("PUT", "/v1/me/business", {
        name: "Corner Bakery",
        category: "retail",
      });
      expect(updated.body).toEqual({
        userId: owner.id,
        name: "Corner Bakery",
        description: "",
        category: "retail",
        verified: false,
        contact: {},
      });

      expect((await owner.request("DELETE", "/v1/me/business")).status).toBe(204);
      expect((await owner.request("GET", "/v1/me")).body.business).toBeUndefined();
      expectError(await owner.request("DELETE", "/v1/me/business"), "business_not_found");
      // No longer a business: answered exactly like an id nobody has.
      const gone = await viewer.request("GET", `/v1/businesses/${owner.id}`);
      const nobody = await viewer.request("GET", `/v1/businesses/${missingUser()}`);
      expectError(gone, "business_not_found");
      expect(gone.body).toEqual(nobody.body);
      expect((await viewer.request("GET", `/v1/users/${owner.id}`)).body).toEqual({
        id: owner.id,
        name: "Olga",
        phone: owner.phone,
        about: "",
      });

      // Deleting the account deletes its business profile.
      await owner.request("PUT", "/v1/me/business", shop);
      expect((await owner.request("DELETE", "/v1/me")).status).toBe(204);
      expectError(await viewer.request("GET", `/v1/businesses/${owner.id}`), "business_not_found");
      expect(
        await db()
          .selectFrom("business_profiles")
          .where("user_id", "=", owner.id)
          .selectAll()
          .execute(),
      ).toEqual([]);
    });

    it("lets only platform admins set the verified badge; a new name clears it", async () => {
      const owner = await person("Bea");
      const admin = await person("Ada");
      const moderator = await person("Mo");
      await grantRole(db(), admin.id, "admin");
      await grantRole(db(), moderator.id, "moderator");
      await owner.request("PUT", "/v1/me/business", { name: "Bea's Books", category: "retail" });
      await lookUp(admin, owner);
      await lookUp(moderator, owner);
      const path = `/v1/businesses/${owner.id}/verified`;

      expectError(await owner.request("PUT", path), "not_platform_admin");
      expectError(await moderator.request("PUT", path), "not_platform_admin");
      expectError(await moderator.request("DELETE", path), "not_platform_admin");
      expect((await admin.request("GET", `/v1/businesses/${owner.id}`)).body.verified).toBe(false);

      expect((await admin.request("PUT", path)).status).toBe(204);
      expect((await moderator.request("GET", `/v1/businesses/${owner.id}`)).body.verified).toBe(
        true,
      );
      expect((await moderator.request("GET", `/v1/users/${owner.id}`)).body.business.verified).toBe(
        true,
      );
      expect((await owner.request("GET", "/v1/me")).body.business.verified).toBe(true);
      // The owner cannot set it through its own profile either.
      expectError(
        await owner.request("PUT", "/v1/me/business", {
          name: "Bea's Books",
          category: "retail",
          verified: true,
        }),
        "validation_failed",
      );
      // Same name, new description: the badge stays; a new name: it goes.
      await owner.request("PUT", "/v1/me/business", {
        name: "Bea's Books",
        category: "retail",
        description: "Used books",
      });
      expect((await owner.request("GET", "/v1/me")).body.business.verified).toBe(true);
      await owner.request("PUT", "/v1/me/business", { name: "Bea's Bank", category: "finance" });
      expect((await owner.request("GET", "/v1/me")).body.business.verified).toBe(false);

      await admin.request("PUT", path);
      expect((await admin.request("DELETE", path)).status).toBe(204);
      expect((await admin.request("GET", `/v1/businesses/${owner.id}`)).body.verified).toBe(false);

      // An account that is no business, or none at all.
      expectError(
        await admin.request("PUT", `/v1/businesses/${admin.id}/verified`),
        "business_not_found",
      );
      expectError(
        await admin.request("PUT", `/v1/businesses/${missingUser()}/verified`),
        "business_not_found",
      );
    });

    it("searches businesses by name, case-insensitively, verified ones first, among those the rules show", async () => {
      const tag = randomBytes(4).toString("hex");
      const admin = await person("Ada");
      await grantRole(db(), admin.id, "admin");
      const a = await person("A");
      const b = await person("B");
      const c = await person("C");
      const notBusiness = await person(`Zed Pizza ${tag}`);
      const stranger = await person("D");
      await a.request("PUT", "/v1/me/business", { name: `Alpha Pizza ${tag}`, category: "food" });
      await b.request("PUT", "/v1/me/business", { name: `beta PIZZA ${tag}`, category: "food" });
      await c.request("PUT", "/v1/me/business", { name: `Gamma Tacos ${tag}`, category: "food" });
      await stranger.request("PUT", "/v1/me/business", {
        name: `Delta Pizza ${tag}`,
        category: "food",
      });
      for (const x of [a, b, c, notBusiness]) await lookUp(admin, x);
      await admin.request("PUT", `/v1/businesses/${b.id}/verified`);

      const found = await admin.request(
        "GET",
        `/v1/businesses?q=${encodeURIComponent(`pizza ${tag}`)}`,
      );
      expect(found.status).toBe(200);
      // A business the searcher has no relation to stays hidden (R13), like any account.
      expect(found.body.businesses.map((x: { userId: string }) => x.userId)).toEqual([b.id, a.id]);
      for (const x of found.body.businesses) expect(Value.Check(BusinessProfile, x)).toBe(true);
      // A person's own name is never searched.
      expect(
        found.body.businesses.some((x: { userId: string }) => x.userId === notBusiness.id),
      ).toBe(false);

      const limited = await admin.request("GET", `/v1/businesses?q=${tag}&limit=1`);
      expect(limited.body.businesses).toHaveLength(1);
      // LIKE wildcards are not wildcards.
      expect((await admin.request("GET", "/v1/businesses?q=%25%25")).body.businesses).toEqual([]);
      expect((await admin.request("GET", "/v1/businesses?q=__")).body.businesses).toEqual([]);
      expect((await admin.request("GET", `/v1/businesses?q=nothing${tag}`)).body).toEqual({
        businesses: [],
      });
    });

    it("refuses bad input with the one error shape, never a 5xx", async () => {
      const u = await person("Una");
      const bad: unknown[] = [
        {},
        { name: "", category: "food" },
        { name: "   ", category: "food" },
        { name: "x".repeat(65), category: "food" },
        { name: "Shop", category: "weapons" },
        { name: "Shop" },
        { name: "Shop", category: "food", extra: 1 },
        { name: "Shop", category: "food", description: "d".repeat(513) },
        { name: "Shop", category: "food", contact: { email: "not an email" } },
        { name: "Shop", category: "food", contact: { website: "javascript:alert(1)" } },
        { name: "Shop", category: "food", contact: { website: "ftp://shop.example" } },
        { name: "Shop", category: "food", contact: { address: "" } },
        { name: "Shop", category: "food", contact: { phone: "+14155550100" } },
        { name: 5, category: "food" },
        [],
        "shop",
        null,
      ];
      for (const body of bad) {
        const r = await http(t.url, "PUT", "/v1/me/business", {
          token: u.token,
          raw: JSON.stringify(body),
          contentType: "application/json",
        });
        expectError(r, "validation_failed");
      }
      const notJson = await http(t.url, "PUT", "/v1/me/business", {
        token: u.token,
        raw: "{name:",
        contentType: "application/json",
      });
      expect(notJson.status).toBe(400);
      expect(notJson.body.error.code).toMatch(/^(validation_failed|malformed_request)$/);
      for (const path of [
        "/v1/businesses",
        "/v1/businesses?q=",
        "/v1/businesses?q=%20%20",
        `/v1/businesses?q=${"x".repeat(65)}`,
        "/v1/businesses?q=a&limit=abc",
        "/v1/businesses?q=a&other=1",
        "/v1/businesses/not-an-id",
        "/v1/businesses/not-an-id/verified",
      ]) {
        const method = path.endsWith("/verified") ? "PUT" : "GET";
        expectError(await u.request(method, path), "validation_failed");
      }
      expectError(await http(t.url, "PUT", "/v1/me/business", { body: shop }), "unauthenticated");
      expectError(await http(t.url, "GET", "/v1/businesses?q=shop"), "unauthenticated");
      expectError(await http(t.url, "GET", `/v1/businesses/${u.id}`), "unauthenticated");
      expect((await u.request("GET", "/v1/me")).body.business).toBeUndefined();
    });

    it("R11 and R12: a business is seen like any account plus its card, sees who wrote to it as R2 allows, and replies as itself", async () => {
      const world = new World();
      const collector = new Collector(world, t.url);
      const privacy = (p: Partial<PrivacySettings> = {}): PrivacySettings => ({
        ...defaultPrivacySettings,
        ...p,
      });
      async function member(name: string, p: Partial<PrivacySettings> = {}) {
        const u = await person(name);
        if (Object.keys(p).length > 0) await u.request("PATCH", "/v1/me/privacy", p);
        const device = new MlsDevice(t.url, u.id, u.deviceId, u.token);
        expect((await device.uploadKeyPackages(3)).status).toBe(200);
        world.addUser({
          id: u.id,
          client: u,
          deviceIds: [u.deviceId],
          name,
          phone: u.phone,
          username: null,
          photo: null,
          photoBytes: null,
          about: "",
          privacy: privacy(p),
          business: null,
        });
        return { u, device };
      }
      // 0: the business (its number shown to nobody through R2); 1: a customer whose
      // number shows to everyone; 2: a customer whose number and about show to contacts
      // only; 3: someone who never wrote to it, discoverable by number.
      const biz = await member("Personal Name", { phone: "nobody", presence: "everyone" });
      const alice = await member("Alice");
      const carol = await member("Carol", { phone: "contacts", about: "contacts" });
      const dave = await member("Dave");
      world.commit();

      const card = await biz.u.request("PUT", "/v1/me/business", shop);
      expect(card.status).toBe(200);
      const { userId: _, ...business } = card.body as BusinessProfile;
      world.user(0).business = business as BusinessCard;
      world.commit();

      // Strangers (R13): a business and a person with no relation see nothing of each
      // other, whether or not one of them is a business.
      const asBiz = (s: { u: TestUser }) => biz.u.request("GET", `/v1/users/${s.u.id}`);
      for (const s of [alice, carol, dave]) {
        expectError(await asBiz(s), "user_not_found");
        expectError(await s.u.request("GET", `/v1/users/${biz.u.id}`), "user_not_found");
        expectError(await s.u.request("GET", `/v1/businesses/${biz.u.id}`), "business_not_found");
      }

      // Customers find the business by its number (R13), then write to it: they open
      // the 1:1 chat and add the business's device.
      for (const [i, c] of [
        [1, alice],
        [2, carol],
      ] as const) {
        const found = await c.u.request("POST", "/v1/lookup/phone", { phone: biz.u.phone });
        expect(found.status).toBe(200);
        expect(found.body).toMatchObject({ id: biz.u.id, name: shop.name, business });
        world.discoveries.set(pairKey(i, 0), biz.u.phone);
        world.commit();
        const groupId = await c.device.createGroup({ kind: "direct", peerUserId: biz.u.id });
        expect((await c.device.add(groupId, [biz.u.id])).status).toBe(201);
        world.groups.set(groupId, {
          id: groupId,
          kind: "direct",
          communityId: null,
          members: new Set([i, 0]),
          requests: new Set(),
          admins: new Set(),
          approveMembers: false,
          pair: [i, 0],
          createdBy: i,
        });
        world.commit();
      }
      const [aliceChat] = [...world.groups.keys()];

      // The business replies from its own account and device, under its business name:
      // there is no agent identity on the server, only the business account.
      await biz.device.syncMailbox();
      expect((await biz.device.send(aliceChat as string, "Hello from the shop")).status).toBe(201);
      const log = await alice.u.request("GET", `/v1/groups/${aliceChat}/log`);
      const replies = (log.body.entries as LogEntry[]).filter((e) => e.kind === "application");
      expect(replies.map((e) => e.senderDeviceId)).toEqual([biz.u.deviceId]);
      for (const e of log.body.entries) {
        expect(Object.keys(e).sort()).toEqual(Object.keys(LogEntry.properties).sort());
      }
      expect(await alice.device.catchUp(aliceChat as string)).toEqual(["Hello from the shop"]);
      const chat = await alice.u.request("GET", `/v1/groups/${aliceChat}`);
      expect(
        (chat.body.members as Array<{ userId: string; deviceId: string }>)
          .map((m) => `${m.userId} ${m.deviceId}`)
          .sort(),
      ).toEqual([`${alice.u.id} ${alice.u.deviceId}`, `${biz.u.id} ${biz.u.deviceId}`].sort());
      const sender = await alice.u.request("GET", `/v1/users/${biz.u.id}`);
      expect(sender.body).toMatchObject({ id: biz.u.id, name: shop.name, business });
      expect(Object.keys(VisibleProfile.properties)).not.toContain("agent");
      expect(Object.keys(BusinessCard.properties)).not.toContain("agent");

      const missing = freshMissingIds();
      const violations = [];
      for (let v = 0; v < world.users.length; v++) {
        violations.push(
          ...(await auditReads(world, collector, v, missing, [profileRoute, businessRoute])),
        );
      }
      expect(violations, describeViolations(world, violations)).toEqual([]);

      // And in plain words, what the oracle just checked. R11 (as R2): the business
      // sees its customers as their settings allow, and never one who did not write.
      expect((await asBiz(alice)).body).toMatchObject({ name: "Alice", phone: alice.u.phone });
      const carolSeen = await asBiz(carol);
      expect(carolSeen.body.name).toBe("Carol");
      expect(carolSeen.body.phone).toBeUndefined();
      expect(carolSeen.body.about).toBeUndefined();
      expectError(await asBiz(dave), "user_not_found");
      expectError(await dave.u.request("GET", `/v1/users/${biz.u.id}`), "user_not_found");

      // A business account is an account: the other rules hold for it as for anyone.
      // Carol adds the business as a contact: her `contacts` settings now admit it (R2).
      expect((await carol.u.request("POST", "/v1/contacts", { userId: biz.u.id })).status).toBe(
        201,
      );
      world.contacts.add(pairKey(2, 0));
      world.commit();
      expect((await asBiz(carol)).body).toMatchObject({ phone: carol.u.phone, about: "" });
      const viaContacts = await carol.u.request("GET", "/v1/contacts");
      expect(viaContacts.body).toHaveLength(1);
      expect(viaContacts.body[0]).toMatchObject({ id: biz.u.id, name: shop.name, business });
      // The business may look a person up by number like anyone (R13, then R2).
      const daveFound = await biz.u.request("POST", "/v1/lookup/phone", { phone: dave.u.phone });
      expect(daveFound.status).toBe(200);
      expect(daveFound.body).toMatchObject({ id: dave.u.id, name: "Dave" });
      world.discoveries.set(pairKey(0, 3), dave.u.phone);
      world.commit();
      expect((await asBiz(dave)).body).toMatchObject({ name: "Dave", phone: dave.u.phone });

      // Live: a change of the business profile reaches its customers as the business,
      // and a customer's change reaches the business as R2 allows; every frame is audited.
      const sockets = [];
      for (const [v, c] of [
        [0, biz],
        [1, alice],
        [2, carol],
        [3, dave],
      ] as const) {
        const socket = await c.u.connect(t.wsUrl);
        collector.listen(v, socket);
        sockets.push(socket);
      }
      const renamed = await biz.u.request("PUT", "/v1/me/business", {
        ...shop,
        description: "Now with coffee",
      });
      const { userId: __, ...newCard } = renamed.body as BusinessProfile;
      world.user(0).business = newCard as BusinessCard;
      world.commit();
      const frame = await (sockets[1] as (typeof sockets)[number]).next(
        (f) =>
          f.type === "profile.updated" && f.profile.business?.description === "Now with coffee",
      );
      expect(frame).toMatchObject({
        type: "profile.updated",
        profile: { id: biz.u.id, name: shop.name, business: newCard },
      });
      await alice.u.request("PATCH", "/v1/me", { about: "Alice's about" });
      world.user(1).about = "Alice's about";
      world.commit();
      await (sockets[0] as (typeof sockets)[number]).next(
        (f) => f.type === "profile.updated" && f.profile.about === "Alice's about",
      );
      for (const socket of sockets) socket.close();
      const frames = new Auditor(world).inspectAll(collector);
      expect(frames, describeViolations(world, frames)).toEqual([]);

      const again = [];
      for (let v = 0; v < world.users.length; v++) {
        again.push(
          ...(await auditReads(world, collector, v, missing, [profileRoute, businessRoute])),
        );
      }
      expect(again, describeViolations(world, again)).toEqual([]);
    });

    it("migrates 0012 to 0013: accounts stay as they were, no one is a business", async () => {
      const { database, migrator, close } = await migrationDatabase(backend);
      try {
        expect((await migrator.migrateTo("0012-moderation")).error).toBeUndefined();
        const raw = database.db as unknown as Kysely<{ users: Record<string, unknown> }>;
        await raw
          .insertInto("users")
          .values({
            id: "u_old",
            name: "Old",
            phone: "+14155550199",
            username: null,
            about: "",
            photo_id: null,
            privacy_phone: "everyone",
            privacy_photo: "everyone",
            privacy_about: "everyone",
            privacy_presence: "contacts",
            discoverable_by_phone: 1,
            platform_role: null,
            created_at: 1,
            updated_at: 1,
          })
          .execute();
        const to0013 = await migrator.migrateTo("0013-businesses");
        expect(to0013.results?.map((r) => [r.migrationName, r.status])).toEqual([
          ["0013-businesses", "Success"],
        ]);
        expect(
          await database.db.selectFrom("users").select(["id", "name", "phone"]).execute(),
        ).toEqual([{ id: "u_old", name: "Old", phone: "+14155550199" }]);
        expect(await database.db.selectFrom("business_profiles").selectAll().execute()).toEqual([]);
        await database.db
          .insertInto("business_profiles")
          .values({
            user_id: "u_old",
            name: "Old Shop",
            description: "",
            category: "other",
            email: null,
            website: null,
            address: null,
            created_at: 2,
            updated_at: 2,
          })
          .execute();
        const row = await database.db
          .selectFrom("business_profiles")
          .select(["verified", "created_at"])
          .executeTakeFirstOrThrow();
        expect(Number(row.verified)).toBe(0);
        expect(Number(row.created_at)).toBe(2);
      } finally {
        await close();
      }
    });
  });
}
