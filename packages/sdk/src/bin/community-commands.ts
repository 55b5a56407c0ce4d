import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { VeilClient } from "../client.js";
import type { ChatMessage, CommunityView, DirectoryEntry } from "../index.js";
import { requireRegistered, resolvePeer, type Terminal } from "./cli-kit.js";

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
/** A community of yours, by name or id, for a registered client. */
async function signedInCommunity(client: VeilClient, nameOrId: string): Promise<CommunityView> {
  requireRegistered(client);
  return findCommunity(client, nameOrId);
}

async function connected(client: VeilClient, nameOrId: string): Promise<CommunityView> {
  requireRegistered(client);
  await client.start();
  return findCommunity(client, nameOrId);
}

/** A group of the community's directory, by id or by name (case does not matter). */
async function findGroup(
  client: VeilClient,
  c: CommunityView,
  nameOrId: string,
): Promise<DirectoryEntry> {
  const entry = (await client.groupDirectory(c.id)).find(
    (g) => g.groupId === nameOrId || g.name.toLowerCase() === nameOrId.toLowerCase(),
  );
  if (!entry) throw new Error(`no group "${nameOrId}" in ${c.name} (see \`community directory\`)`);
  return entry;
}

/** Signs in, connects and catches up, then finds a group you are in (a community's or not). */
export async function findMyGroup(client: VeilClient, nameOrId: string): Promise<string> {
  requireRegistered(client);
  await client.start();
  if (/^g_[A-Za-z0-9_-]+$/.test(nameOrId)) return nameOrId;
  const mine = (await client.chats()).filter((c) => c.kind === "group" && c.active);
  const infos = await Promise.all(mine.map((c) => client.groupInfo(c.groupId)));
  const found = infos.filter((g) => g.name.toLowerCase() === nameOrId.toLowerCase());
  if (found.length === 1) return (found[0] as { id: string }).id;
  throw new Error(
    found.length === 0
      ? `you are in no group called "${nameOrId}"`
      : `several of your groups are called "${nameOrId}": use its id`,
  );
}

/** "on"/"off" (also yes/no, true/false) as a boolean. */
function onOff(value: string): boolean {
  if (/^(on|yes|true)$/i.test(value)) return true;
  if (/^(off|no|false)$/i.test(value)) return false;
  throw new Error(`"${value}" is neither on nor off`);
}

/** One of the words a setting takes. */
function oneOf<T extends string>(value: string, words: readonly T[]): T {
  const word = words.find((w) => w === value.toLowerCase());
  if (!word) throw new Error(`"${value}" is not one of: ${words.join(", ")}`);
  return word;
}

