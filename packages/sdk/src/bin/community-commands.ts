import type { Command } from "commander";
import type { VeilClient } from "../client.js";
import type { CommunityView } from "../index.js";
import { requireRegistered, type Terminal } from "./cli-kit.js";

/** Wraps a command's work: a client opened for it, closed after, errors as one line. */
export type Action = <A extends unknown[]>(
  work: (client: VeilClient, ...args: A) => Promise<void>,
) => (...args: A) => Promise<void>;

/** A community by id, or by its name among yours (case does not matter). */
async function findCommunity(client: VeilClient, nameOrId: string): Promise<CommunityView> {
  const mine = await client.communities();
  const byId = mine.find((c) => c.id === nameOrId);
  if (byId) return byId;
  const found = mine.filter((c) => c.name.toLowerCase() === nameOrId.toLowerCase());
  if (found.length === 1) return found[0] as CommunityView;
  throw new Error(
    found.length === 0
      ? `you are in no community called "${nameOrId}" (see \`veil-chat community list\`)`
      : `several communities are called "${nameOrId}": use its id`,
  );
}

/** Signs in, connects and catches up, then finds the community. */
async function connected(client: VeilClient, nameOrId: string): Promise<CommunityView> {
  requireRegistered(client);
  await client.start();
  return findCommunity(client, nameOrId);
}

