import { describe, expect, it } from "vitest";
import { cliSuite } from "./helpers/cli.js";
import { backends, nextPhone } from "./helpers/harness.js";

// The command line is a client of the server: one backend is enough here (each
// process costs a start-up). The server's and the SDK's suites run on both.
for (const { backend, available } of backends.filter((b) => b.backend === "sqlite")) {
  describe.skipIf(!available)(`veil-chat group commands [${backend}]`, () => {
    const { run, register } = cliSuite(backend, "veil-chat-groups-");

    it("creates a standalone group, adds and removes members, posts both ways, links it", async () => {
      const phones = new Map<string, string>();
      const ids = new Map<string, string>();
      for (const name of ["Olga", "Ana", "Ben"]) {
        const phone = nextPhone();
        await register(name.toLowerCase(), name, phone);
        phones.set(name, phone);
        const whoami = await run(name.toLowerCase(), ["whoami"]);
        ids.set(name, whoami.match(/user: +(u_[A-Za-z0-9_-]+)/)?.[1] as string);
      }
      const phoneOf = (name: string) => phones.get(name) as string;
      const idOf = (name: string) => ids.get(name) as string;
      const group = (profile: string, ...args: string[]) => run(profile, ["group", ...args]);

      // Olga makes a group of her own with Ana (by number): no community.
      const created = await group(
        "olga",
        ...["create", "Sunday rides", phoneOf("Ana"), "-d", "Slow pace"],
      );
      expect(created).toContain('Created group "Sunday rides"');
      expect(created).toContain("with Ana.");
      const groupId = created.match(/\((g_[A-Za-z0-9_-]+)\)/)?.[1] as string;
      expect(groupId).toBeTruthy();
      expect(await group("ana", "list")).toContain(`${groupId}  Sunday rides  (2 members)`);
      const info = await group("ana", "info", "sunday rides");
      expect(info).toContain("Slow pace");
      expect(info).toContain("community: none");
      expect(info).toMatch(/admins: {4}Olga\n/);

      // Olga adds Ben; everyone posts and reads, each way.
      expect(await group("olga", "add", "Sunday rides", phoneOf("Ben"))).toContain(
        "Added Ben to Sunday rides.",
      );
      expect(await group("ben", "list")).toContain(`${groupId}  Sunday rides  (3 members)`);
      expect(await group("ana", "send", "Sunday rides", "Meet", "at", "nine")).toContain(
        "sent to Sunday rides",
      );
      expect(await group("olga", "read", "Sunday rides")).toContain("Ana: Meet at nine");
      expect(await group("olga", "send", groupId, "See", "you", "there")).toContain(
        `sent to ${groupId}`,
      );
      const anaReads = await group("ana", "read", "Sunday rides");
      expect(anaReads).toContain("me: Meet at nine\nOlga: See you there");
      const benReads = await group("ben", "read", "sunday rides");
      expect(benReads).toContain("Ana: Meet at nine\nOlga: See you there");

      // A member may not remove the admin: a registered code, and Olga is still in.
      expect(await group("ana", "remove", "Sunday rides", idOf("Olga")).catch(String)).toContain(
        "not_group_admin",
      );
      expect(await group("olga", "list")).toContain(`${groupId}  Sunday rides  (3 members)`);

      // The admin removes Ben: he is out, and what is said afterwards never reaches him.
      expect(await group("olga", "remove", "Sunday rides", idOf("Ben"))).toContain(
        "Removed Ben from Sunday rides.",
      );
      await group("olga", "send", "Sunday rides", "Ben", "moved", "away");
      expect(await group("ana", "read", "Sunday rides")).toContain("Olga: Ben moved away");
      expect(await group("ben", "list")).toContain("You are in no group yet.");
      // He keeps what he had; sharing no group with them now, he sees their ids, not names.
      const benAfter = await group("ben", "read", groupId);
      expect(benAfter).toContain(`${idOf("Olga")}: See you there`);
      expect(benAfter).not.toContain("Ben moved away");
      expect(await group("ben", "send", groupId, "still", "here?").catch(String)).toMatch(
        /exited 1/,
      );

      // Then Olga brings the group into a community: Ana comes in with it.
      const community = await run("olga", ["community", "create", "Riverside"]);
      const communityId = community.match(/\((c_[A-Za-z0-9_-]+)\)/)?.[1] as string;
      expect(await run("olga", ["community", "link", "Riverside", "Sunday rides"])).toContain(
        'Linked "Sunday rides" into Riverside.',
      );
      expect(await group("olga", "list")).toContain(
        `${groupId}  Sunday rides  (2 members, in ${communityId})`,
      );
      expect(await run("ana", ["community", "list"])).toContain(
        `${communityId}  Riverside  (member`,
      );
      expect(await run("ana", ["community", "directory", "Riverside"])).toMatch(
        /Sunday rides {2}\(2\) {2}in/,
      );
      expect(await run("ben", ["community", "list"])).toContain("You are in no community yet.");
      expect(await group("ana", "info", groupId)).toContain(`community: ${communityId}`);
    }, 360_000);
  });
}