/** An announcement as `read` numbers it (from 1, oldest first), or by its id. */
function findPost(posts: ChatMessage[], ref: string): ChatMessage {
  const n = Number(ref.replace(/^#/, ""));
  const post = Number.isInteger(n) && n >= 1 ? posts[n - 1] : posts.find((m) => m.id === ref);
  if (!post) throw new Error(`no announcement ${ref} (see \`community read\`)`);
  return post;
}

export const textOf = (m: ChatMessage): string =>
  m.content.type === "text"
    ? m.content.text
    : m.content.type === "attachment"
      ? `[attachment] ${m.content.caption}`
      : "";

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
        const c = await signedInCommunity(client, nameOrId);
        out.line(`${c.name} (${c.id})`);
        if (c.description) out.line(c.description);
        out.line(`you:     ${c.role}`);
        out.line(`members: ${c.memberCount}`);
        out.line(`groups:  ${c.groupCount}`);
        out.line(`admins:  ${c.admins.map((a) => a.name ?? a.id).join(", ")}`);
        if (c.photo) out.line("It has a photo (veil-chat community photo …).");
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
        const c = await signedInCommunity(client, nameOrId);
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
    .description("People waiting to join the community (admins), or one of its groups (--group)")
    .argument("<community>", "its name or id")
    .option("-g, --group <group>", "a group of the community, by name or id")
    .action(
      action(async (client, nameOrId: string, options: { group?: string }) => {
        const c = await signedInCommunity(client, nameOrId);
        const waiting = options.group
          ? await client.groupRequests((await findGroup(client, c, options.group)).groupId)
          : await client.communityRequests(c.id);
        if (waiting.length === 0) out.line("Nobody is waiting.");
        for (const r of waiting) out.line(`${r.userId}  ${r.name ?? ""}`);
      }),
    );

  /** Answers a request to join the community, or one of its groups (adding to a group is a commit). */
  const answer = (approve: boolean) =>
    action(
      async (
        client,
        nameOrId: string,
        userId: string,
        options: { group?: string; decline?: boolean },
      ) => {
        const yes = approve && !options.decline;
        const c = await connected(client, nameOrId);
        const group = options.group ? await findGroup(client, c, options.group) : undefined;
        if (group && yes) await client.approveGroupRequest(group.groupId, userId);
        else if (group) await client.declineGroupRequest(group.groupId, userId);
        else if (yes) await client.approveCommunityRequest(c.id, userId);
        else await client.declineCommunityRequest(c.id, userId);
        const where = group ? `"${group.name}"` : c.name;
        out.line(yes ? `Let ${userId} into ${where}.` : `Turned ${userId} down for ${where}.`);
      },
    );

  community
    .command("approve")
    .description(
      "Let someone in (admins; a group's deciders with --group); --decline turns them down",
    )
    .argument("<community>", "its name or id")
    .argument("<user>", "their user id (see `requests`)")
    .option("-g, --group <group>", "a request to join this group of the community")
    .option("--decline", "turn the request down instead")
    .action(answer(true));

  community
    .command("decline")
    .description("Turn a request to join down (admins; a group's deciders with --group)")
    .argument("<community>", "its name or id")
    .argument("<user>", "their user id (see `requests`)")
    .option("-g, --group <group>", "a request to join this group of the community")
    .action(answer(false));

  community
    .command("directory")
    .description("The community's groups: name, size, whether you are in (never who is)")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
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
        const c = await signedInCommunity(client, nameOrId);
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
        const all = await client.messages(groupId);
        const first = Math.max(0, all.length - Number(options.last));
        if (all.length === 0) out.line(`No announcements in ${c.name} yet.`);
        for (const [i, m] of all.entries()) {
          if (i < first) continue;
          const who = m.fromMe ? "me" : (names.get(m.senderUserId ?? "") ?? "an admin");
          const counts = Object.entries(await client.reactionCounts(groupId, m.id))
            .map(([emoji, n]) => `${emoji} ${n}`)
            .join("  ");
          out.line(`#${i + 1} ${who}: ${textOf(m)}${counts ? `   (${counts})` : ""}`);
        }
      }),
    );

  community
    .command("react")
    .description("React to an announcement: only the admins learn who (members see counts)")
    .argument("<community>", "its name or id")
    .argument("<post>", "its number in `read` (#3 or 3), or its id")
    .argument("[emoji]", "the reaction", "👍")
    .option("--remove", "take your reaction back")
    .action(
      action(
        async (
          client,
          nameOrId: string,
          ref: string,
          emoji: string,
          options: { remove?: boolean },
        ) => {
          const c = await connected(client, nameOrId);
          const groupId = await client.announcementGroup(c.id);
          const post = findPost(await client.messages(groupId), ref);
          await client.react(groupId, post.id, options.remove ? "" : emoji);
          out.line(
            options.remove ? "Reaction taken back." : `Reacted ${emoji} to "${textOf(post)}".`,
          );
        },
      ),
    );

  community
    .command("reactions")
    .description("Who reacted to an announcement, and with what (admins)")
    .argument("<community>", "its name or id")
    .argument("<post>", "its number in `read` (#3 or 3), or its id")
    .action(
      action(async (client, nameOrId: string, ref: string) => {
        const c = await connected(client, nameOrId);
        const groupId = await client.announcementGroup(c.id);
        const post = findPost(await client.messages(groupId), ref);
        const who = await client.announcementReactions(groupId, post.id);
        if (who.length === 0) out.line("No reactions yet.");
        for (const r of who) out.line(`${r.emoji}  ${r.name ?? r.userId}`);
      }),
    );

  adminCommands(community, action, out);
  groupCommands(community, action, out);

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