/** `veil-chat community …`: communities, their groups and announcements. */
export function communityCommands(program: Command, action: Action, out: Terminal): void {
  const community = program
    .command("community")
    .description(
      "Communities: groups under one roof, and an announcement group only admins post in",
    );

  community
    .command("create")
    .description("Create a community (you are its owner)")
    .argument("<name>", "its name")
    .option("-d, --description <text>", "what it is about")
    .action(
      action(async (client, name: string, options: { description?: string }) => {
        requireRegistered(client);
        await client.start();
        const c = await client.createCommunity({
          name,
          ...(options.description ? { description: options.description } : {}),
        });
        out.line(`Created "${c.name}" (${c.id}).`);
        out.line(`Invite people with: veil-chat community invite ${c.id}`);
      }),
    );

  community
    .command("list")
    .description("The communities you belong to")
    .action(
      action(async (client) => {
        requireRegistered(client);
        const mine = await client.communities();
        if (mine.length === 0) out.line("You are in no community yet.");
        for (const c of mine) {
          out.line(
            `${c.id}  ${c.name}  (${c.role}, ${c.memberCount} members, ${c.groupCount} groups)`,
          );
        }
      }),
    );

  community
    .command("show")
    .description("A community: description, your role, counts, admins (members are never listed)")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        out.line(`${c.name} (${c.id})`);
        if (c.description) out.line(c.description);
        out.line(`you:     ${c.role}`);
        out.line(`members: ${c.memberCount}`);
        out.line(`groups:  ${c.groupCount}`);
        out.line(`admins:  ${c.admins.map((a) => a.name ?? a.id).join(", ")}`);
        if (c.approveMembers) out.line("New members wait for an admin's approval.");
      }),
    );

  community
    .command("invite")
    .description("Create an invite link (admins) and print its code")
    .argument("<community>", "its name or id")
    .option("--days <n>", "days until it expires", "7")
    .action(
      action(async (client, nameOrId: string, options: { days: string }) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        const invite = await client.createInvite(c.id, {
          expiresInSeconds: Math.round(Number(options.days) * 86_400),
        });
        out.line(invite.code);
        out.line(`Others join with: veil-chat community join ${invite.code}`);
        out.line(`(it expires at ${invite.expiresAt})`);
      }),
    );

  community
    .command("join")
    .description("Join a community by the code of an invite link")
    .argument("<code>", "what `veil-chat community invite` printed")
    .action(
      action(async (client, code: string) => {
        requireRegistered(client);
        await client.start();
        const preview = await client.previewInvite(code);
        const result = await client.joinByInvite(code);
        out.line(
          result.status === "joined"
            ? `Joined "${preview.name}" (${preview.communityId}).`
            : `Asked to join "${preview.name}": an admin has to approve.`,
        );
      }),
    );

  community
    .command("requests")
    .description("People waiting to join (admins)")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        const waiting = await client.communityRequests(c.id);
        if (waiting.length === 0) out.line("Nobody is waiting.");
        for (const r of waiting) out.line(`${r.userId}  ${r.name ?? ""}`);
      }),
    );

  community
    .command("approve")
    .description("Let someone in (admins); --decline turns them down")
    .argument("<community>", "its name or id")
    .argument("<user>", "their user id (see `requests`)")
    .option("--decline", "turn the request down instead")
    .action(
      action(async (client, nameOrId: string, userId: string, options: { decline?: boolean }) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        if (options.decline) await client.declineCommunityRequest(c.id, userId);
        else await client.approveCommunityRequest(c.id, userId);
        out.line(options.decline ? `Turned ${userId} down.` : `Let ${userId} in.`);
      }),
    );

  community
    .command("directory")
    .description("The community's groups: name, size, whether you are in (never who is)")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        const groups = await client.groupDirectory(c.id);
        if (groups.length === 0) out.line("No groups yet.");
        for (const g of groups) {
          const mark = g.joined ? "in" : g.requested ? "asked" : "-";
          out.line(`${g.groupId}  ${g.name}  (${g.size})  ${mark}`);
          if (g.description) out.line(`    ${g.description}`);
        }
      }),
    );

  community
    .command("new-group")
    .description("Create a group in the community (admins, or anyone if the community allows)")
    .argument("<community>", "its name or id")
    .argument("<name>", "the group's name")
    .option("-d, --description <text>", "what it is about")
    .action(
      action(async (client, nameOrId: string, name: string, options: { description?: string }) => {
        const c = await connected(client, nameOrId);
        const g = await client.createCommunityGroup(c.id, {
          name,
          ...(options.description ? { description: options.description } : {}),
        });
        out.line(`Created group "${name}" (${g.groupId}) in ${c.name}.`);
      }),
    );

  community
    .command("ask")
    .description("Ask to join a group of the directory")
    .argument("<community>", "its name or id")
    .argument("<group>", "the group's name or id (see `directory`)")
    .action(
      action(async (client, nameOrId: string, group: string) => {
        requireRegistered(client);
        const c = await findCommunity(client, nameOrId);
        const entry = (await client.groupDirectory(c.id)).find(
          (g) => g.groupId === group || g.name.toLowerCase() === group.toLowerCase(),
        );
        if (!entry) throw new Error(`no group "${group}" in ${c.name}`);
        await client.requestToJoinGroup(entry.groupId);
        out.line(`Asked to join "${entry.name}"; its admins decide.`);
      }),
    );

  community
    .command("announce")
    .description("Post in the community's announcement group (admins)")
    .argument("<community>", "its name or id")
    .argument("<text...>", "the announcement")
    .action(
      action(async (client, nameOrId: string, words: string[]) => {
        const c = await connected(client, nameOrId);
        await client.announce(c.id, words.join(" "));
        out.line(`Announced to ${c.memberCount} members of ${c.name}.`);
      }),
    );

  community
    .command("read")
    .description("Read the community's announcements")
    .argument("<community>", "its name or id")
    .option("-n, --last <n>", "how many", "20")
    .action(
      action(async (client, nameOrId: string, options: { last: string }) => {
        const c = await connected(client, nameOrId);
        const groupId = await client.announcementGroup(c.id);
        const names = new Map(c.admins.map((a) => [a.id, a.name ?? a.id]));
        const posts = (await client.messages(groupId)).slice(-Number(options.last));
        if (posts.length === 0) out.line(`No announcements in ${c.name} yet.`);
        for (const m of posts) {
          const who = m.fromMe ? "me" : (names.get(m.senderUserId ?? "") ?? "an admin");
          const text =
            m.content.type === "text"
              ? m.content.text
              : m.content.type === "attachment"
                ? `[attachment] ${m.content.caption}`
                : "";
          const counts = Object.entries(await client.reactionCounts(groupId, m.id))
            .map(([emoji, n]) => `${emoji} ${n}`)
            .join("  ");
          out.line(`${who}: ${text}${counts ? `   (${counts})` : ""}`);
        }
      }),
    );

  community
    .command("leave")
    .description("Leave the community, its announcement group and its groups")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await connected(client, nameOrId);
        await client.leaveCommunity(c.id);
        out.line(`Left ${c.name}.`);
      }),
    );
}
