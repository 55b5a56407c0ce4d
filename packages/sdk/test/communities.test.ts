import { Type } from "@sinclair/typebox";
import { OwnProfile, type VisibleProfile } from "@veil/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVeilError } from "./helpers/bytes.js";
import {
  backends,
  eventually,
  noRateLimits,
  type Person,
  person,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

/** What a call fails with: its VeilError code (and the error, to compare bodies). */
async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isVeilError(err)) return err.code;
    throw err;
  }
  throw new Error("it did not fail");
}

const noUser = "u_0000000000000000000000";
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK communities [${backend}]`, () => {
    let t: TestServer;
    const people: Person[] = [];
    const usernames = new Map<Person, string>();
    let joined = 0;
    const join = async (name: string, server?: TestServer) => {
      const username = `${name.toLowerCase()}${joined++}`;
      const p = await person(server ?? t, name, { username });
      people.push(p);
      usernames.set(p, username);
      return p;
    };
    const everyone = (names: string[]) => Promise.all(names.map((n) => join(n)));
    const setAbout = (p: Person, about: string) =>
      p.client.api.request("PATCH", "/v1/me", { body: { about }, schema: Type.Unknown() });
    const setPrivacy = (p: Person, settings: Record<string, string>) =>
      p.client.api.request("PATCH", "/v1/me/privacy", { body: settings, schema: Type.Unknown() });
    /** Sets a photo; its id, as profiles name it. */
    const setPhoto = async (p: Person) =>
      (
        await p.client.api.request("PUT", "/v1/me/photo", {
          bytes: png,
          contentType: "image/png",
          schema: OwnProfile,
        })
      ).photo as string;
    /** Another user's photo bytes, fetched as `viewer` (the privacy module decides). */
    const photoOf = (viewer: Person, subject: Person) =>
      (viewer.client.api as unknown as { download(path: string): Promise<Uint8Array> }).download(
        `/v1/users/${subject.userId}/photo`,
      );

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const p of people) await p.client.stop();
      await t?.close();
    });

    it("shows each member exactly what R3 to R6 allow, across three groups of one community", async () => {
      const [olga, ana, ben, cid, dee] = await everyone(["Olga", "Ana", "Ben", "Cid", "Dee"]);
      if (!olga || !ana || !ben || !cid || !dee) throw new Error("people");
      const all = [olga, ana, ben, cid, dee];
      const photos = new Map<Person, string>();
      for (const p of all) {
        await setAbout(p, `about ${p.name}`);
        photos.set(p, await setPhoto(p));
      }
      // Cid hides his number and his about from everyone but contacts.
      await setPrivacy(cid, { phone: "nobody", about: "contacts" });
      // Ana shows her photo to her contacts only, and Ben is one (her presence too, by default).
      await setPrivacy(ana, { photo: "contacts" });
      await ana.client.api.addContact({ phone: ben.phone });
      // Ben shows his photo to nobody; Dee shows her presence to everyone.
      await setPrivacy(ben, { photo: "nobody" });
      await setPrivacy(dee, { presence: "everyone" });
      const c = await olga.client.createCommunity({ name: "Riverside", description: "Our street" });
      const { code } = await olga.client.createInvite(c.id);
      for (const p of [ana, ben, cid, dee]) await p.client.joinByInvite(code);

      // The admin (R6 sees everyone) makes the groups, and leaves the first two.
      const g1 = await olga.client.createCommunityGroup(c.id, { name: "Gardening" }, [
        ana.userId,
        ben.userId,
        cid.userId,
      ]);
      const g2 = await olga.client.createCommunityGroup(c.id, { name: "Chess" }, [
        ben.userId,
        dee.userId,
      ]);
      const g3 = await olga.client.createCommunityGroup(c.id, { name: "Board" }, [cid.userId]);
      const members = {
        [g1.groupId]: [ana, ben, cid],
        [g2.groupId]: [ben, dee],
        [g3.groupId]: [olga, cid],
      };
      for (const [groupId, in_] of Object.entries(members)) {
        for (const p of in_) if (p !== olga) await p.client.waitForChat(groupId);
      }
      await olga.client.leaveGroup(g1.groupId);
      await olga.client.leaveGroup(g2.groupId);
      expect((await olga.client.chat(g1.groupId))?.active).toBe(false);
      // Blocks (B), once they see each other: Cid blocks Ana (a co-member, R3), Dee her admin (R6).
      await cid.client.api.request("PUT", `/v1/blocks/${ana.userId}`, { schema: Type.Void() });
      await dee.client.api.request("PUT", `/v1/blocks/${olga.userId}`, { schema: Type.Void() });
      // Announcements and reactions make key channels: they must create no relation.
      const post = await olga.client.announce(c.id, "Welcome, neighbours");
      for (const p of [ana, ben, cid, dee]) {
        await eventually(() =>
          expect(p.seen.texts(c.announcementGroupId)).toEqual(["Welcome, neighbours"]),
        );
      }
      await dee.client.react(c.announcementGroupId, post.id, "👋");

      const full = (p: Person, extra: Partial<VisibleProfile> = {}): VisibleProfile => ({
        id: p.userId,
        name: p.name,
        phone: p.phone,
        username: usernames.get(p),
        about: `about ${p.name}`,
        ...extra,
      });
      type Want = VisibleProfile | "user_not_found";
      const photo = (s: Person) => ({ photo: photos.get(s) });
      const online = { presence: expect.objectContaining({ online: expect.any(Boolean) }) };
      // R3: id, name, number, username; photo, about and presence as each one's settings allow.
      const r3 = (s: Person, extra: Partial<VisibleProfile> = {}): Want =>
        s === cid ? full(s, { about: undefined, ...extra }) : full(s, extra);
      // R5 and R6: id and name (R6: the number too); the photo if allowed, never the rest.
      const r5 = (s: Person, extra: Partial<VisibleProfile> = {}): Want => ({
        id: s.userId,
        name: s.name,
        ...extra,
      });
      const r6 = (s: Person, extra: Partial<VisibleProfile> = {}): Want => ({
        id: s.userId,
        name: s.name,
        phone: s.phone,
        ...extra,
      });
      const r3r5 = r3; // R3 grants all that R5 does, and more
      const r3r6 = r3; // likewise R6 (the number, whatever Cid's setting)
      // B: whoever blocked the viewer shows at most the id and the name a rule grants.
      const blocked = (s: Person): Want => ({ id: s.userId, name: s.name });
      const none = "user_not_found";
      // Viewer, subject, what the viewer sees: R3 in a shared group, R4 nothing, R5 the admin, R6 the members.
      const rules: Array<[Person, Person, Want]> = [
        [ana, olga, r5(olga, photo(olga))],
        [ana, ben, r3(ben)], // Ben shows his photo to nobody
        [ana, cid, blocked(cid)], // R3, but Cid blocked Ana
        [ana, dee, none],
        [ben, olga, r5(olga, photo(olga))],
        [ben, ana, r3(ana, { ...photo(ana), ...online })], // Ben is Ana's contact
        [ben, cid, r3(cid, photo(cid))],
        [ben, dee, r3(dee, { ...photo(dee), ...online })], // Dee's presence: everyone
        [cid, olga, r3r5(olga, photo(olga))],
        [cid, ana, r3(ana)], // not Ana's contact: no photo; his block does not hide her from him
        [cid, ben, r3(ben)],
        [cid, dee, none],
        [dee, olga, r5(olga, photo(olga))], // blocking Olga hides Dee from Olga, not Olga from Dee
        [dee, ana, none],
        [dee, ben, r3(ben)],
        [dee, cid, none],
        [olga, ana, r6(ana)], // Ana's photo is for her contacts
        [olga, ben, r6(ben)],
        [olga, cid, r3r6(cid, photo(cid))],
        [olga, dee, blocked(dee)], // R6, but Dee blocked Olga: not even the number
      ];
      const strip = (p: Want) =>
        typeof p === "string"
          ? p
          : Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
      const nobody = await failure(ana.client.api.user(noUser));
      for (const [viewer, subject, want] of rules) {
        const got = await viewer.client.api.user(subject.userId).catch((e: unknown) => {
          if (isVeilError(e)) return e.code;
          throw e;
        });
        expect(got, `${viewer.name} sees ${subject.name}`).toEqual(strip(want));
        // The photo itself: served exactly when the profile names it.
        const served = await photoOf(viewer, subject).catch((e: unknown) => {
          if (isVeilError(e)) return e.code;
          throw e;
        });
        expect(served, `${viewer.name} gets ${subject.name}'s photo`).toEqual(
          typeof want !== "string" && want.photo ? png : "photo_not_found",
        );
        if (want === none) {
          // Exactly as for someone who does not exist, through every route.
          expect(got).toBe(nobody);
          expect(await failure(viewer.client.api.claimKeyPackages([subject.userId]))).toBe(
            await failure(viewer.client.api.claimKeyPackages([noUser])),
          );
          expect(
            await failure(
              viewer.client.api.createGroup({ kind: "keys", peerUserId: subject.userId }),
            ),
          ).toBe(none);
        }
      }

      // Group member lists: to members only, and only the group's members.
      for (const [groupId, in_] of Object.entries(members)) {
        const ids = new Set(in_.map((p) => p.userId));
        for (const viewer of all) {
          if (in_.includes(viewer)) {
            const info = await viewer.client.groupInfo(groupId);
            expect(new Set(info.members.map((m) => m.userId))).toEqual(ids);
            expect(info.communityId).toBe(c.id);
          } else {
            expect(await failure(viewer.client.groupInfo(groupId))).toBe(
              await failure(viewer.client.groupInfo("g_doesnotexist00000000000")),
            );
          }
        }
      }
      // The announcement group: a count for members, the list for the admin (R6).
      for (const viewer of [ana, ben, cid, dee]) {
        const info = await viewer.client.groupInfo(c.announcementGroupId);
        expect(info).toMatchObject({ kind: "announcement", memberCount: 5, members: [] });
        expect(info.admins).toEqual([olga.userId]);
      }
      const asAdmin = await olga.client.groupInfo(c.announcementGroupId);
      expect(new Set(asAdmin.members.map((m) => m.userId))).toEqual(
        new Set(all.map((p) => p.userId)),
      );

      // The community: members see the count and the admins as R5 (R3 too for Cid) shows them.
      for (const viewer of [ana, ben, cid, dee]) {
        const view = await viewer.client.community(c.id);
        expect(view).toMatchObject({ role: "member", memberCount: 5, groupCount: 3 });
        expect(view.admins).toEqual(
          [viewer === cid ? r3r5(olga, photo(olga)) : r5(olga, photo(olga))].map(strip),
        );
        expect(await failure(viewer.client.communityMembers(c.id))).toBe("not_community_admin");
        const directory = await viewer.client.groupDirectory(c.id);
        expect(directory.map((d) => [d.name, d.size, d.joined])).toEqual([
          ["Gardening", 3, [ana, ben, cid].includes(viewer)],
          ["Chess", 2, [ben, dee].includes(viewer)],
          ["Board", 2, viewer === cid],
        ]);
        const text = JSON.stringify(directory);
        for (const p of all) expect(text).not.toContain(p.userId);
      }
      const list = await olga.client.communityMembers(c.id);
      expect(list.map((m) => [m.profile, m.role])).toEqual([
        [{ ...full(olga, photo(olga)), presence: expect.anything() }, "owner"], // R1: herself
        [r6(ana), "member"],
        [r6(ben), "member"],
        [strip(r3r6(cid, photo(cid))), "member"],
        [blocked(dee), "member"],
      ]);
      // Chats: groups and the announcement group; key channels never.
      expect((await dee.client.chats()).map((x) => x.kind).sort()).toEqual([
        "announcement",
        "group",
      ]);
      for (const p of all) expect(p.seen.errors).toEqual([]);
    });

    it("runs requests to join a community and a group, with approvals and refusals", async () => {
      const [olga, ana, ivy, jon] = await everyone(["Olga", "Ana", "Ivy", "Jon"]);
      if (!olga || !ana || !ivy || !jon) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Book club" });
      await olga.client.updateCommunity(c.id, { approveMembers: true });
      const { code } = await olga.client.createInvite(c.id);
      expect(await ivy.client.previewInvite(code)).toEqual({
        communityId: c.id,
        name: "Book club",
        description: "",
        memberCount: 1,
        approveMembers: true,
      });
      // The owner's device hears of the first request, as a request to join the community.
      const heard = new Promise<unknown>((resolve) => {
        const off = olga.client.on("join-request", (event) => {
          if (event.communityId) {
            off();
            resolve(event);
          }
        });
      });
      for (const p of [ana, ivy, jon]) {
        expect(await p.client.joinByInvite(code)).toEqual({ status: "pending", communityId: c.id });
      }
      expect(await heard).toEqual({ groupId: c.announcementGroupId, communityId: c.id });
      expect(await failure(ivy.client.community(c.id))).toBe("community_not_found");
      const asked = await olga.client.communityRequests(c.id);
      expect(asked.map((r) => [r.userId, r.name])).toEqual([
        [ana.userId, "Ana"],
        [ivy.userId, "Ivy"],
        [jon.userId, "Jon"],
      ]);
      await olga.client.approveCommunityRequest(c.id, ana.userId);
      await olga.client.approveCommunityRequest(c.id, ivy.userId);
      await olga.client.declineCommunityRequest(c.id, jon.userId);
      expect(await failure(olga.client.approveCommunityRequest(c.id, jon.userId))).toBe(
        "request_not_found",
      );
      // Let in, their devices read the announcement group from now on.
      for (const p of [ana, ivy]) {
        await eventually(() =>
          expect(p.seen.community).toContainEqual({
            communityId: c.id,
            announcementGroupId: c.announcementGroupId,
            change: "joined",
          }),
        );
      }
      expect(await failure(jon.client.community(c.id))).toBe("community_not_found");

      // A group that needs approval: Ivy asks, its admin hears of it and lets her in.
      const g = await olga.client.createCommunityGroup(c.id, { name: "Novels" }, [ana.userId]);
      await olga.client.updateGroupSettings(g.groupId, { approveMembers: true });
      await ana.client.waitForChat(g.groupId);
      await ivy.client.requestToJoinGroup(g.groupId);
      await eventually(() => expect(olga.seen.joinRequests).toContainEqual({ groupId: g.groupId }));
      expect(ana.seen.joinRequests).toEqual([]); // approval on: admins only
      expect((await ivy.client.groupDirectory(c.id))[0]).toMatchObject({
        requested: true,
        joined: false,
      });
      expect(await failure(ana.client.groupRequests(g.groupId))).toBe("not_group_admin");
      const requests = await olga.client.groupRequests(g.groupId);
      expect(requests.map((r) => [r.userId, r.name])).toEqual([[ivy.userId, "Ivy"]]);
      // A member may not add her while approval is on; the admin may. The member is not
      // one who decides, so Ivy's request does not even show Ivy to her (she is a stranger).
      expect(await failure(ana.client.approveGroupRequest(g.groupId, ivy.userId))).toBe(
        "user_not_found",
      );
      await olga.client.approveGroupRequest(g.groupId, ivy.userId);
      await ivy.client.waitForChat(g.groupId);
      expect(await olga.client.groupRequests(g.groupId)).toEqual([]);
      await ana.client.sendText(g.groupId, "welcome Ivy");
      await eventually(() => expect(ivy.seen.texts(g.groupId)).toEqual(["welcome Ivy"]));
      // Now Ivy and Ana share a group (R3).
      expect((await ivy.client.api.user(ana.userId)).phone).toBe(ana.phone);

      // A second request is turned down, and a withdrawn one is gone.
      const eli = await join("Eli");
      await olga.client.updateCommunity(c.id, { approveMembers: false });
      expect((await eli.client.joinByInvite(code)).status).toBe("joined");
      await eli.client.requestToJoinGroup(g.groupId);
      await olga.client.declineGroupRequest(g.groupId, eli.userId);
      expect(await failure(olga.client.declineGroupRequest(g.groupId, eli.userId))).toBe(
        "request_not_found",
      );
      await eli.client.requestToJoinGroup(g.groupId);
      await eli.client.declineGroupRequest(g.groupId, eli.userId);
      expect(await olga.client.groupRequests(g.groupId)).toEqual([]);
      // Someone outside the community cannot even ask.
      expect(await failure(jon.client.requestToJoinGroup(g.groupId))).toBe("group_not_found");
      for (const p of [olga, ana, ivy, eli]) expect(p.seen.errors).toEqual([]);
    });

    it("links, suggests and unlinks groups; edits group info and settings", async () => {
      const [olga, gus, hal] = await everyone(["Olga", "Gus", "Hal"]);
      if (!olga || !gus || !hal) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Cyclists" });
      await gus.client.joinByInvite((await olga.client.createInvite(c.id)).code);
      // Gus runs a standalone group with Hal and offers it: only admins add groups, so it is suggested.
      await gus.client.api.addContact({ phone: hal.phone });
      const g = await gus.client.createGroup([hal.userId]);
      await hal.client.waitForChat(g.groupId);
      expect((await gus.client.updateGroupInfo(g.groupId, { name: "Sunday rides" })).name).toBe(
        "Sunday rides",
      );
      expect(await gus.client.linkGroup(c.id, g.groupId)).toBe("suggested");
      expect(await failure(gus.client.groupSuggestions(c.id))).toBe("not_community_admin");
      const suggestions = await olga.client.groupSuggestions(c.id);
      expect(suggestions.map((s) => [s.groupId, s.name, s.size, s.suggestedBy.id])).toEqual([
        [g.groupId, "Sunday rides", 2, gus.userId],
      ]);
      await olga.client.approveGroupSuggestion(c.id, g.groupId);
      // Hal came in with the group: a member of the community, reading its announcements.
      await eventually(() =>
        expect(hal.seen.community).toContainEqual(
          expect.objectContaining({ communityId: c.id, change: "joined" }),
        ),
      );
      expect((await hal.client.community(c.id)).groupCount).toBe(1);
      expect((await olga.client.groupDirectory(c.id)).map((d) => d.groupId)).toEqual([g.groupId]);
      expect(await failure(gus.client.linkGroup(c.id, g.groupId))).toBe("group_in_community");

      // Settings and info: the group's admin decides.
      await gus.client.updateGroupSettings(g.groupId, {
        infoPolicy: "admins",
        sendPolicy: "admins",
      });
      expect(await failure(hal.client.updateGroupInfo(g.groupId, { name: "Mine" }))).toBe(
        "not_group_admin",
      );
      await gus.client.setGroupAdmin(g.groupId, hal.userId, true);
      expect(
        (await hal.client.updateGroupInfo(g.groupId, { description: "Slow" })).description,
      ).toBe("Slow");

      // Unlinked by its admin, the group carries on alone.
      await gus.client.unlinkGroup(c.id, g.groupId);
      expect((await gus.client.groupInfo(g.groupId)).communityId).toBeNull();
      expect(await olga.client.groupDirectory(c.id)).toEqual([]);
      await gus.client.sendText(g.groupId, "still riding");
      await eventually(() => expect(hal.seen.texts(g.groupId)).toEqual(["still riding"]));
      // A second suggestion, turned down.
      const other = await gus.client.createGroup([]);
      expect(await gus.client.linkGroup(c.id, other.groupId)).toBe("suggested");
      await olga.client.declineGroupSuggestion(c.id, other.groupId);
      expect(await olga.client.groupSuggestions(c.id)).toEqual([]);
      for (const p of [olga, gus, hal]) expect(p.seen.errors).toEqual([]);
    });

    it("deactivates: the announcement group ends, groups carry on, relations end", async () => {
      const [olga, max, ned] = await everyone(["Olga", "Max", "Ned"]);
      if (!olga || !max || !ned) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Walkers" });
      const { code } = await olga.client.createInvite(c.id);
      for (const p of [max, ned]) await p.client.joinByInvite(code);
      const g = await olga.client.createCommunityGroup(c.id, { name: "Morning walk" }, [
        max.userId,
      ]);
      await max.client.waitForChat(g.groupId);
      await olga.client.announce(c.id, "last call");
      await eventually(() => expect(ned.seen.texts(c.announcementGroupId)).toEqual(["last call"]));
      expect(await failure(max.client.deactivateCommunity(c.id))).toBe("not_community_owner");
      expect((await ned.client.api.user(olga.userId)).name).toBe("Olga");

      await olga.client.deactivateCommunity(c.id);
      for (const p of [max, ned]) {
        await eventually(() =>
          expect(p.seen.community).toContainEqual({
            communityId: c.id,
            announcementGroupId: c.announcementGroupId,
            change: "left",
          }),
        );
        expect(await p.client.communities()).toEqual([]);
        expect(await p.client.chat(c.announcementGroupId)).toMatchObject({
          kind: "announcement",
          active: false,
        });
        expect(await failure(p.client.community(c.id))).toBe("community_not_found");
      }
      expect(await failure(olga.client.announce(c.announcementGroupId, "anyone?"))).toBe(
        "group_left",
      );
      // The group carries on alone; Ned, who shared only the community, no longer sees Olga.
      expect((await max.client.groupInfo(g.groupId)).communityId).toBeNull();
      await olga.client.sendText(g.groupId, "still walking");
      await eventually(() => expect(max.seen.texts(g.groupId)).toEqual(["still walking"]));
      expect(await failure(ned.client.api.user(olga.userId))).toBe("user_not_found");
      for (const p of [olga, max, ned]) expect(p.seen.errors).toEqual([]);
    });

    it("leaves a community: out of its announcement group and its groups", async () => {
      const [olga, pia] = await everyone(["Olga", "Pia"]);
      if (!olga || !pia) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Choir" });
      await pia.client.joinByInvite((await olga.client.createInvite(c.id)).code);
      const g = await olga.client.createCommunityGroup(c.id, { name: "Altos" }, [pia.userId]);
      await pia.client.waitForChat(g.groupId);
      expect(await failure(olga.client.leaveCommunity(c.id))).toBe("owner_cannot_leave");
      await pia.client.leaveCommunity(c.id);
      expect(await pia.client.chat(c.announcementGroupId)).toMatchObject({ active: false });
      await eventually(async () => expect((await pia.client.chat(g.groupId))?.active).toBe(false));
      expect((await olga.client.community(c.id)).memberCount).toBe(1);
      // Olga's device commits Pia's removal; the next post goes with a new key to nobody but Olga.
      await eventually(async () =>
        expect((await olga.client.groupInfo(g.groupId)).memberCount).toBe(1),
      );
      await olga.client.announce(c.id, "after Pia");
      expect(pia.seen.texts(c.announcementGroupId)).toEqual([]);
      for (const p of [olga, pia]) expect(p.seen.errors).toEqual([]);
    });

    it("surfaces the limits and bad input as VeilError codes, changing nothing", async () => {
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
          await join("Olga", small),
          await join("Quin", small),
          await join("Ruth", small),
          await join("Sam", small),
        ];
        const c = await olga.client.createCommunity({ name: "Tiny" });
        expect(c.limits).toEqual({ groups: 1, groupMembers: 2, announcementMembers: 3 });
        const { code } = await olga.client.createInvite(c.id);
        for (const p of [quin, ruth]) await p.client.joinByInvite(code);
        expect(await failure(sam.client.joinByInvite(code))).toBe("community_member_limit");
        expect(await failure(sam.client.community(c.id))).toBe("community_not_found");

        const g = await olga.client.createCommunityGroup(c.id, { name: "A" }, [quin.userId]);
        expect(await failure(olga.client.createCommunityGroup(c.id, { name: "B" }))).toBe(
          "community_group_limit",
        );
        expect(await olga.client.groupDirectory(c.id)).toHaveLength(1);
        expect(await failure(olga.client.addMembers(g.groupId, [ruth.userId]))).toBe(
          "group_member_limit",
        );
        expect((await olga.client.groupInfo(g.groupId)).memberCount).toBe(2);

        for (const bad of [
          () => olga.client.createCommunity({ name: "   " }),
          () => olga.client.updateCommunity(c.id, {}),
          () => olga.client.createInvite(c.id, { expiresInSeconds: 1 }),
          () => olga.client.updateGroupInfo(c.announcementGroupId, { name: "x" }),
          () => olga.client.previewInvite("short"),
          () => olga.client.setCommunityPhoto(c.id, new Uint8Array([1, 2, 3, 4])),
        ]) {
          const code = await failure(bad());
          expect([
            "validation_failed",
            "wrong_group_kind",
            "photo_invalid",
            "unsupported_media_type",
          ]).toContain(code);
        }
        expect((await olga.client.community(c.id)).name).toBe("Tiny");
        for (const p of [olga, quin, ruth, sam]) expect(p.seen.errors).toEqual([]);
      } finally {
        for (const p of people.splice(-4)) await p.client.stop();
        await small.close();
      }
    });

    it("refuses a revoked invite link exactly as an unknown one, letting nobody in", async () => {
      const [olga, ana, ben] = await everyone(["Olga", "Ana", "Ben"]);
      if (!olga || !ana || !ben) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Allotments" });
      const { code } = await olga.client.createInvite(c.id);
      expect((await ana.client.joinByInvite(code)).status).toBe("joined");
      await olga.client.revokeInvite(c.id, code);
      expect(await olga.client.invites(c.id)).toEqual([]);

      // Ben holds the revoked link: preview and join fail as for a code that never was.
      const unknown = "x".repeat(24);
      expect(await failure(ben.client.previewInvite(code))).toBe("invite_invalid");
      expect(await failure(ben.client.joinByInvite(code))).toBe("invite_invalid");
      expect(await failure(ben.client.joinByInvite(unknown))).toBe("invite_invalid");
      const message = (work: Promise<unknown>) =>
        work.then(
          () => "it did not fail",
          (err: Error) => err.message,
        );
      expect(await message(ben.client.joinByInvite(code))).toBe(
        await message(ben.client.joinByInvite(unknown)),
      );
      // Nothing changed: Ben is not in, not even waiting; the community is as it was.
      expect(await ben.client.communities()).toEqual([]);
      expect(await failure(ben.client.community(c.id))).toBe("community_not_found");
      expect(await olga.client.communityRequests(c.id)).toEqual([]);
      expect((await olga.client.community(c.id)).memberCount).toBe(2);
      expect((await ana.client.community(c.id)).role).toBe("member");
      for (const p of [olga, ana, ben]) expect(p.seen.errors).toEqual([]);
    });

    it("sets, reads and removes the community photo", async () => {
      const [olga, tom] = await everyone(["Olga", "Tom"]);
      if (!olga || !tom) throw new Error("people");
      const c = await olga.client.createCommunity({ name: "Photos" });
      await tom.client.joinByInvite((await olga.client.createInvite(c.id)).code);
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
      expect((await olga.client.setCommunityPhoto(c.id, png)).photo).toBe(
        `/v1/communities/${c.id}/photo`,
      );
      expect(await tom.client.communityPhoto(c.id)).toEqual(png);
      expect(await failure(tom.client.setCommunityPhoto(c.id, png))).toBe("not_community_admin");
      expect((await olga.client.setCommunityPhoto(c.id, null)).photo).toBeNull();
      expect(await failure(tom.client.communityPhoto(c.id))).toBe("photo_not_found");
      // Ownership moves; the old owner stays an admin.
      expect((await olga.client.transferOwnership(c.id, tom.userId)).role).toBe("admin");
      expect((await tom.client.community(c.id)).role).toBe("owner");
      await tom.client.revokeInvite(c.id, (await tom.client.invites(c.id))[0]?.code as string);
      expect(await tom.client.invites(c.id)).toEqual([]);
    });
  });
}
