import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { grantRole } from "../../server/src/accounts/platform-roles.js";
import { cliSuite } from "./helpers/cli.js";
import { backends, eventually, nextPhone } from "./helpers/harness.js";

// The command line is a client of the server: one backend is enough here (each
// process costs a start-up). The server's and the SDK's suites run on both.
for (const { backend, available } of backends.filter((b) => b.backend === "sqlite")) {
  describe.skipIf(!available)(`veil-chat, two terminals [${backend}]`, () => {
    const suite = cliSuite(backend, "veil-chat-");
    const { cli, run, register, root } = suite;

    it("registers two people who then chat end to end from two terminals", async () => {
      const alicePhone = nextPhone();
      const bobPhone = nextPhone();
      await register("alice", "Alice", alicePhone);
      await register("bob", "Bob", bobPhone);
      expect(await run("alice", ["whoami"])).toContain("name:   Alice");

      // Bob opens an interactive chat with Alice by her number.
      const bob = cli("bob", ["chat", alicePhone]);
      await eventually(() => expect(bob.output()).toContain("Chatting with Alice."), 15_000);

      // Alice sends one message from another terminal; it appears live in Bob's.
      expect(await run("alice", ["send", bobPhone, "hello", "Bob"])).toContain("sent to Bob");
      await eventually(() => expect(bob.output()).toContain("Alice: hello Bob"));

      // Bob answers on stdin; Alice's next command picks it up and acknowledges it.
      bob.write("hi Alice");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await run("alice", ["send", bobPhone, "got it"]);
      await eventually(() => expect(bob.output()).toContain('delivered: "hi Alice"'));
      await eventually(() => expect(bob.output()).toContain("Alice: got it"));

      // A profile is one device at a time: a second process on Bob's profile is refused.
      const busy = cli("bob", ["whoami"]);
      expect(await busy.exited).toBe(1);
      expect(busy.output()).toContain("store_locked");

      bob.child.stdin?.end();
      expect(await bob.exited).toBe(0);
      const digits = (output: string) => (output.match(/\b\d{5}\b/g) ?? []).join("");
      const aliceNumber = digits(await run("alice", ["safety-number", bobPhone]));
      expect(aliceNumber).toMatch(/^\d{60}$/);
      expect(digits(await run("bob", ["safety-number", alicePhone]))).toBe(aliceNumber);
    }, 120_000);

    it("runs a community from the command line: invite, join, groups, announcements", async () => {
      const [olgaPhone, anaPhone] = [nextPhone(), nextPhone()];
      await register("olga", "Olga", olgaPhone);
      await register("ana", "Ana", anaPhone);
      const created = await run("olga", ["community", "create", "Riverside", "-d", "Our street"]);
      const communityId = created.match(/\((c_[A-Za-z0-9_-]+)\)/)?.[1] as string;
      expect(communityId).toBeTruthy();
      const code = (await run("olga", ["community", "invite", "riverside"])).split(
        "\n",
      )[0] as string;
      expect(code).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(await run("ana", ["community", "join", code])).toContain('Joined "Riverside"');
      const shown = await run("ana", ["community", "show", "Riverside"]);
      expect(shown).toContain("members: 2");
      expect(shown).toContain("admins:  Olga");
      expect(await run("ana", ["community", "list"])).toContain(
        `${communityId}  Riverside  (member`,
      );

      expect(await run("olga", ["community", "new-group", communityId, "Gardening"])).toContain(
        'Created group "Gardening"',
      );
      expect(await run("ana", ["community", "directory", "Riverside"])).toMatch(
        /Gardening {2}\(1\) {2}-/,
      );
      expect(await run("ana", ["community", "ask", "Riverside", "gardening"])).toContain(
        'Asked to join "Gardening"',
      );
      expect(await run("ana", ["community", "directory", "Riverside"])).toMatch(
        /Gardening {2}\(1\) {2}asked/,
      );

      expect(
        await run("olga", ["community", "announce", "Riverside", "Street", "party!"]),
      ).toContain("Announced to 2 members");
      expect(await run("ana", ["community", "read", "Riverside"])).toContain("Olga: Street party!");
      expect(await run("olga", ["community", "read", "Riverside"])).toContain("me: Street party!");
      expect(
        await run("ana", ["community", "announce", "Riverside", "me", "too"]).catch(String),
      ).toContain("not_community_admin");
      expect(await run("ana", ["community", "leave", "Riverside"])).toContain("Left Riverside.");
      expect(await run("ana", ["community", "list"])).toContain("You are in no community yet.");
    }, 120_000);

    describe("communities, run from the command line", () => {
      it("settles requests, admins, invites, photo, groups, links, reactions, ownership", async () => {
        const [olgaPhone, anaPhone] = [nextPhone(), nextPhone()];
        const ids = new Map<string, string>();
        for (const [profile, name, phone] of [
          ["olga-co", "Olga", olgaPhone],
          ["ana-co", "Ana", anaPhone],
          ["ben-co", "Ben", nextPhone()],
        ] as const) {
          await register(profile, name, phone);
          const whoami = await run(profile, ["whoami"]);
          ids.set(name, whoami.match(/user: +(u_[A-Za-z0-9_-]+)/)?.[1] as string);
        }
        const idOf = (name: string) => ids.get(name) as string;
        const [olga, ana, ben] = [idOf("Olga"), idOf("Ana"), idOf("Ben")];
        const co = (profile: string, ...args: string[]) => run(profile, ["community", ...args]);

        await co("olga-co", "create", "Harbour");
        const settings = await co(
          "olga-co",
          ...["settings", "Harbour", "--approve-members", "on", "--group-adding", "members"],
        );
        expect(settings).toContain("approve members: on");
        expect(settings).toContain("groups added by: members");
        const code = (await co("olga-co", "invite", "Harbour")).split("\n")[0] as string;
        expect(await co("ana-co", "join", code)).toContain("an admin has to approve");
        expect(await co("ben-co", "join", code)).toContain("an admin has to approve");
        expect(await co("olga-co", "requests", "Harbour")).toMatch(
          new RegExp(`${ana} {2}Ana\\n${ben} {2}Ben`),
        );
        expect(await co("olga-co", "approve", "Harbour", ana)).toContain(
          `Let ${ana} into Harbour.`,
        );
        expect(await co("olga-co", "decline", "Harbour", ben)).toContain(`Turned ${ben} down`);
        expect(await co("olga-co", "requests", "Harbour")).toContain("Nobody is waiting.");

        // Members: the admins see them (R6, the number too); a member does not.
        const members = await co("olga-co", "members", "Harbour");
        expect(members).toContain(`${ana}  Ana  ${anaPhone}  (member)`);
        expect(members).not.toContain(ben);
        expect(await co("ana-co", "members", "Harbour").catch(String)).toContain(
          "not_community_admin",
        );
        expect(await co("olga-co", "admins", "promote", "Harbour", ana)).toContain(
          "Ana is now an admin of Harbour.",
        );
        expect(await co("ana-co", "admins", "list", "Harbour")).toMatch(/Olga\n.*Ana/);
        expect(await co("olga-co", "admins", "demote", "Harbour", anaPhone)).toContain(
          "Ana is no longer an admin of Harbour.",
        );

        // Invite links and the photo.
        expect(await co("olga-co", "invites", "list", "Harbour")).toContain(code);
        expect(await co("olga-co", "invites", "revoke", "Harbour", code)).toContain("Revoked");
        expect(await co("olga-co", "invites", "list", "Harbour")).toContain(
          "No live invite links.",
        );
        const picture = path.join(root, "harbour.png");
        writeFileSync(picture, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]));
        expect(await co("olga-co", "photo", "set", "Harbour", picture)).toContain("Set the photo");
        expect(await co("ana-co", "show", "Harbour")).toContain("It has a photo");
        expect(await co("olga-co", "photo", "remove", "Harbour")).toContain("Removed the photo");
        expect(await co("ana-co", "show", "Harbour")).not.toContain("It has a photo");

        // A member's group, run by its admin: settings, a request to join, a new admin.
        expect(await co("ana-co", "new-group", "Harbour", "Boats")).toContain(
          'Created group "Boats"',
        );
        const rules = ["--send", "admins", "--approve-members", "on"];
        expect(await co("ana-co", "group", "settings", "Boats", ...rules)).toContain(
          '"Boats": send admins, edit info all, approve members on',
        );
        await co("olga-co", "ask", "Harbour", "Boats");
        expect(await co("ana-co", "requests", "Harbour", "--group", "Boats")).toContain(
          `${olga}  Olga`,
        );
        expect(await co("ana-co", "approve", "Harbour", olga, "--group", "boats")).toContain(
          `Let ${olga} into "Boats".`,
        );
        expect(await co("ana-co", "group", "admin", "Boats", olga)).toContain(
          'Olga is now an admin of "Boats".',
        );
        const info = await co("olga-co", "group", "info", "Boats");
        expect(info).toMatch(/members: {3}(Ana, Olga|Olga, Ana)/);
        expect(info).toMatch(/admins: {4}(Ana, Olga|Olga, Ana)/);
        expect(info).toContain("send: admins  edit info: all  approve members: on");
        expect(await co("olga-co", "group", "leave", "Boats")).toContain("Left Boats.");

        // Unlinked, then offered again: only admins add groups now, so it is a suggestion.
        await co("olga-co", "settings", "Harbour", "--group-adding", "admins");
        expect(await co("olga-co", "unlink", "Harbour", "Boats")).toContain('Unlinked "Boats"');
        expect(await co("ana-co", "link", "Harbour", "Boats")).toContain(
          'Suggested "Boats" to the admins of Harbour.',
        );
        expect(await co("olga-co", "suggestions", "list", "Harbour")).toMatch(
          /Boats {2}\(1\) {2}suggested by Ana/,
        );
        expect(await co("olga-co", "suggestions", "approve", "Harbour", "boats")).toContain(
          'Linked "Boats" into Harbour.',
        );
        expect(await co("ana-co", "directory", "Harbour")).toMatch(/Boats {2}\(1\) {2}in/);

        // An announcement, a reaction; the admin sees who, the member does not.
        await co("olga-co", "announce", "Harbour", "Ferry", "at", "noon");
        expect(await co("ana-co", "read", "Harbour")).toContain("#1 Olga: Ferry at noon");
        expect(await co("ana-co", "react", "Harbour", "1", "⛵")).toContain(
          'Reacted ⛵ to "Ferry at noon".',
        );
        expect(await co("olga-co", "reactions", "Harbour", "#1")).toContain("⛵  Ana");
        expect(await co("ana-co", "reactions", "Harbour", "1").catch(String)).toContain(
          "not_community_admin",
        );

        // Ownership moves; the new owner removes the old one, then ends the community.
        expect(await co("olga-co", "transfer", "Harbour", ana)).toContain("Ana now owns Harbour");
        expect(await co("ana-co", "show", "Harbour")).toContain("you:     owner");
        expect(await co("ana-co", "remove", "Harbour", olga)).toContain(
          "Removed Olga from Harbour.",
        );
        expect(await co("olga-co", "list")).toContain("You are in no community yet.");
        expect(await co("ana-co", "deactivate", "Harbour").catch(String)).toContain("--yes");
        expect(await co("ana-co", "deactivate", "Harbour", "--yes")).toContain(
          "Deactivated Harbour",
        );
        expect(await co("ana-co", "list")).toContain("You are in no community yet.");
      }, 240_000);
    });

    describe("channels", () => {
      const [olgaPhone, finnPhone, gailPhone] = [nextPhone(), nextPhone(), nextPhone()];
      const ch = `@cli_${backend}`;

      it("posts a poll and a picture, votes, shows counts and voters, opens a forwarded link", async () => {
        await register("olga-ch", "Olga", olgaPhone);
        await register("finn-ch", "Finn", finnPhone);
        await register("gail-ch", "Gail", gailPhone);
        expect(await run("olga-ch", ["channel", "create", ch.slice(1), "Lunch Club"])).toContain(
          `Created ${ch} "Lunch Club"`,
        );
        expect(await run("finn-ch", ["channel", "follow", ch])).toContain(`Following ${ch}.`);

        const poll = ["--poll", "Where?", "--option", "Park", "--option", "Cafe"];
        const posted = await run("olga-ch", ["channel", "post", ch, "Friday", ...poll]);
        expect(posted).toContain(`Posted #1 to ${ch}`);
        expect(posted).toContain("poll: Where?  (one choice)");
        expect(await run("finn-ch", ["channel", "vote", ch, "1", "Cafe"])).toMatch(
          /2\. Cafe {2}1 {2}\(your vote\)/,
        );
        expect(await run("finn-ch", ["channel", "read", ch])).toMatch(/#1 {2}Friday[\s\S]*1 voter/);
        expect(await run("olga-ch", ["channel", "votes", ch, "1"])).toMatch(
          /Finn \(f_[A-Za-z0-9_-]+\): Cafe/,
        );
        expect(await run("finn-ch", ["channel", "votes", ch, "1"]).catch(String)).toContain(
          "not_channel_admin",
        );
        expect(await run("finn-ch", ["channel", "unvote", ch, "1"])).toContain("0 voters");

        const picture = path.join(root, "view.png");
        writeFileSync(picture, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]));
        expect(
          await run("olga-ch", ["channel", "post", ch, "The view", "--image", picture]),
        ).toMatch(/Posted #2[\s\S]*file: image\/png, 10 B/);
        expect(await run("olga-ch", ["channel", "edit", ch, "2", "The", "new", "view"])).toContain(
          "#2 (edited)  The new view",
        );

        // Gail follows nothing: the link a forwarded post carries opens it.
        const opened = await run("gail-ch", ["channel", "open", `veil://channel/${ch.slice(1)}/2`]);
        expect(opened).toContain("#2 (edited)  The new view");
        expect(opened).toContain(`Follow it with: veil-chat channel follow ${ch}`);
        expect(await run("olga-ch", ["channel", "delete", ch, "2"])).toContain("Deleted #2");
        expect(
          await run("gail-ch", ["channel", "open", `veil://channel/${ch.slice(1)}/2`]),
        ).toContain("That post is gone");
        expect(await run("finn-ch", ["channel", "mute", ch])).toContain(`${ch} is muted.`);
        expect(await run("olga-ch", ["channel", "admins", "list", ch])).toMatch(
          /Olga {2}\(owner\)/,
        );

        // The directory and the channel's settings (admins).
        expect(await run("gail-ch", ["channel", "search", ch.slice(1)])).toContain(
          `${ch}  Lunch Club  (1 followers)`,
        );
        const settings = await run("olga-ch", [
          ...["channel", "settings", ch, "--name", "Lunch Club Daily", "-d", "Where we eat"],
          ...["--category", "food", "--country", "gb", "--reactions", "default"],
        ]);
        expect(settings).toContain(`${ch}  Lunch Club Daily`);
        expect(settings).toContain("description: Where we eat");
        expect(settings).toContain("category:    food");
        expect(settings).toContain("country:     GB");
        expect(settings).toContain("reactions:   default");
        expect(
          await run("gail-ch", ["channel", "search", "--category", "food", "--country", "GB"]),
        ).toContain(`${ch}  Lunch Club Daily`);
        const cleared = await run("olga-ch", ["channel", "settings", ch, "--no-country"]);
        expect(cleared).toContain("country:     (none)");
        expect(cleared).toContain("category:    food");
        const info = await run("finn-ch", ["channel", "info", ch]);
        expect(info).toContain(`${ch}  Lunch Club Daily`);
        expect(info).toContain("Where we eat");
        expect(info).toContain("followers: 1");
        expect(info).toContain("reactions: default");
        expect(info).toContain("you:       following (muted)");
        expect(await run("finn-ch", ["channel", "unmute", ch])).toContain(
          `${ch} is no longer muted.`,
        );

        // Reactions within the setting; admins see who.
        expect(await run("finn-ch", ["channel", "react", ch, "1", "❤️"])).toContain("#1: ❤️ 1");
        expect(await run("finn-ch", ["channel", "react", ch, "1", "🦄"]).catch(String)).toContain(
          "reaction_not_allowed",
        );
        expect(await run("olga-ch", ["channel", "reactions", ch, "1"])).toMatch(
          /❤️ {2}Finn \(f_[A-Za-z0-9_-]+\)/,
        );
        expect(await run("finn-ch", ["channel", "react", ch, "1", "--remove"])).toContain(
          "#1: no reactions",
        );

        // Closing the poll: votes stop.
        expect(await run("olga-ch", ["channel", "close-poll", ch, "1"])).toContain(
          "poll: Where?  (one choice, closed)",
        );
        expect(await run("finn-ch", ["channel", "vote", ch, "1", "Park"]).catch(String)).toContain(
          "poll_closed",
        );
      }, 240_000);

      // Goes on with the channel and the three profiles of the test above.
      it("posts a link preview, forwards it into a chat, hands the channel over, verifies and deletes it", async () => {
        // A post with a link preview, forwarded into a chat with Finn.
        const linked = await run("olga-ch", [
          ...["channel", "post", ch, "Read", "this", "--link", "https://example.org/menu"],
          ...["--link-title", "The menu", "--link-description", "What is on today"],
        ]);
        expect(linked).toContain("Posted #3");
        expect(linked).toContain("link: The menu  <https://example.org/menu>");
        expect(await run("olga-ch", ["channel", "forward", ch, "3", finnPhone])).toContain(
          `Forwarded #3 of ${ch} to Finn.`,
        );
        const finnsChat = cli("finn-ch", ["chat", olgaPhone]);
        await eventually(
          () =>
            expect(finnsChat.output()).toContain(
              `Forwarded from ${ch}: veil://channel/${ch.slice(1)}/3`,
            ),
          15_000,
        );
        expect(finnsChat.output()).toContain("Olga: Read this");
        finnsChat.child.stdin?.end();
        expect(await finnsChat.exited).toBe(0);

        // Admins: an invitation found, accepted; ownership handed over; the old owner removed.
        expect(await run("olga-ch", ["channel", "admins", "invite", ch, gailPhone])).toContain(
          `Invited Gail to administer ${ch}.`,
        );
        expect(await run("olga-ch", ["channel", "admins", "list", ch])).toMatch(
          /Gail {2}\(invited until \d{4}-\d\d-\d\dT/,
        );
        const invitations = await run("gail-ch", ["channel", "invitations"]);
        expect(invitations).toContain(`${ch}  Lunch Club Daily`);
        expect(invitations).toMatch(/accept with: veil-chat channel admins accept h_/);
        expect(await run("gail-ch", ["channel", "admins", "accept", ch])).toContain(
          `You are an admin of ${ch}.`,
        );
        expect(await run("olga-ch", ["channel", "transfer", ch, gailPhone])).toContain(
          `Gail now owns ${ch}.`,
        );
        expect(await run("gail-ch", ["channel", "admins", "remove", ch, olgaPhone])).toContain(
          `Removed Olga from the admins of ${ch}.`,
        );
        const gailsList = await run("gail-ch", ["channel", "admins", "list", ch]);
        expect(gailsList).toMatch(/Gail {2}\(owner\)/);
        expect(gailsList).not.toContain("Olga");

        // The verified badge: platform admins only.
        expect(await run("gail-ch", ["channel", "verify", ch]).catch(String)).toContain(
          "not_platform_admin",
        );
        const finnId = (await run("finn-ch", ["whoami"])).match(/user: +(u_[A-Za-z0-9_-]+)/)?.[1];
        await grantRole(suite.t.server.context.database.db, finnId as string, "admin");
        expect(await run("finn-ch", ["channel", "verify", ch])).toContain(`${ch} ✓ verified.`);
        expect(await run("gail-ch", ["channel", "search", ch.slice(1)])).toContain(`${ch} ✓`);
        expect(await run("finn-ch", ["channel", "verify", ch, "--off"])).toContain(
          `${ch} is no longer verified.`,
        );

        // Unfollowing, then the owner deletes the channel (asked to confirm).
        expect(await run("finn-ch", ["channel", "unfollow", ch])).toContain(
          `No longer following ${ch}.`,
        );
        expect(await run("finn-ch", ["channel", "info", ch])).toContain("followers: 0");
        expect(await run("gail-ch", ["channel", "delete-channel", ch]).catch(String)).toContain(
          "--yes",
        );
        expect(await run("gail-ch", ["channel", "delete-channel", ch, "--yes"])).toContain(
          `Deleted ${ch}.`,
        );
        expect(await run("gail-ch", ["channel", "info", ch]).catch(String)).toContain(
          `no channel ${ch}`,
        );
      }, 240_000);
    });
  });
}
