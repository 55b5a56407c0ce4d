import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileReader } from "../src/privacy/profiles.js";
import { backends } from "./helpers/backends.js";
import { DeviceKey, deviceProof, http, phoneProof, TestUser } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(
    `accounts, devices and privacy over HTTP and WebSocket [${backend}]`,
    () => {
      let t: TestServer;
      let alice: TestUser;
      let bob: TestUser;
      const alicePhone = "+14155550101";
      const bobPhone = "+447911123456";

      beforeAll(async () => {
        t = await startTestServer({ backend, env: { VEIL_LOOKUP_LIMIT_PER_ACCOUNT: "8" } });
        alice = await TestUser.register(t.url, {
          name: "Alice",
          username: "alice",
          phone: alicePhone,
          verifier: t.verifier,
        });
        bob = await TestUser.register(t.url, {
          name: "Bob",
          phone: "+44 7911 123456",
          verifier: t.verifier,
        });
      });
      afterAll(async () => t?.close());

      it("registers with a normalised number, default privacy settings and an opaque id", async () => {
        const me = await bob.request("GET", "/v1/me");
        expect(me.status).toBe(200);
        expect(me.body.phone).toBe(bobPhone);
        expect(me.body.privacy).toEqual({
          phone: "everyone",
          photo: "everyone",
          about: "everyone",
          presence: "contacts",
          discoverableByPhone: true,
        });
        expect(me.body.id).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
        expect(me.body.id).not.toContain("7700");
      });

      it("refuses a taken number, a taken username and a reused device key with their codes", async () => {
        const taken = await http(t.url, "POST", "/v1/accounts", {
          body: {
            name: "Mallory",
            phone: await phoneProof(t.url, t.verifier, alicePhone),
            device: await deviceProof(t.url, new DeviceKey()),
          },
        });
        expect(taken.body.error.code).toBe("phone_taken");
        const name = await http(t.url, "POST", "/v1/accounts", {
          body: {
            name: "Mallory",
            username: "ALICE",
            device: await deviceProof(t.url, new DeviceKey()),
          },
        });
        expect(name.body.error.code).toBe("username_taken");
        const key = await deviceProof(t.url, alice.key);
        const reused = await http(t.url, "POST", "/v1/accounts", {
          body: { name: "Mallory", device: key },
        });
        expect(reused.body.error.code).toBe("device_key_taken");
      });

      it("rejects a wrong verification code, a bad number, a bad signature and a reused challenge", async () => {
        const v = await http(t.url, "POST", "/v1/phone-verifications", {
          body: { phone: "+14155550199" },
        });
        const wrong = await http(t.url, "POST", "/v1/accounts", {
          body: {
            name: "X",
            phone: {
              verificationId: v.body.verificationId,
              code: "000000" === t.verifier.codes.get(v.body.verificationId) ? "111111" : "000000",
            },
            device: await deviceProof(t.url, new DeviceKey()),
          },
        });
        expect(wrong.body.error.code).toBe("phone_verification_failed");
        const bad = await http(t.url, "POST", "/v1/phone-verifications", {
          body: { phone: "+1 555" },
        });
        expect(bad.body.error.code).toBe("phone_invalid");
        const key = new DeviceKey();
        const c = await http(t.url, "POST", "/v1/auth/challenges");
        const forged = await http(t.url, "POST", "/v1/accounts", {
          body: {
            name: "X",
            device: {
              publicKey: key.publicKey,
              challengeId: c.body.challengeId,
              signature: new DeviceKey().sign(c.body.challenge),
            },
          },
        });
        expect(forged.body.error.code).toBe("signature_invalid");
        const replay = await http(t.url, "POST", "/v1/accounts", {
          body: {
            name: "X",
            device: {
              publicKey: key.publicKey,
              challengeId: c.body.challengeId,
              signature: key.sign(c.body.challenge),
            },
          },
        });
        expect(replay.body.error.code).toBe("challenge_invalid");
      });

      it("signs in a second device for each user, lists and revokes sessions", async () => {
        const a2 = await alice.addDevice();
        const b2 = await bob.addDevice();
        const devices = await alice.request("GET", "/v1/devices");
        expect(devices.body.map((d: { id: string }) => d.id)).toEqual([
          alice.deviceId,
          a2.deviceId,
        ]);
        const asSecond = await http(t.url, "GET", "/v1/me", { token: b2.token });
        expect(asSecond.body.id).toBe(bob.id);
        const sessions = await bob.request("GET", "/v1/sessions");
        expect(sessions.body).toHaveLength(2);
        const other = sessions.body.find((s: { current: boolean }) => !s.current);
        const socket = await bob.connect(t.wsUrl, b2.token);
        expect((await bob.request("DELETE", `/v1/sessions/${other.id}`)).status).toBe(204);
        expect((await http(t.url, "GET", "/v1/me", { token: b2.token })).body.error.code).toBe(
          "unauthenticated",
        );
        expect((await socket.closed()).reason).toBe("session_revoked");
        expect((await bob.request("DELETE", `/v1/sessions/${other.id}`)).body.error.code).toBe(
          "session_not_found",
        );
        // Sessions of someone else are not found, not forbidden.
        const aliceSessions = await alice.request("GET", "/v1/sessions");
        expect(
          (await bob.request("DELETE", `/v1/sessions/${aliceSessions.body[0].id}`)).body.error.code,
        ).toBe("session_not_found");
        // The removed device's sessions die with it; the last device cannot be removed.
        expect((await alice.request("DELETE", `/v1/devices/${a2.deviceId}`)).status).toBe(204);
        expect((await http(t.url, "GET", "/v1/me", { token: a2.token })).status).toBe(401);
        expect(
          (await alice.request("DELETE", `/v1/devices/${alice.deviceId}`)).body.error.code,
        ).toBe("last_device");
      });

      it("shows strangers nothing (R13) and answers as if they did not exist", async () => {
        const stranger = await alice.request("GET", `/v1/users/${bob.id}`);
        const missing = await alice.request("GET", "/v1/users/u_AAAAAAAAAAAAAAAAAAAAAA");
        expect(stranger.status).toBe(404);
        expect(stranger.body).toEqual(missing.body);
        expect((await alice.request("GET", `/v1/users/${bob.id}/photo`)).body.error.code).toBe(
          "photo_not_found",
        );
      });

      it("finds a discoverable user by number with id, name and photo (R13), then R2 holds", async () => {
        const found = await alice.request("POST", "/v1/lookup/phone", { phone: "+44 7911 123456" });
        expect(found.status).toBe(200);
        expect(found.body).toEqual({ id: bob.id, name: "Bob" });
        // Alice found Bob by that number: R2 grants the number and "everyone" fields.
        const profile = await alice.request("GET", `/v1/users/${bob.id}`);
        expect(profile.body).toMatchObject({ id: bob.id, name: "Bob", phone: bobPhone, about: "" });
        expect(profile.body.presence).toBeUndefined(); // presence defaults to contacts
      });

      it("hides an undiscoverable number exactly like an unknown one", async () => {
        await alice.request("PATCH", "/v1/me/privacy", { discoverableByPhone: false });
        const hidden = await bob.request("POST", "/v1/lookup/phone", { phone: alicePhone });
        const unknown = await bob.request("POST", "/v1/lookup/phone", { phone: "+14155550177" });
        expect(hidden.status).toBe(404);
        expect(hidden.body).toEqual(unknown.body);
        await alice.request("PATCH", "/v1/me/privacy", { discoverableByPhone: true });
      });

      it("applies each value of each privacy setting (everyone, contacts, nobody)", async () => {
        // Bob has Alice as a contact (R2 for Bob); Alice sees Bob through her lookup (R2).
        await bob
          .request("POST", "/v1/contacts", { userId: alice.id })
          .then((r) => expect(r.status).toBe(404)); // Bob cannot see Alice yet
        await bob
          .request("POST", "/v1/contacts", { phone: alicePhone })
          .then((r) => expect(r.status).toBe(201));
        await bob.request("PATCH", "/v1/me", { about: "at the gym" });
        const png = Buffer.from(
          "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5a1b5d80000000049454e44ae426082",
          "hex",
        );
        const photo = await http(t.url, "PUT", "/v1/me/photo", {
          token: bob.token,
          raw: png,
          contentType: "image/png",
        });
        expect(photo.status).toBe(200);

        const view = async () => (await alice.request("GET", `/v1/users/${bob.id}`)).body;
        for (const field of ["photo", "about", "presence"] as const) {
          await bob.request("PATCH", "/v1/me/privacy", { [field]: "everyone" });
          expect(await view()).toHaveProperty(field);
          await bob.request("PATCH", "/v1/me/privacy", { [field]: "nobody" });
          expect(await view()).not.toHaveProperty(field);
          // "contacts": Alice is not (yet) in Bob's contacts... she is: Bob added her above.
          await bob.request("PATCH", "/v1/me/privacy", { [field]: "contacts" });
          expect(await view()).toHaveProperty(field);
          await bob.request("DELETE", `/v1/contacts/${alice.id}`);
          expect(await view()).not.toHaveProperty(field);
          await bob.request("POST", "/v1/contacts", { userId: alice.id });
          await bob.request("PATCH", "/v1/me/privacy", { [field]: "everyone" });
        }
        const got = await http(t.url, "GET", `/v1/users/${bob.id}/photo`, { token: alice.token });
        expect(got.status).toBe(200);
        expect(Buffer.from(await new Response(got.body).arrayBuffer()).length).toBeGreaterThan(0);

        // phone: Alice found Bob by his number, so she sees it whatever the setting (R2).
        await bob.request("PATCH", "/v1/me/privacy", { phone: "nobody" });
        expect((await view()).phone).toBe(bobPhone);
        // Bob sees Alice's number only as her setting allows: he found her by number too.
        await alice.request("PATCH", "/v1/me/privacy", { phone: "nobody" });
        expect((await bob.request("GET", `/v1/users/${alice.id}`)).body.phone).toBe(alicePhone);
        await alice.request("PATCH", "/v1/me/privacy", { phone: "everyone" });
      });

      it("lists, adds and removes contacts", async () => {
        const added = await alice.request("POST", "/v1/contacts", { userId: bob.id });
        expect(added.status).toBe(201);
        const list = await alice.request("GET", "/v1/contacts");
        expect(list.body.map((p: { id: string }) => p.id)).toEqual([bob.id]);
        expect(
          (await alice.request("POST", "/v1/contacts", { userId: alice.id })).body.error.code,
        ).toBe("contact_self");
        expect((await alice.request("DELETE", `/v1/contacts/${bob.id}`)).status).toBe(204);
        expect((await alice.request("GET", "/v1/contacts")).body).toEqual([]);
        await alice.request("POST", "/v1/contacts", { userId: bob.id });
      });

      it("pushes a profile change to a watcher's live connection, as the watcher may see it", async () => {
        const socket = await alice.connect(t.wsUrl);
        await bob.request("PATCH", "/v1/me", { name: "Robert" });
        const frame = await socket.next(
          (f) => f.type === "profile.updated" && f.profile.name === "Robert",
        );
        expect(frame.type === "profile.updated" && frame.profile.id).toBe(bob.id);
        socket.close();
      });

      it("blocking leaves the blocked user at most id and name", async () => {
        await bob.request("PATCH", "/v1/me/privacy", {
          photo: "everyone",
          about: "everyone",
          presence: "everyone",
          phone: "everyone",
        });
        expect((await bob.request("PUT", `/v1/blocks/${alice.id}`)).status).toBe(204);
        expect((await alice.request("GET", `/v1/users/${bob.id}`)).body).toEqual({
          id: bob.id,
          name: "Robert",
        });
        expect((await alice.request("GET", `/v1/users/${bob.id}/photo`)).status).toBe(404);
        expect(
          (await bob.request("GET", "/v1/blocks")).body.map((p: { id: string }) => p.id),
        ).toEqual([alice.id]);
        expect((await bob.request("PUT", `/v1/blocks/${bob.id}`)).body.error.code).toBe(
          "block_self",
        );
        expect((await bob.request("DELETE", `/v1/blocks/${alice.id}`)).status).toBe(204);
        expect((await alice.request("GET", `/v1/users/${bob.id}`)).body).toHaveProperty("about");
      });

      it("rate limits phone lookups per account", async () => {
        const carol = await TestUser.register(t.url, { name: "Carol" });
        const statuses: number[] = [];
        for (let i = 0; i < 10; i++) {
          statuses.push(
            (
              await carol.request("POST", "/v1/lookup/phone", {
                phone: `+1415555${String(1000 + i)}`,
              })
            ).status,
          );
        }
        expect(statuses.slice(0, 8).every((s) => s === 404)).toBe(true);
        expect(statuses.slice(8)).toEqual([429, 429]);
        const limited = await carol.request("POST", "/v1/lookup/phone", { phone: bobPhone });
        expect(limited.body.error.code).toBe("rate_limited");
        // Retry-After points at the end of the hourly window.
        const retryAfter = Number(limited.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(3600);
      });

      it("computes one subject's view for 40,000 viewers without hitting bound-parameter limits", async () => {
        const reader = new ProfileReader(t.server.context.database.db);
        const strangers = Array.from({ length: 40_000 }, (_, i) => `u_stranger${i}`);
        const views = await reader.viewsOf(bob.id, [...strangers, alice.id, bob.id]);
        expect([...views.keys()].sort()).toEqual([alice.id, bob.id].sort());
        expect(views.get(alice.id)).toEqual(
          (await alice.request("GET", `/v1/users/${bob.id}`)).body,
        );
      });

      it("deletes an account with its personal data", async () => {
        const socket = await alice.connect(t.wsUrl);
        const dave = await TestUser.register(t.url, {
          name: "Dave",
          phone: "+14155550142",
          verifier: t.verifier,
        });
        await dave
          .request("POST", "/v1/contacts", { userId: bob.id })
          .then((r) => expect(r.status).toBe(404));
        await alice.request("POST", "/v1/contacts", { phone: "+14155550142" });
        const daveSocket = await dave.connect(t.wsUrl);
        expect((await dave.request("DELETE", "/v1/me")).status).toBe(204);
        expect((await daveSocket.closed()).reason).toBe("session_revoked");
        expect((await dave.request("GET", "/v1/me")).status).toBe(401);
        expect((await alice.request("GET", `/v1/users/${dave.id}`)).status).toBe(404);
        await socket.next((f) => f.type === "profile.removed" && f.userId === dave.id);
        const db = t.server.context.database.db;
        for (const [table, column] of [
          ["users", "id"],
          ["devices", "user_id"],
          ["sessions", "user_id"],
          ["contacts", "owner_id"],
          ["contacts", "contact_id"],
          ["phone_discoveries", "subject_id"],
        ] as const) {
          const rows = await db
            .selectFrom(table)
            .selectAll()
            .where(column as never, "=", dave.id as never)
            .execute();
          expect(rows, `${table}.${column}`).toEqual([]);
        }
        // The number is free again.
        const again = await TestUser.register(t.url, {
          name: "New Dave",
          phone: "+14155550142",
          verifier: t.verifier,
        });
        expect(again.id).not.toBe(dave.id);
        socket.close();
      });
    },
  );
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(
    `phone lookups are limited per client address too [${backend}]`,
    () => {
      let t: TestServer;
      beforeAll(async () => {
        t = await startTestServer({ backend, env: { VEIL_LOOKUP_LIMIT_PER_ADDRESS: "3" } });
      });
      afterAll(async () => t?.close());

      it("stops a second account from the same address once the address is spent", async () => {
        const one = await TestUser.register(t.url, { name: "One" });
        const two = await TestUser.register(t.url, { name: "Two" });
        const lookup = (u: TestUser, n: number) =>
          u.request("POST", "/v1/lookup/phone", { phone: `+1415555${2000 + n}` });
        expect((await lookup(one, 1)).status).toBe(404);
        expect((await lookup(one, 2)).status).toBe(404);
        expect((await lookup(two, 3)).status).toBe(404);
        const limited = await lookup(two, 4);
        expect(limited.status).toBe(429);
        expect(limited.body.error.code).toBe("rate_limited");
      });
    },
  );
}
