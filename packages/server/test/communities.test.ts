import { randomBytes } from "node:crypto";
import { type ErrorCode, encodeSenderKeyHeader, errorRegistry } from "@veil/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { http, TestUser } from "./helpers/client.js";
import { MlsDevice } from "./helpers/mls-device.js";
import { noRateLimits, startTestServer, type TestServer } from "./helpers/test-server.js";

let phoneCounter = 5000;
const nextPhone = () => `+1415556${phoneCounter++}`;

/**
 * A structurally valid sender-key message for `groupId`: the server checks
 * only the public header (it holds no keys), so random ciphertext and
 * signature bytes are enough here. Real encryption is tested in the SDK.
 */
function senderKeyMessage(groupId: string): string {
  const header = encodeSenderKeyHeader({ groupId, keyId: randomBytes(16), iteration: 0 });
  return Buffer.concat([header, randomBytes(48), randomBytes(64)]).toString("base64url");
}

/**
 * Every row a community's requests could change (the community, its members
 * and admins, its groups with their members, admins, epochs and log lengths,
 * invite links, requests to join and suggestions), read straight from the
 * store: equal snapshots before and after a refused request show that it
 * changed nothing. `extra` adds groups outside the community (one being linked).
 */
async function snapshot(server: TestServer, communityId: string, extra: string[] = []) {
  const db = server.server.context.database.db;
  const community = await db
    .selectFrom("communities")
    .selectAll()
    .where("id", "=", communityId)
    .executeTakeFirstOrThrow();
  const groups = await db
    .selectFrom("groups")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("community_id", "=", communityId),
        eb("id", "in", [community.announcement_group_id, ...extra]),
      ]),
    )
    .orderBy("id")
    .execute();
  const ids = groups.map((g) => g.id);
  const log = await db
    .selectFrom("group_log")
    .select(["group_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("group_id", "in", ids)
    .groupBy("group_id")
    .orderBy("group_id")
    .execute();
  return {
    community,
    members: await db
      .selectFrom("community_members")
      .selectAll()
      .where("community_id", "=", communityId)
      .orderBy("user_id")
      .execute(),
    groups,
    groupMembers: await db
      .selectFrom("group_members")
      .selectAll()
      .where("group_id", "in", ids)
      .orderBy("group_id")
      .orderBy("device_id")
      .execute(),
    groupAdmins: await db
      .selectFrom("group_admins")
      .selectAll()
      .where("group_id", "in", ids)
      .orderBy("group_id")
      .orderBy("user_id")
      .execute(),
    log: log.map((l) => `${l.group_id} ${Number(l.n)}`),
    invites: await db
      .selectFrom("community_invites")
      .selectAll()
      .where("community_id", "=", communityId)
      .orderBy("code")
      .execute(),
    requests: await db
      .selectFrom("join_requests")
      .selectAll()
      .where("target_id", "in", [communityId, ...ids])
      .orderBy("target_id")
      .orderBy("user_id")
      .execute(),
    suggestions: await db
      .selectFrom("group_suggestions")
      .selectAll()
      .where((eb) => eb.or([eb("community_id", "=", communityId), eb("group_id", "in", ids)]))
      .orderBy("group_id")
      .execute(),
  };
}

/** Runs `refused`, which must fail with `code`, shows that nothing changed, and returns its answer. */
async function unchanged<R extends { status: number; body: any }>(
  server: TestServer,
  communityId: string,
  code: ErrorCode,
  refused: () => Promise<R>,
  extra: string[] = [],
): Promise<R> {
  const before = await snapshot(server, communityId, extra);
  const r = await refused();
  expect(r.body?.error?.code, JSON.stringify(r.body)).toBe(code);
  expect(r.status).toBe(errorRegistry[code].status);
  expect(await snapshot(server, communityId, extra)).toEqual(before);
  return r;
}

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`communities [${backend}]`, () => {
    let t: TestServer;

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => t?.close());

    /** A registered user with one MLS device and key packages on the server. */
    async function person(name: string, server = t) {
      const phone = nextPhone();
      const user = await TestUser.register(server.url, {
        name,
        phone,
        verifier: server.verifier,
      });
      const device = new MlsDevice(server.url, user.id, user.deviceId, user.token);
      expect((await device.uploadKeyPackages(5)).status).toBe(200);
      return { user, device, phone, name };
    }
    type Person = Awaited<ReturnType<typeof person>>;

    async function community(owner: Person, name = "Neighbours") {
      const r = await owner.user.request("POST", "/v1/communities", { name });
      expect(r.status).toBe(201);
      return r.body as { id: string; announcementGroupId: string };
    }

    /** Joins `who` to the community through an invite link. */
    async function invite(admin: Person, communityId: string, ...who: Person[]) {
      const link = await admin.user.request("POST", `/v1/communities/${communityId}/invites`, {});
      expect(link.status).toBe(201);
      for (const p of who) {
        const joined = await p.user.request("POST", `/v1/invites/${link.body.code}/join`);
        expect(joined.body.status).toBe("joined");
      }
      return link.body.code as string;
    }

    /** A group in the community with these members (added by a real MLS commit). */
    async function group(creator: Person, communityId: string, name: string, members: Person[]) {
      const r = await creator.user.request("POST", `/v1/communities/${communityId}/groups`, {
        name,
      });
      expect(r.status).toBe(201);
      const groupId = await creator.device.adopt(r.body.id);
      if (members.length > 0) {
        const added = await creator.device.add(
          groupId,
          members.map((m) => m.user.id),
        );
        expect(added.status).toBe(201);
        for (const m of members) await m.device.syncMailbox();
      }
      return groupId;
    }

    const post = (who: Person, groupId: string, message = senderKeyMessage(groupId)) =>
      who.user.request("POST", `/v1/groups/${groupId}/messages`, {
        id: `m_${randomBytes(6).toString("hex")}`,
        message,
      });

    /** The caller's view of another user, as GET /v1/users/:id answers it. */
    const profile = async (viewer: Person, subject: Person) =>
      (await viewer.user.request("GET", `/v1/users/${subject.user.id}`)).body;

    it("creates a community with its announcement group; members join by link and see no one", async () => {
      const olga = await person("Olga");
      const paul = await person("Paul");
      const c = await community(olga, "Riverside");
      const view = await olga.user.request("GET", `/v1/communities/${c.id}`);
      expect(view.body).toMatchObject({
        name: "Riverside",
        role: "owner",
        memberCount: 1,
        groupCount: 0,
        approveMembers: false,
        groupAddPolicy: "admins",
        limits: { groups: 100, groupMembers: 1024, announcementMembers: 5000 },
      });
      expect(view.body.admins.map((a: { id: string }) => a.id)).toEqual([olga.user.id]);

      // Not a member yet: the community answers exactly as one that does not exist.
      const hidden = await paul.user.request("GET", `/v1/communities/${c.id}`);
      const missing = await paul.user.request("GET", "/v1/communities/c_doesnotexist000000000");
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual(missing.body);

      const code = await invite(olga, c.id);
      const preview = await paul.user.request("GET", `/v1/invites/${code}`);
      expect(preview.body).toEqual({
        communityId: c.id,
        name: "Riverside",
        description: "",
        memberCount: 1,
        approveMembers: false,
      });
      expect(JSON.stringify(preview.body)).not.toContain(olga.user.id);
      expect((await paul.user.request("POST", `/v1/invites/${code}/join`)).body.status).toBe(
        "joined",
      );
      // Joining twice is harmless.
      expect((await paul.user.request("POST", `/v1/invites/${code}/join`)).body.status).toBe(
        "joined",
      );
      const paulsView = await paul.user.request("GET", `/v1/communities/${c.id}`);
      expect(paulsView.body).toMatchObject({ role: "member", memberCount: 2 });
      // R5: the owner as Paul sees her: id and name, photo if allowed; never the phone.
      expect(paulsView.body.admins).toEqual([{ id: olga.user.id, name: "Olga" }]);
      expect(await profile(paul, olga)).toEqual({ id: olga.user.id, name: "Olga" });
      // R6: Olga sees Paul's id, name and phone.
      expect(await profile(olga, paul)).toEqual({
        id: paul.user.id,
        name: "Paul",
        phone: paul.phone,
      });
      const list = await olga.user.request("GET", `/v1/communities/${c.id}/members`);
      expect(list.body.members.map((m: { profile: { id: string } }) => m.profile.id)).toEqual([
        olga.user.id,
        paul.user.id,
      ]);
      expect(
        (await paul.user.request("GET", `/v1/communities/${c.id}/members`)).body.error.code,
      ).toBe("not_community_admin");
      expect((await paul.user.request("GET", "/v1/communities")).body.communities).toHaveLength(1);
    });

    it("lets only community admins post in the announcement group; members see a count, admins the list", async () => {
      const olga = await person("Olga");
      const paul = await person("Paul");
      const rita = await person("Rita");
      const c = await community(olga);
      await invite(olga, c.id, paul, rita);
      const socket = await rita.user.connect(t.wsUrl);
      try {
        const sent = await post(olga, c.announcementGroupId);
        expect(sent.status).toBe(201);
        const frame = await socket.next(
          (f) => f.type === "group.entry" && f.entry.groupId === c.announcementGroupId,
        );
        expect(frame.type === "group.entry" && frame.entry.senderDeviceId).toBe(
          olga.device.deviceId,
        );
      } finally {
        socket.close();
      }
      // A member may not post; nothing is stored, nothing changes.
      const before = await rita.user.request("GET", `/v1/groups/${c.announcementGroupId}/log`);
      await unchanged(t, c.id, "not_community_admin", () => post(paul, c.announcementGroupId));
      // Nor send a typing signal there (it would show him to every member): refused alike.
      await unchanged(t, c.id, "not_community_admin", () =>
        paul.user.request("POST", `/v1/groups/${c.announcementGroupId}/signals`, {
          message: senderKeyMessage(c.announcementGroupId),
        }),
      );
      const after = await rita.user.request("GET", `/v1/groups/${c.announcementGroupId}/log`);
      expect(after.body).toEqual(before.body);
      // Nor may a member store attachments there.
      const blob = await http(t.url, "POST", `/v1/groups/${c.announcementGroupId}/blobs`, {
        token: paul.user.token,
        raw: randomBytes(64),
      });
      expect(blob.body.error.code).toBe("not_community_admin");
      // Bytes that are not a sender-key message for this group are refused.
      expect((await post(olga, c.announcementGroupId, "AAAAAAAA")).body.error.code).toBe(
        "sender_key_malformed",
      );
      expect(
        (await post(olga, c.announcementGroupId, senderKeyMessage("g_other"))).body.error.code,
      ).toBe("mls_wrong_group");
      // No MLS commits in an announcement group.
      const commit = await olga.user.request(
        "POST",
        `/v1/groups/${c.announcementGroupId}/commits`,
        {
          epoch: 0,
          commit: "AAAAAAAA",
        },
      );
      expect(commit.body.error.code).toBe("wrong_group_kind");

      const asMember = await paul.user.request("GET", `/v1/groups/${c.announcementGroupId}`);
      expect(asMember.body).toMatchObject({ kind: "announcement", memberCount: 3, members: [] });
      expect(asMember.body.admins).toEqual([olga.user.id]);
      expect(JSON.stringify(asMember.body)).not.toContain(rita.user.id);
      const asAdmin = await olga.user.request("GET", `/v1/groups/${c.announcementGroupId}`);
      expect(new Set(asAdmin.body.members.map((m: { userId: string }) => m.userId))).toEqual(
        new Set([olga.user.id, paul.user.id, rita.user.id]),
      );

      // Promoted, Paul may post; and his profile shows to members as R5 allows.
      expect(
        (await olga.user.request("PUT", `/v1/communities/${c.id}/admins/${paul.user.id}`)).status,
      ).toBe(200);
      expect((await post(paul, c.announcementGroupId)).status).toBe(201);
      expect(await profile(rita, paul)).toEqual({ id: paul.user.id, name: "Paul" });
      // Dismissed, he may not, and Rita no longer sees him at all (R4).
      await olga.user.request("DELETE", `/v1/communities/${c.id}/admins/${paul.user.id}`);
      expect((await post(paul, c.announcementGroupId)).body.error.code).toBe("not_community_admin");
      const gone = await rita.user.request("GET", `/v1/users/${paul.user.id}`);
      const nobody = await rita.user.request("GET", "/v1/users/u_0000000000000000000000");
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual(nobody.body);
    });

    it("keeps members of different groups of one community invisible to each other (R3, R4)", async () => {
      const olga = await person("Olga");
      const anna = await person("Anna");
      const bert = await person("Bert");
      const cleo = await person("Cleo");
      const c = await community(olga);
      await invite(olga, c.id, anna, bert, cleo);
      const a = await group(olga, c.id, "Gardening", [anna, cleo]);
      const b = await group(olga, c.id, "Chess", [bert, cleo]);
      // Anna and Cleo share group A (R3): name and phone, whatever Cleo's phone setting.
      await cleo.user.request("PATCH", "/v1/me/privacy", { phone: "nobody" });
      expect(await profile(anna, cleo)).toMatchObject({
        id: cleo.user.id,
        name: "Cleo",
        phone: cleo.phone,
      });
      // Anna (A only) and Bert (B only): nothing, through every route, exactly like a stranger
      // (a user who never existed).
      for (const route of ["", "/photo"]) {
        const r = await anna.user.request("GET", `/v1/users/${bert.user.id}${route}`);
        const never = await anna.user.request("GET", `/v1/users/u_0000000000000000000000${route}`);
        expect(r.status).toBe(404);
        expect(never.status).toBe(404);
        expect(r.body).toEqual(never.body);
      }
      const claim = await anna.user.request("POST", "/v1/key-packages/claim", {
        userIds: [bert.user.id],
      });
      const claimNobody = await anna.user.request("POST", "/v1/key-packages/claim", {
        userIds: ["u_0000000000000000000000"],
      });
      expect(claim.body).toEqual(claimNobody.body);
      // Group B is in the directory (name and size) but its members are not named.
      const directory = await anna.user.request("GET", `/v1/communities/${c.id}/groups`);
      expect(directory.body.groups).toEqual([
        { groupId: a, name: "Gardening", description: "", size: 3, joined: true, requested: false },
        { groupId: b, name: "Chess", description: "", size: 3, joined: false, requested: false },
      ]);
      const groupB = await anna.user.request("GET", `/v1/groups/${b}`);
      const noGroup = await anna.user.request("GET", "/v1/groups/g_doesnotexist00000000000");
      expect(groupB.status).toBe(404);
      expect(groupB.body).toEqual(noGroup.body);
      // The announcement group does not list Bert to Anna either.
      const ann = await anna.user.request("GET", `/v1/groups/${c.announcementGroupId}`);
      expect(JSON.stringify(ann.body)).not.toContain(bert.user.id);
      // A profile change by Bert reaches Cleo (R3 through B), never Anna.
      const annaSocket = await anna.user.connect(t.wsUrl);
      const cleoSocket = await cleo.user.connect(t.wsUrl);
      try {
        await bert.user.request("PATCH", "/v1/me", { about: "checkmate" });
        const seen = await cleoSocket.next(
          (f) => f.type === "profile.updated" && f.profile.id === bert.user.id,
        );
        expect(seen.type === "profile.updated" && seen.profile.about).toBe("checkmate");
        // Anna then hears about a change of Cleo's, and nothing of Bert before it.
        await cleo.user.request("PATCH", "/v1/me", { about: "marker" });
        const next = await annaSocket.next((f) => f.type === "profile.updated");
        expect(next.type === "profile.updated" && next.profile.id).toBe(cleo.user.id);
      } finally {
        annaSocket.close();
        cleoSocket.close();
      }
    });

    it("lets members ask to join a group from the directory; an admin's commit lets them in", async () => {
      const olga = await person("Olga");
      const dora = await person("Dora");
      const emil = await person("Emil");
      const c = await community(olga);
      await invite(olga, c.id, dora, emil);
      const g = await group(olga, c.id, "Book club", [dora]);
      await olga.user.request("PATCH", `/v1/groups/${g}/settings`, { approveMembers: true });
      expect((await emil.user.request("POST", `/v1/groups/${g}/requests`)).status).toBe(202);
      const dir = await emil.user.request("GET", `/v1/communities/${c.id}/groups`);
      expect(dir.body.groups[0]).toMatchObject({ groupId: g, joined: false, requested: true });
      // With approval on, only admins see and answer requests; they see the asker's name.
      expect((await dora.user.request("GET", `/v1/groups/${g}/requests`)).body.error.code).toBe(
        "not_group_admin",
      );
      const requests = await olga.user.request("GET", `/v1/groups/${g}/requests`);
      expect(requests.body.requests).toEqual([
        { userId: emil.user.id, name: "Emil", createdAt: expect.any(String) },
      ]);
      // Olga was told through her mailbox.
      const mailbox = await olga.user.request("GET", "/v1/mailbox");
      expect(
        mailbox.body.items.some(
          (i: { kind: string; groupId: string }) => i.kind === "join_request" && i.groupId === g,
        ),
      ).toBe(true);
      // A member may not add someone while approval is on; an admin may.
      expect((await dora.device.add(g, [emil.user.id])).body?.error?.code).toBeDefined();
      expect((await olga.device.add(g, [emil.user.id])).status).toBe(201);
      await emil.device.syncMailbox();
      expect((await olga.user.request("GET", `/v1/groups/${g}/requests`)).body.requests).toEqual(
        [],
      );
      const summary = await emil.user.request("GET", `/v1/groups/${g}`);
      expect(summary.body).toMatchObject({ name: "Book club", communityId: c.id, memberCount: 3 });
      // Emil now shares the group with Dora (R3).
      expect(await profile(emil, dora)).toMatchObject({ phone: dora.phone });

      // Info: any member unless set to admins.
      expect(
        (await dora.user.request("PATCH", `/v1/groups/${g}/info`, { description: "Novels" })).body
          .description,
      ).toBe("Novels");
      await olga.user.request("PATCH", `/v1/groups/${g}/settings`, { infoPolicy: "admins" });
      expect(
        (await dora.user.request("PATCH", `/v1/groups/${g}/info`, { name: "Mine" })).body.error
          .code,
      ).toBe("not_group_admin");
      // A member removing an admin's device is refused, and changes nothing (epoch, log,
      // members, admins); leaving works.
      await unchanged(t, c.id, "not_group_admin", () =>
        dora.device.remove(g, [olga.device.deviceId]),
      );
      expect((await dora.user.request("DELETE", `/v1/groups/${g}/members/me`)).status).toBe(204);
      expect((await dora.user.request("GET", `/v1/groups/${g}`)).status).toBe(404);
      const olgaMail = await olga.user.request("GET", "/v1/mailbox");
      expect(
        olgaMail.body.items.some(
          (i: { kind: string; deviceId: string }) =>
            i.kind === "remove_device" && i.deviceId === dora.device.deviceId,
        ),
      ).toBe(true);
      // A declined or withdrawn request is gone; answering it twice is request_not_found.
      const fay = await person("Fay");
      await invite(olga, c.id, fay);
      await fay.user.request("POST", `/v1/groups/${g}/requests`);
      expect(
        (await olga.user.request("DELETE", `/v1/groups/${g}/requests/${fay.user.id}`)).status,
      ).toBe(204);
      expect(
        (await olga.user.request("DELETE", `/v1/groups/${g}/requests/${fay.user.id}`)).body.error
          .code,
      ).toBe("request_not_found");
      // Someone outside the community cannot even ask: the group does not exist for them.
      const stranger = await person("Stranger");
      const asked = await stranger.user.request("POST", `/v1/groups/${g}/requests`);
      expect(asked.status).toBe(404);
      expect(asked.body.error.code).toBe("group_not_found");
    });

    it("links, suggests and unlinks groups; a linked group's members join the community", async () => {
      const olga = await person("Olga");
      const gus = await person("Gus");
      const hal = await person("Hal");
      const c = await community(olga);
      await invite(olga, c.id, gus);
      // Gus runs a standalone group with Hal, and links it: only admins add groups, so it is a suggestion.
      await gus.user.request("POST", "/v1/contacts", { phone: hal.phone });
      const g = await gus.device.createGroup({ kind: "group" });
      await gus.user.request("PATCH", `/v1/groups/${g}/info`, { name: "Cyclists" });
      expect((await gus.device.add(g, [hal.user.id])).status).toBe(201);
      const suggested = await gus.user.request("POST", `/v1/communities/${c.id}/links`, {
        groupId: g,
      });
      expect(suggested.body.status).toBe("suggested");
      const queue = await olga.user.request("GET", `/v1/communities/${c.id}/suggestions`);
      expect(queue.body.suggestions).toEqual([
        {
          groupId: g,
          name: "Cyclists",
          description: "",
          size: 2,
          suggestedBy: { id: gus.user.id, name: "Gus", phone: gus.phone },
          createdAt: expect.any(String),
        },
      ]);
      expect(
        (await olga.user.request("POST", `/v1/communities/${c.id}/suggestions/${g}/approve`))
          .status,
      ).toBe(204);
      // Hal came in with the group: he is a member of the community and its announcement group.
      const halsView = await hal.user.request("GET", `/v1/communities/${c.id}`);
      expect(halsView.body).toMatchObject({ role: "member", memberCount: 3, groupCount: 1 });
      expect((await hal.user.request("GET", `/v1/groups/${c.announcementGroupId}`)).status).toBe(
        200,
      );
      // Linking it again, anywhere, is refused.
      const other = await community(gus, "Other");
      expect(
        (await gus.user.request("POST", `/v1/communities/${other.id}/links`, { groupId: g })).body
          .error.code,
      ).toBe("group_in_community");
      // The group's admin unlinks it; it carries on as a standalone group.
      expect((await gus.user.request("DELETE", `/v1/communities/${c.id}/groups/${g}`)).status).toBe(
        204,
      );
      expect((await gus.user.request("GET", `/v1/groups/${g}`)).body.communityId).toBeNull();
      // With "members may add groups", a member's link is immediate.
      await olga.user.request("PATCH", `/v1/communities/${c.id}`, { groupAddPolicy: "members" });
      expect(
        (await gus.user.request("POST", `/v1/communities/${c.id}/links`, { groupId: g })).body
          .status,
      ).toBe("linked");
      // A group Gus does not administer answers as if it did not exist.
      const olgas = await olga.device.createGroup({ kind: "group" });
      expect(
        (await gus.user.request("POST", `/v1/communities/${c.id}/links`, { groupId: olgas })).body
          .error.code,
      ).toBe("group_not_found");
    });

    it("makes a member's link a suggestion while approving members, if it would bring outsiders in", async () => {
      const olga = await person("Olga");
      const gus = await person("Gus");
      const hal = await person("Hal");
      const c = await community(olga);
      await invite(olga, c.id, gus);
      await olga.user.request("PATCH", `/v1/communities/${c.id}`, {
        groupAddPolicy: "members",
        approveMembers: true,
      });
      await gus.user.request("POST", "/v1/contacts", { phone: hal.phone });
      const g = await gus.device.createGroup({ kind: "group" });
      expect((await gus.device.add(g, [hal.user.id])).status).toBe(201);
      // Hal is not in the community: only an admin lets him in.
      const linked = await gus.user.request("POST", `/v1/communities/${c.id}/links`, {
        groupId: g,
      });
      expect(linked.body.status).toBe("suggested");
      expect((await hal.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      expect((await gus.user.request("GET", `/v1/groups/${g}`)).body.communityId).toBeNull();
      // A group of community members only links at once.
      const own = await gus.device.createGroup({ kind: "group" });
      expect(
        (await gus.user.request("POST", `/v1/communities/${c.id}/links`, { groupId: own })).body
          .status,
      ).toBe("linked");
      // The owner's approval of the suggestion brings Hal in.
      expect(
        (await olga.user.request("POST", `/v1/communities/${c.id}/suggestions/${g}/approve`))
          .status,
      ).toBe(204);
      expect((await hal.user.request("GET", `/v1/communities/${c.id}`)).body.role).toBe("member");
    });

    it("runs join requests when the community approves new members", async () => {
      const olga = await person("Olga");
      const ivy = await person("Ivy");
      const c = await community(olga);
      await olga.user.request("PATCH", `/v1/communities/${c.id}`, { approveMembers: true });
      const link = await olga.user.request("POST", `/v1/communities/${c.id}/invites`, {});
      const asked = await ivy.user.request("POST", `/v1/invites/${link.body.code}/join`);
      expect(asked.body).toEqual({ status: "pending", communityId: c.id });
      expect((await ivy.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      // The admins' devices are told, on the announcement group.
      const told = await olga.user.request("GET", "/v1/mailbox");
      expect(told.body.items).toContainEqual(
        expect.objectContaining({ kind: "join_request", groupId: c.announcementGroupId }),
      );
      const pending = await olga.user.request("GET", `/v1/communities/${c.id}/requests`);
      expect(pending.body.requests).toEqual([
        { userId: ivy.user.id, name: "Ivy", createdAt: expect.any(String) },
      ]);
      expect(
        (await olga.user.request("POST", `/v1/communities/${c.id}/requests/${ivy.user.id}/approve`))
          .status,
      ).toBe(204);
      expect((await ivy.user.request("GET", `/v1/communities/${c.id}`)).body.role).toBe("member");
      expect(
        (await olga.user.request("POST", `/v1/communities/${c.id}/requests/${ivy.user.id}/approve`))
          .body.error.code,
      ).toBe("request_not_found");
    });

    it("shows a request to join a group to those who decide it, and to no one else", async () => {
      const olga = await person("Olga");
      const gus = await person("Gus");
      const dora = await person("Dora");
      const emil = await person("Emil");
      const c = await community(olga);
      await invite(olga, c.id, gus, dora, emil);
      // Gus (a plain member of the community) runs the group; Dora is in it too.
      const g = await group(olga, c.id, "Book club", [gus, dora]);
      expect((await olga.user.request("PUT", `/v1/groups/${g}/admins/${gus.user.id}`)).status).toBe(
        200,
      );
      expect((await olga.user.request("DELETE", `/v1/groups/${g}/members/me`)).status).toBe(204);
      const approve = async (on: boolean) =>
        expect(
          (await gus.user.request("PATCH", `/v1/groups/${g}/settings`, { approveMembers: on }))
            .status,
        ).toBe(200);
      const nobody = (await dora.user.request("GET", "/v1/users/u_0000000000000000000000")).body;
      const hidden = async (viewer: Person, subject: Person) => {
        const r = await viewer.user.request("GET", `/v1/users/${subject.user.id}`);
        expect(r.status).toBe(404);
        expect(r.body).toEqual(nobody);
      };
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        randomBytes(32),
      ]);
      const photo = await http(t.url, "PUT", "/v1/me/photo", {
        token: emil.user.token,
        raw: png,
        contentType: "image/png",
      });
      expect(photo.status).toBe(200);

      await approve(true);
      await hidden(gus, emil);
      expect((await emil.user.request("POST", `/v1/groups/${g}/requests`)).status).toBe(202);
      // Approval on: the group's admin decides, and sees what a lookup by number would show.
      expect(await profile(gus, emil)).toEqual({
        id: emil.user.id,
        name: "Emil",
        photo: photo.body.photo,
      });
      // A member who cannot decide sees nothing of the asker, exactly as of a stranger.
      await hidden(dora, emil);
      const keys = await dora.user.request("POST", "/v1/key-packages/claim", {
        userIds: [emil.user.id],
      });
      expect(keys.body.error.code).toBe("user_not_found");
      // The asker sees nothing of those who decide, nor of the other members.
      await hidden(emil, gus);
      await hidden(emil, dora);
      // The photo shows only as the asker's setting allows.
      await emil.user.request("PATCH", "/v1/me/privacy", { photo: "nobody" });
      expect(await profile(gus, emil)).toEqual({ id: emil.user.id, name: "Emil" });

      // Approval off: any member may add, so every member decides and sees the asker.
      await approve(false);
      expect(await profile(dora, emil)).toEqual({ id: emil.user.id, name: "Emil" });
      expect((await dora.user.request("GET", `/v1/groups/${g}/requests`)).body.requests).toEqual([
        { userId: emil.user.id, name: "Emil", createdAt: expect.any(String) },
      ]);
      await hidden(emil, dora);
      // And back on: Dora no longer decides, and no longer sees Emil.
      await approve(true);
      await hidden(dora, emil);
      // Answered (withdrawn here), the request shows Emil to no one.
      expect(
        (await emil.user.request("DELETE", `/v1/groups/${g}/requests/${emil.user.id}`)).status,
      ).toBe(204);
      await hidden(gus, emil);
    });

    it("ends requests to join a group when it leaves the community, and when the community ends", async () => {
      const olga = await person("Olga");
      const dora = await person("Dora");
      const emil = await person("Emil");
      const c = await community(olga);
      await invite(olga, c.id, dora, emil);
      const walkers = await group(olga, c.id, "Walkers", [dora]);
      const runners = await group(olga, c.id, "Runners", [dora]);
      for (const g of [walkers, runners])
        expect((await emil.user.request("POST", `/v1/groups/${g}/requests`)).status).toBe(202);
      const db = t.server.context.database.db;
      const pending = async (groupId: string) =>
        (
          await db
            .selectFrom("join_requests")
            .select("user_id")
            .where("target_id", "=", groupId)
            .execute()
        ).map((r) => r.user_id);
      expect(await pending(walkers)).toEqual([emil.user.id]);
      // Without approval every member decides: Dora sees Emil through his requests.
      expect(await profile(dora, emil)).toEqual({ id: emil.user.id, name: "Emil" });

      // Unlinked, the group carries on alone; the request made through the directory ends.
      expect(
        (await olga.user.request("DELETE", `/v1/communities/${c.id}/groups/${walkers}`)).status,
      ).toBe(204);
      expect(await pending(walkers)).toEqual([]);
      expect((await dora.user.request("GET", `/v1/groups/${walkers}/requests`)).body).toEqual({
        requests: [],
      });
      // The other request still shows him to her.
      expect(await pending(runners)).toEqual([emil.user.id]);
      expect(await profile(dora, emil)).toEqual({ id: emil.user.id, name: "Emil" });

      // Deactivated, the community ends every request to its groups, and what they showed.
      expect((await olga.user.request("DELETE", `/v1/communities/${c.id}`)).status).toBe(204);
      expect(await pending(runners)).toEqual([]);
      expect((await dora.user.request("GET", `/v1/groups/${runners}/requests`)).body).toEqual({
        requests: [],
      });
      const gone = await dora.user.request("GET", `/v1/users/${emil.user.id}`);
      const nobody = await dora.user.request("GET", "/v1/users/u_0000000000000000000000");
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual(nobody.body);
    });

    it("lets someone outside a community that approves members into its groups only by an admin answering their request", async () => {
      const olga = await person("Olga");
      const paul = await person("Paul");
      const ivy = await person("Ivy");
      const jon = await person("Jon");
      const c = await community(olga);
      await invite(olga, c.id, paul);
      const g = await group(olga, c.id, "Garden", [paul]);
      // Any member may add to this group (its own approval is off), and Paul knows Ivy.
      expect((await paul.user.request("POST", "/v1/contacts", { phone: ivy.phone })).status).toBe(
        201,
      );
      expect((await olga.user.request("POST", "/v1/contacts", { phone: jon.phone })).status).toBe(
        201,
      );
      await olga.user.request("PATCH", `/v1/communities/${c.id}`, { approveMembers: true });
      const link = await olga.user.request("POST", `/v1/communities/${c.id}/invites`, {});
      expect(
        (await ivy.user.request("POST", `/v1/invites/${link.body.code}/join`)).body.status,
      ).toBe("pending");

      // A plain member's commit would let Ivy in past the admins: refused, and nothing moves
      // (epoch, log, members of the group and of the community, her request).
      await unchanged(t, c.id, "approval_required", () => paul.device.add(g, [ivy.user.id]));
      expect((await ivy.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      // An admin's commit needs a request to answer: Jon never asked.
      await unchanged(t, c.id, "approval_required", () => olga.device.add(g, [jon.user.id]));

      // The admin's commit answers Ivy's request: she is in the group and the community.
      expect((await olga.device.add(g, [ivy.user.id])).status).toBe(201);
      expect((await ivy.user.request("GET", `/v1/communities/${c.id}`)).body.role).toBe("member");
      expect((await olga.user.request("GET", `/v1/communities/${c.id}/requests`)).body).toEqual({
        requests: [],
      });
      await ivy.device.syncMailbox();
      await paul.device.catchUp(g);
      expect((await ivy.user.request("GET", `/v1/groups/${g}`)).body.memberCount).toBe(3);
      // Members of the community are added as before, by anyone the group lets add.
      await olga.user.request("PATCH", `/v1/communities/${c.id}`, { approveMembers: false });
      expect((await paul.user.request("POST", `/v1/invites/${link.body.code}/join`)).status).toBe(
        200,
      );
    });

    it("never passes the member and group limits under concurrent joins and new groups", async () => {
      const small = await startTestServer({
        backend,
        env: {
          ...noRateLimits,
          VEIL_COMMUNITY_MAX_GROUPS: "3",
          VEIL_ANNOUNCEMENT_MAX_MEMBERS: "5",
        },
      });
      try {
        const olga = await TestUser.register(small.url, { name: "Olga" });
        const c = (await olga.request("POST", "/v1/communities", { name: "Busy" })).body;
        const link = await olga.request("POST", `/v1/communities/${c.id}/invites`, {});
        const crowd: TestUser[] = [];
        for (let i = 0; i < 12; i++)
          crowd.push(await TestUser.register(small.url, { name: `Joiner ${i}` }));
        const joins = await Promise.all(
          crowd.map((u) => u.request("POST", `/v1/invites/${link.body.code}/join`)),
        );
        const outcome = (rs: Array<{ status: number; body: any }>) =>
          rs.map((r) => (r.status < 300 ? "ok" : r.body.error.code)).sort();
        expect(outcome(joins)).toEqual([
          ...Array(8).fill("community_member_limit"),
          ...Array(4).fill("ok"),
        ]);
        const groups = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            olga.request("POST", `/v1/communities/${c.id}/groups`, { name: `G${i}` }),
          ),
        );
        expect(outcome(groups)).toEqual([
          ...Array(5).fill("community_group_limit"),
          ...Array(3).fill("ok"),
        ]);
        const view = await olga.request("GET", `/v1/communities/${c.id}`);
        expect(view.body).toMatchObject({ memberCount: 5, groupCount: 3 });
        const db = small.server.context.database.db;
        const rows = await db
          .selectFrom("groups")
          .select("id")
          .where("community_id", "=", c.id)
          .where("kind", "=", "group")
          .execute();
        expect(rows).toHaveLength(3);
      } finally {
        await small.close();
      }
    });

    it("reaches the limits through requests, links and suggestions, and changes nothing there", async () => {
      const small = await startTestServer({
        backend,
        env: {
          ...noRateLimits,
          VEIL_COMMUNITY_MAX_GROUPS: "1",
          VEIL_ANNOUNCEMENT_MAX_MEMBERS: "3",
        },
      });
      try {
        const [olga, quin, ruth, sam, uma, vic, wes, xena] = [
          await person("Olga", small),
          await person("Quin", small),
          await person("Ruth", small),
          await person("Sam", small),
          await person("Uma", small),
          await person("Vic", small),
          await person("Wes", small),
          await person("Xena", small),
        ];
        const make = async (owner: Person, name: string) => {
          const r = await owner.user.request("POST", "/v1/communities", { name });
          expect(r.status).toBe(201);
          const code = (
            await owner.user.request("POST", `/v1/communities/${r.body.id}/invites`, {})
          ).body.code as string;
          return { id: r.body.id as string, code };
        };
        const join = (p: Person, code: string) =>
          p.user.request("POST", `/v1/invites/${code}/join`);

        // Members: an approved request that would pass the limit.
        const full = await make(olga, "Full");
        expect((await join(quin, full.code)).body.status).toBe("joined");
        await olga.user.request("PATCH", `/v1/communities/${full.id}`, { approveMembers: true });
        expect((await join(ruth, full.code)).body.status).toBe("pending");
        expect((await join(sam, full.code)).body.status).toBe("pending");
        const approve = (p: Person) =>
          olga.user.request("POST", `/v1/communities/${full.id}/requests/${p.user.id}/approve`);
        expect((await approve(ruth)).status).toBe(204);
        await unchanged(small, full.id, "community_member_limit", () => approve(sam));

        // Members: a linked group whose members would pass the limit.
        const linked = await make(olga, "Linked");
        for (const p of [uma, vic, wes])
          await olga.user.request("POST", "/v1/contacts", { phone: p.phone });
        const crowd = await olga.device.createGroup({ kind: "group" });
        expect((await olga.device.add(crowd, [uma.user.id, vic.user.id, wes.user.id])).status).toBe(
          201,
        );
        await unchanged(
          small,
          linked.id,
          "community_member_limit",
          () => olga.user.request("POST", `/v1/communities/${linked.id}/links`, { groupId: crowd }),
          [crowd],
        );
        expect((await olga.user.request("GET", `/v1/groups/${crowd}`)).body.communityId).toBeNull();

        // Groups: a member's suggestion waits; then the community fills up.
        const groups = await make(olga, "Groups");
        expect((await join(xena, groups.code)).body.status).toBe("joined");
        const xenas = await xena.device.createGroup({ kind: "group" });
        const suggested = await xena.user.request("POST", `/v1/communities/${groups.id}/links`, {
          groupId: xenas,
        });
        expect(suggested.body.status).toBe("suggested");
        const first = await olga.user.request("POST", `/v1/communities/${groups.id}/groups`, {
          name: "First",
        });
        expect(first.status).toBe(201);
        // Linking a group past the limit.
        const olgas = await olga.device.createGroup({ kind: "group" });
        await unchanged(
          small,
          groups.id,
          "community_group_limit",
          () => olga.user.request("POST", `/v1/communities/${groups.id}/links`, { groupId: olgas }),
          [olgas],
        );
        // Approving the suggestion past the limit: it stays a suggestion.
        await unchanged(
          small,
          groups.id,
          "community_group_limit",
          () =>
            olga.user.request("POST", `/v1/communities/${groups.id}/suggestions/${xenas}/approve`),
          [xenas],
        );
        expect(
          (await olga.user.request("GET", `/v1/communities/${groups.id}/suggestions`)).body
            .suggestions,
        ).toHaveLength(1);
      } finally {
        await small.close();
      }
    });

    it("revokes and expires invite links", async () => {
      const olga = await person("Olga");
      const jon = await person("Jon");
      const c = await community(olga);
      const link = await olga.user.request("POST", `/v1/communities/${c.id}/invites`, {});
      expect(
        (await olga.user.request("GET", `/v1/communities/${c.id}/invites`)).body.invites,
      ).toHaveLength(1);
      expect(
        (await olga.user.request("DELETE", `/v1/communities/${c.id}/invites/${link.body.code}`))
          .status,
      ).toBe(204);
      const revoked = await unchanged(t, c.id, "invite_invalid", () =>
        jon.user.request("POST", `/v1/invites/${link.body.code}/join`),
      );
      const unknown = await jon.user.request("POST", `/v1/invites/${"x".repeat(24)}/join`);
      expect(revoked.body).toEqual(unknown.body);
      expect((await jon.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      // An expired link: stored with a past expiry (the shortest allowed is a minute).
      const short = await olga.user.request("POST", `/v1/communities/${c.id}/invites`, {
        expiresInSeconds: 60,
      });
      const db = t.server.context.database.db;
      await db
        .updateTable("community_invites")
        .set({ expires_at: Date.now() - 1 })
        .where("code", "=", short.body.code)
        .execute();
      expect((await jon.user.request("GET", `/v1/invites/${short.body.code}`)).body).toEqual(
        unknown.body,
      );
      // Joining with it is refused as with an unknown link, and changes nothing.
      const expired = await unchanged(t, c.id, "invite_invalid", () =>
        jon.user.request("POST", `/v1/invites/${short.body.code}/join`),
      );
      expect(expired.body).toEqual(unknown.body);
      expect((await jon.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      // Members may not create links.
      const code = await invite(olga, c.id, jon);
      expect(code).toBeTruthy();
      expect(
        (await jon.user.request("POST", `/v1/communities/${c.id}/invites`, {})).body.error.code,
      ).toBe("not_community_admin");
    });

    it("gives the owner alone the roles, ownership and deactivation", async () => {
      const olga = await person("Olga");
      const kim = await person("Kim");
      const lou = await person("Lou");
      const c = await community(olga);
      await invite(olga, c.id, kim, lou);
      await olga.user.request("PUT", `/v1/communities/${c.id}/admins/${kim.user.id}`);
      const g = await group(olga, c.id, "Committee", [kim, lou]);
      // An admin cannot promote, remove another admin, or touch the owner: nothing changes.
      await unchanged(t, c.id, "not_community_owner", () =>
        kim.user.request("PUT", `/v1/communities/${c.id}/admins/${lou.user.id}`),
      );
      await unchanged(t, c.id, "not_community_owner", () =>
        kim.user.request("DELETE", `/v1/communities/${c.id}/members/${olga.user.id}`),
      );
      // A member cannot remove anyone, an admin least of all.
      await unchanged(t, c.id, "not_community_admin", () =>
        lou.user.request("DELETE", `/v1/communities/${c.id}/members/${kim.user.id}`),
      );
      await unchanged(t, c.id, "owner_cannot_leave", () =>
        olga.user.request("DELETE", `/v1/communities/${c.id}/members/${olga.user.id}`),
      );
      expect((await kim.user.request("GET", `/v1/groups/${g}`)).body.memberCount).toBe(3);
      // An admin removes a member: out of the community and its announcement group.
      expect(
        (await kim.user.request("DELETE", `/v1/communities/${c.id}/members/${lou.user.id}`)).status,
      ).toBe(204);
      expect((await lou.user.request("GET", `/v1/groups/${c.announcementGroupId}`)).status).toBe(
        404,
      );
      const louMail = await lou.user.request("GET", "/v1/mailbox");
      expect(
        louMail.body.items.some(
          (i: { kind: string; groupId: string }) =>
            i.kind === "removed_from_group" && i.groupId === c.announcementGroupId,
        ),
      ).toBe(true);
      // Ownership moves; the old owner stays an admin and may now leave.
      const moved = await olga.user.request("POST", `/v1/communities/${c.id}/owner`, {
        userId: kim.user.id,
      });
      expect(moved.body.role).toBe("admin");
      expect(
        (await olga.user.request("DELETE", `/v1/communities/${c.id}/members/${olga.user.id}`))
          .status,
      ).toBe(204);
      expect((await kim.user.request("DELETE", `/v1/communities/${c.id}`)).status).toBe(204);
      expect((await kim.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
    });

    it("deactivates: groups carry on alone, the announcement group ends, relations end", async () => {
      const olga = await person("Olga");
      const max = await person("Max");
      const ned = await person("Ned");
      const c = await community(olga);
      await invite(olga, c.id, max, ned);
      const g = await group(olga, c.id, "Walkers", [max]);
      expect(await profile(ned, olga)).toEqual({ id: olga.user.id, name: "Olga" });
      expect((await max.user.request("DELETE", `/v1/communities/${c.id}`)).body.error.code).toBe(
        "not_community_owner",
      );
      expect((await olga.user.request("DELETE", `/v1/communities/${c.id}`)).status).toBe(204);
      expect((await max.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);
      expect((await max.user.request("GET", "/v1/communities")).body.communities).toEqual([]);
      const walkers = await max.user.request("GET", `/v1/groups/${g}`);
      expect(walkers.body).toMatchObject({ communityId: null, name: "Walkers" });
      expect((await olga.device.send(g, "still here")).status).toBe(201);
      expect((await ned.user.request("GET", `/v1/groups/${c.announcementGroupId}`)).status).toBe(
        404,
      );
      expect((await ned.user.request("GET", `/v1/users/${olga.user.id}`)).status).toBe(404);
    });

    it("puts a member's new device in the announcement group, and takes a removed one out", async () => {
      const olga = await person("Olga");
      const pia = await person("Pia");
      const c = await community(olga);
      await invite(olga, c.id, pia);
      const second = await pia.user.addDevice();
      const asSecond = (method: string, path: string) =>
        http(t.url, method, path, { token: second.token });
      const mail = await asSecond("GET", "/v1/mailbox");
      expect(mail.body.items).toContainEqual(
        expect.objectContaining({ kind: "announcement_joined", groupId: c.announcementGroupId }),
      );
      expect((await asSecond("GET", `/v1/groups/${c.announcementGroupId}`)).status).toBe(200);
      const admins = await olga.user.request("GET", `/v1/groups/${c.announcementGroupId}`);
      expect(admins.body.members).toContainEqual({
        userId: pia.user.id,
        deviceId: second.deviceId,
      });
      expect(
        (await pia.user.request("DELETE", `/v1/devices/${second.deviceId}`)).status,
      ).toBeLessThan(300);
      const after = await olga.user.request("GET", `/v1/groups/${c.announcementGroupId}`);
      expect(after.body.members).not.toContainEqual(
        expect.objectContaining({ deviceId: second.deviceId }),
      );
    });

    it("hands an owner's communities on when the account is deleted, and keeps groups with an admin", async () => {
      const olga = await person("Olga");
      const una = await person("Una");
      const vic = await person("Vic");
      const c = await community(olga);
      await invite(olga, c.id, una, vic);
      await olga.user.request("PUT", `/v1/communities/${c.id}/admins/${vic.user.id}`);
      const g = await group(olga, c.id, "Choir", [una]);
      const alone = await community(olga, "Just me");
      expect((await olga.user.request("DELETE", "/v1/me")).status).toBe(204);
      // The admin inherits, even though Una joined first.
      const view = await vic.user.request("GET", `/v1/communities/${c.id}`);
      expect(view.body).toMatchObject({ role: "owner", memberCount: 2 });
      // The group keeps an admin: its remaining member.
      expect((await una.user.request("GET", `/v1/groups/${g}`)).body.admins).toEqual([una.user.id]);
      // A community with nobody left is gone.
      const db = t.server.context.database.db;
      const row = await db
        .selectFrom("communities")
        .select("deactivated_at")
        .where("id", "=", alone.id)
        .executeTakeFirstOrThrow();
      expect(row.deactivated_at).not.toBeNull();
    });

    it("sets and serves the community photo to members only", async () => {
      const olga = await person("Olga");
      const wes = await person("Wes");
      const xia = await person("Xia");
      const c = await community(olga);
      await invite(olga, c.id, wes);
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        randomBytes(32),
      ]);
      const put = await http(t.url, "PUT", `/v1/communities/${c.id}/photo`, {
        token: olga.user.token,
        raw: png,
        contentType: "image/png",
      });
      expect(put.status).toBe(200);
      expect(put.body.photo).toBe(`/v1/communities/${c.id}/photo`);
      const got = await http(t.url, "GET", `/v1/communities/${c.id}/photo`, {
        token: wes.user.token,
      });
      expect(got.status).toBe(200);
      expect(got.headers.get("content-type")).toBe("image/png");
      expect((await xia.user.request("GET", `/v1/communities/${c.id}/photo`)).body.error.code).toBe(
        "community_not_found",
      );
      const notImage = await http(t.url, "PUT", `/v1/communities/${c.id}/photo`, {
        token: olga.user.token,
        raw: Buffer.from("GIF89a not a png"),
        contentType: "image/png",
      });
      expect(notImage.body.error.code).toBe("photo_invalid");
      const byMember = await http(t.url, "PUT", `/v1/communities/${c.id}/photo`, {
        token: wes.user.token,
        raw: png,
        contentType: "image/png",
      });
      expect(byMember.body.error.code).toBe("not_community_admin");
      expect((await olga.user.request("DELETE", `/v1/communities/${c.id}/photo`)).body.photo).toBe(
        null,
      );
    });

    it("opens key channels only between a community admin and a member, and never as a relation", async () => {
      const olga = await person("Olga");
      const yan = await person("Yan");
      const zoe = await person("Zoe");
      const c = await community(olga);
      await invite(olga, c.id, yan, zoe);
      const channel = await olga.user.request("POST", "/v1/groups", {
        kind: "keys",
        peerUserId: yan.user.id,
      });
      expect(channel.status).toBe(201);
      expect(channel.body).toMatchObject({ kind: "keys", peerUserId: yan.user.id });
      // Asking again returns the same channel, from either side.
      const again = await yan.user.request("POST", "/v1/groups", {
        kind: "keys",
        peerUserId: olga.user.id,
      });
      expect(again.body).toMatchObject({ id: channel.body.id, existing: true });
      // Two plain members cannot open one (they cannot see each other at all).
      const members = await yan.user.request("POST", "/v1/groups", {
        kind: "keys",
        peerUserId: zoe.user.id,
      });
      expect(members.body.error.code).toBe("user_not_found");
      // With Yan's device in the channel, Olga still sees him as R6 (no R2 fields), Yan her as R5.
      await olga.device.adopt(channel.body.id);
      expect((await olga.device.add(channel.body.id, [yan.user.id])).status).toBe(201);
      await yan.user.request("PATCH", "/v1/me", { about: "private" });
      expect(await profile(olga, yan)).toEqual({ id: yan.user.id, name: "Yan", phone: yan.phone });
      expect(await profile(yan, olga)).toEqual({ id: olga.user.id, name: "Olga" });
    });

    it("tells admins of a new member, and members of a new admin, as the rules show them", async () => {
      const olga = await person("Olga");
      const pete = await person("Pete");
      const rosa = await person("Rosa");
      const c = await community(olga);
      await invite(olga, c.id, rosa);
      const olgaSocket = await olga.user.connect(t.wsUrl);
      const rosaSocket = await rosa.user.connect(t.wsUrl);
      try {
        await invite(olga, c.id, pete);
        const joined = await olgaSocket.next(
          (f) => f.type === "profile.updated" && f.profile.id === pete.user.id,
        );
        // R6: id, name, number.
        expect(joined.type === "profile.updated" && joined.profile).toEqual({
          id: pete.user.id,
          name: "Pete",
          phone: pete.phone,
        });
        await olga.user.request("PUT", `/v1/communities/${c.id}/admins/${pete.user.id}`);
        const promoted = await rosaSocket.next(
          (f) => f.type === "profile.updated" && f.profile.id === pete.user.id,
        );
        // R5: id and name, never the number.
        expect(promoted.type === "profile.updated" && promoted.profile).toEqual({
          id: pete.user.id,
          name: "Pete",
        });
      } finally {
        olgaSocket.close();
        rosaSocket.close();
      }
    });

    it("enforces the limits with clear errors and no change", async () => {
      const small = await startTestServer({
        backend,
        env: {
          ...noRateLimits,
          VEIL_COMMUNITY_MAX_GROUPS: "1",
          VEIL_GROUP_MAX_MEMBERS: "2",
          VEIL_ANNOUNCEMENT_MAX_MEMBERS: "3",
        },
      });
      try {
        const [olga, quin, ruth, sam] = [
          await person("Olga", small),
          await person("Quin", small),
          await person("Ruth", small),
          await person("Sam", small),
        ];
        const c = (await olga.user.request("POST", "/v1/communities", { name: "Tiny" })).body;
        const link = await olga.user.request("POST", `/v1/communities/${c.id}/invites`, {});
        for (const p of [quin, ruth]) {
          await p.user.request("POST", `/v1/invites/${link.body.code}/join`);
        }
        await unchanged(small, c.id, "community_member_limit", () =>
          sam.user.request("POST", `/v1/invites/${link.body.code}/join`),
        );
        expect((await sam.user.request("GET", `/v1/communities/${c.id}`)).status).toBe(404);

        const g = await olga.user.request("POST", `/v1/communities/${c.id}/groups`, { name: "A" });
        expect(g.status).toBe(201);
        await unchanged(small, c.id, "community_group_limit", () =>
          olga.user.request("POST", `/v1/communities/${c.id}/groups`, { name: "B" }),
        );
        expect(
          (await olga.user.request("GET", `/v1/communities/${c.id}/groups`)).body.groups,
        ).toHaveLength(1);

        await olga.device.adopt(g.body.id);
        expect((await olga.device.add(g.body.id, [quin.user.id])).status).toBe(201);
        await unchanged(small, c.id, "group_member_limit", () =>
          olga.device.add(g.body.id, [ruth.user.id]),
        );
        expect((await olga.user.request("GET", `/v1/groups/${g.body.id}`)).body.memberCount).toBe(
          2,
        );
      } finally {
        await small.close();
      }
    });

    it("answers bad input with registered codes and never a 5xx", async () => {
      const olga = await person("Olga");
      const c = await community(olga);
      await invite(olga, c.id);
      const before = await snapshot(t, c.id);
      const bad: Array<[string, string, unknown]> = [
        ["POST", "/v1/communities", {}],
        ["POST", "/v1/communities", { name: "   " }],
        ["POST", "/v1/communities", { name: "x".repeat(101) }],
        ["PATCH", `/v1/communities/${c.id}`, {}],
        ["PATCH", `/v1/communities/${c.id}`, { groupAddPolicy: "everyone" }],
        ["POST", `/v1/communities/${c.id}/invites`, { expiresInSeconds: 1 }],
        ["POST", `/v1/communities/${c.id}/links`, { groupId: "g_nope" }],
        ["POST", `/v1/communities/${c.id}/owner`, { userId: "u_nobody" }],
        ["PUT", `/v1/communities/${c.id}/admins/u_nobody`, undefined],
        ["GET", "/v1/invites/short", undefined],
        ["PATCH", `/v1/groups/${c.announcementGroupId}/info`, { name: "x" }],
        ["DELETE", `/v1/groups/${c.announcementGroupId}/members/me`, undefined],
        ["PATCH", `/v1/groups/${c.announcementGroupId}/settings`, { sendPolicy: "all" }],
      ];
      for (const [method, path, body] of bad) {
        const r = await olga.user.request(method, path, body);
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        expect(Object.keys(errorRegistry)).toContain(r.body.error.code);
      }
      // Nothing changed.
      expect(await snapshot(t, c.id)).toEqual(before);
      const view = await olga.user.request("GET", `/v1/communities/${c.id}`);
      expect(view.body).toMatchObject({
        name: "Neighbours",
        role: "owner",
        groupAddPolicy: "admins",
      });
    });
  });
}