/** Running a community: settings, photo, admins, ownership, members, invites, groups. */
function adminCommands(community: Command, action: Action, out: Terminal): void {
  community
    .command("settings")
    .description("Change the name, description or rules (admins); with no option, show them")
    .argument("<community>", "its name or id")
    .option("--name <name>", "a new name")
    .option("-d, --description <text>", "a new description")
    .option("--approve-members <on|off>", "joining by link waits for an admin")
    .option("--group-adding <who>", "who adds groups: admins (members suggest) or members")
    .action(
      action(
        async (
          client,
          nameOrId: string,
          options: {
            name?: string;
            description?: string;
            approveMembers?: string;
            groupAdding?: string;
          },
        ) => {
          requireRegistered(client);
          let c = await findCommunity(client, nameOrId);
          const changes = {
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.approveMembers !== undefined
              ? { approveMembers: onOff(options.approveMembers) }
              : {}),
            ...(options.groupAdding !== undefined
              ? { groupAddPolicy: oneOf(options.groupAdding, ["admins", "members"] as const) }
              : {}),
          };
          if (Object.keys(changes).length > 0) c = await client.updateCommunity(c.id, changes);
          out.line(`name:            ${c.name}`);
          out.line(`description:     ${c.description}`);
          out.line(`approve members: ${c.approveMembers ? "on" : "off"}`);
          out.line(`groups added by: ${c.groupAddPolicy}`);
        },
      ),
    );

  const photo = community.command("photo").description("The community's photo (admins)");
  photo
    .command("set")
    .description("Set the community photo: a PNG, JPEG or WebP file")
    .argument("<community>", "its name or id")
    .argument("<file>", "the image")
    .action(
      action(async (client, nameOrId: string, file: string) => {
        const c = await signedInCommunity(client, nameOrId);
        await client.setCommunityPhoto(c.id, await readFile(file));
        out.line(`Set the photo of ${c.name}.`);
      }),
    );
  photo
    .command("remove")
    .description("Remove the community photo")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
        await client.setCommunityPhoto(c.id, null);
        out.line(`Removed the photo of ${c.name}.`);
      }),
    );

  const admins = community.command("admins").description("The community's admins");
  admins
    .command("list")
    .description("The admins, with their ids")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
        for (const a of c.admins) out.line(`${a.id}  ${a.name ?? ""}`);
      }),
    );
  for (const [verb, admin] of [
    ["promote", true],
    ["demote", false],
  ] as const) {
    admins
      .command(verb)
      .description(admin ? "Make a member an admin (owner)" : "Dismiss an admin (owner)")
      .argument("<community>", "its name or id")
      .argument("<user>", "their user id or phone number")
      .action(
        action(async (client, nameOrId: string, user: string) => {
          const c = await signedInCommunity(client, nameOrId);
          const peer = await resolvePeer(client, user);
          await client.setCommunityAdmin(c.id, peer.userId, admin);
          out.line(
            admin
              ? `${peer.name} is now an admin of ${c.name}.`
              : `${peer.name} is no longer an admin of ${c.name}.`,
          );
        }),
      );
  }

  community
    .command("transfer")
    .description("Hand the community to another member (owner); you stay an admin")
    .argument("<community>", "its name or id")
    .argument("<user>", "their user id or phone number")
    .action(
      action(async (client, nameOrId: string, user: string) => {
        const c = await signedInCommunity(client, nameOrId);
        const peer = await resolvePeer(client, user);
        await client.transferOwnership(c.id, peer.userId);
        out.line(`${peer.name} now owns ${c.name}; you are an admin.`);
      }),
    );

  community
    .command("deactivate")
    .description("End the community (owner): its groups carry on alone, announcements end")
    .argument("<community>", "its name or id")
    .requiredOption("--yes", "yes, end it")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await connected(client, nameOrId);
        await client.deactivateCommunity(c.id);
        out.line(`Deactivated ${c.name}; its groups carry on alone.`);
      }),
    );

  community
    .command("members")
    .description("Every member, with role (admins: R6 shows them id, name, number)")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
        for (const m of await client.communityMembers(c.id)) {
          const p = m.profile;
          out.line(`${p.id}  ${p.name ?? ""}  ${p.phone ?? ""}  (${m.role})`);
        }
      }),
    );

  community
    .command("remove")
    .description("Remove a member from the community and its groups (admins; an admin: the owner)")
    .argument("<community>", "its name or id")
    .argument("<user>", "their user id or phone number")
    .action(
      action(async (client, nameOrId: string, user: string) => {
        const c = await signedInCommunity(client, nameOrId);
        const peer = await resolvePeer(client, user);
        await client.removeCommunityMember(c.id, peer.userId);
        out.line(`Removed ${peer.name} from ${c.name}.`);
      }),
    );

  const invites = community.command("invites").description("The community's invite links (admins)");
  invites
    .command("list")
    .description("The live invite links")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
        const live = await client.invites(c.id);
        if (live.length === 0) out.line("No live invite links.");
        for (const i of live) out.line(`${i.code}  expires ${i.expiresAt}`);
      }),
    );
  invites
    .command("revoke")
    .description("Revoke an invite link: it then answers as if it never was")
    .argument("<community>", "its name or id")
    .argument("<code>", "its code (see `invites list`)")
    .action(
      action(async (client, nameOrId: string, code: string) => {
        const c = await signedInCommunity(client, nameOrId);
        await client.revokeInvite(c.id, code);
        out.line(`Revoked ${code}.`);
      }),
    );

  community
    .command("link")
    .description("Bring a group you administer into the community (or suggest it to the admins)")
    .argument("<community>", "its name or id")
    .argument("<group>", "one of your groups, by name or id")
    .action(
      action(async (client, nameOrId: string, group: string) => {
        const groupId = await findMyGroup(client, group);
        const c = await findCommunity(client, nameOrId);
        const status = await client.linkGroup(c.id, groupId);
        out.line(
          status === "linked"
            ? `Linked "${group}" into ${c.name}.`
            : `Suggested "${group}" to the admins of ${c.name}.`,
        );
      }),
    );

  community
    .command("unlink")
    .description("Take a group out of the community (admins, or the group's); it carries on alone")
    .argument("<community>", "its name or id")
    .argument("<group>", "a group of the directory, by name or id")
    .action(
      action(async (client, nameOrId: string, group: string) => {
        const c = await signedInCommunity(client, nameOrId);
        const entry = await findGroup(client, c, group);
        await client.unlinkGroup(c.id, entry.groupId);
        out.line(`Unlinked "${entry.name}" from ${c.name}.`);
      }),
    );

  const suggestions = community
    .command("suggestions")
    .description("Groups members suggested for the community (admins)");
  suggestions
    .command("list")
    .description("The groups waiting for an answer, and who suggested them")
    .argument("<community>", "its name or id")
    .action(
      action(async (client, nameOrId: string) => {
        const c = await signedInCommunity(client, nameOrId);
        const waiting = await client.groupSuggestions(c.id);
        if (waiting.length === 0) out.line("No suggestions.");
        for (const g of waiting) {
          const by = g.suggestedBy.name ?? g.suggestedBy.id;
          out.line(`${g.groupId}  ${g.name}  (${g.size})  suggested by ${by}`);
        }
      }),
    );
  for (const [verb, approve] of [
    ["approve", true],
    ["decline", false],
  ] as const) {
    suggestions
      .command(verb)
      .description(approve ? "Link the suggested group" : "Turn the suggestion down")
      .argument("<community>", "its name or id")
      .argument("<group>", "the suggested group, by name or id")
      .action(
        action(async (client, nameOrId: string, group: string) => {
          const c = await signedInCommunity(client, nameOrId);
          const found = (await client.groupSuggestions(c.id)).find(
            (g) => g.groupId === group || g.name.toLowerCase() === group.toLowerCase(),
          );
          if (!found) throw new Error(`no suggested group "${group}" in ${c.name}`);
          if (approve) await client.approveGroupSuggestion(c.id, found.groupId);
          else await client.declineGroupSuggestion(c.id, found.groupId);
          out.line(
            approve ? `Linked "${found.name}" into ${c.name}.` : `Declined "${found.name}".`,
          );
        }),
      );
  }
}

/** `community group …`: one group's info, settings, admins, and leaving it. */
function groupCommands(community: Command, action: Action, out: Terminal): void {
  const group = community
    .command("group")
    .description("A group you are in: info, settings, admins, leaving (by name or id)");
  groupSubcommands(group, action, out);
}

/** What to call each member of a group: their name if you may see it, else their id. */
export async function memberNames(
  client: VeilClient,
  members: readonly { userId: string }[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const m of members) {
    if (names.has(m.userId)) continue;
    const profile = await client.api.user(m.userId).catch(() => undefined);
    names.set(m.userId, profile?.name ?? m.userId);
  }
  return names;
}

/**
 * A group's info, settings, admins, and leaving it: under `community group`,
 * and under `group` (packages/sdk/src/bin/group-commands.ts) for any group.
 */
export function groupSubcommands(group: Command, action: Action, out: Terminal): void {
  group
    .command("info")
    .description("Name, description, community, members (as you may see them), admins, settings")
    .argument("<group>", "its name or id")
    .action(
      action(async (client, ref: string) => {
        const g = await client.groupInfo(await findMyGroup(client, ref));
        const names = await memberNames(client, g.members);
        out.line(`${g.name} (${g.id})`);
        if (g.description) out.line(g.description);
        out.line(`community: ${g.communityId ?? "none"}`);
        out.line(`members:   ${[...names.values()].join(", ")}`);
        out.line(`admins:    ${g.admins.map((a) => names.get(a) ?? a).join(", ")}`);
        out.line(
          `send: ${g.sendPolicy}  edit info: ${g.infoPolicy}  approve members: ${g.approveMembers ? "on" : "off"}`,
        );
      }),
    );

  group
    .command("settings")
    .description(
      "Change the name or description (members, unless admins only) or the rules (admins)",
    )
    .argument("<group>", "its name or id")
    .option("--name <name>", "a new name")
    .option("-d, --description <text>", "a new description")
    .option("--send <who>", "who may send: all or admins")
    .option("--edit-info <who>", "who may change name and description: all or admins")
    .option("--approve-members <on|off>", "new members need an admin")
    .action(
      action(
        async (
          client,
          ref: string,
          options: {
            name?: string;
            description?: string;
            send?: string;
            editInfo?: string;
            approveMembers?: string;
          },
        ) => {
          const groupId = await findMyGroup(client, ref);
          const audience = ["all", "admins"] as const;
          const info = {
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.description !== undefined ? { description: options.description } : {}),
          };
          const settings = {
            ...(options.send ? { sendPolicy: oneOf(options.send, audience) } : {}),
            ...(options.editInfo ? { infoPolicy: oneOf(options.editInfo, audience) } : {}),
            ...(options.approveMembers !== undefined
              ? { approveMembers: onOff(options.approveMembers) }
              : {}),
          };
          if (Object.keys(info).length + Object.keys(settings).length === 0) {
            throw new Error("nothing to change (see --help)");
          }
          if (Object.keys(info).length > 0) await client.updateGroupInfo(groupId, info);
          const g = Object.keys(settings).length
            ? await client.updateGroupSettings(groupId, settings)
            : await client.groupInfo(groupId);
          out.line(
            `"${g.name}": send ${g.sendPolicy}, edit info ${g.infoPolicy}, approve members ${g.approveMembers ? "on" : "off"}`,
          );
        },
      ),
    );

  group
    .command("admin")
    .description("Make a member an admin of the group (admins); --demote takes it back")
    .argument("<group>", "its name or id")
    .argument("<user>", "their user id or phone number")
    .option("--demote", "no longer an admin")
    .action(
      action(async (client, ref: string, user: string, options: { demote?: boolean }) => {
        const groupId = await findMyGroup(client, ref);
        const peer = await resolvePeer(client, user);
        const g = await client.setGroupAdmin(groupId, peer.userId, !options.demote);
        out.line(
          options.demote
            ? `${peer.name} is no longer an admin of "${g.name}".`
            : `${peer.name} is now an admin of "${g.name}".`,
        );
      }),
    );

  group
    .command("leave")
    .description("Leave a group: your devices are out at once, its keys rotate")
    .argument("<group>", "its name or id")
    .action(
      action(async (client, ref: string) => {
        const groupId = await findMyGroup(client, ref);
        await client.leaveGroup(groupId);
        out.line(`Left ${ref}.`);
      }),
    );
}
