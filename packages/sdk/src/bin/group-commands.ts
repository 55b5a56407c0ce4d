import type { Command } from "commander";
import type { VeilClient } from "../client.js";
import { type Peer, requireRegistered, resolvePeer, type Terminal } from "./cli-kit.js";
import {
  type Action,
  findMyGroup,
  groupSubcommands,
  memberNames,
  textOf,
} from "./community-commands.js";

/** People by phone number or user id (a number is looked up, which lets you see them: R2). */
async function resolvePeers(client: VeilClient, users: string[]): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (const user of users) peers.push(await resolvePeer(client, user));
  return peers;
}

const namesOf = (peers: Peer[]): string => peers.map((p) => p.name).join(", ");

/**
 * `veil-chat group …`: groups of your own (standalone, or in a community):
 * create one, add and remove members (MLS commits), post and read; and the
 * info, settings, admins and leaving that `community group …` also offers.
 */
export function groupCommands(program: Command, action: Action, out: Terminal): void {
  const group = program
    .command("group")
    .description(
      "Groups you are in, standalone or in a community (by name or id): " +
        "create, add, remove, send, read, info, settings, admins, leave",
    );

  group
    .command("create")
    .description("Create a group of your own, outside any community (you are its admin)")
    .argument("<name>", "its name")
    .argument("[members...]", "who is in it with you: phone numbers or user ids")
    .option("-d, --description <text>", "what it is about")
    .action(
      action(async (client, name: string, members: string[], options: { description?: string }) => {
        requireRegistered(client);
        await client.start();
        const peers = await resolvePeers(client, members);
        const chat = await client.createGroup(peers.map((p) => p.userId));
        await client.updateGroupInfo(chat.groupId, {
          name,
          ...(options.description ? { description: options.description } : {}),
        });
        out.line(
          `Created group "${name}" (${chat.groupId})` +
            (peers.length ? ` with ${namesOf(peers)}.` : "."),
        );
        out.line(`Add people with: veil-chat group add ${chat.groupId} <phone or user id>`);
      }),
    );

  group
    .command("list")
    .description("The groups you are in, and the community of each (announcement groups aside)")
    .action(
      action(async (client) => {
        requireRegistered(client);
        await client.start();
        const mine = (await client.chats()).filter((c) => c.kind === "group" && c.active);
        if (mine.length === 0) out.line("You are in no group yet.");
        for (const chat of mine) {
          const g = await client.groupInfo(chat.groupId);
          const where = g.communityId ? `, in ${g.communityId}` : "";
          out.line(`${g.id}  ${g.name || "(no name)"}  (${g.memberCount} members${where})`);
        }
      }),
    );

  for (const [verb, adding] of [
    ["add", true],
    ["remove", false],
  ] as const) {
    group
      .command(verb)
      .description(
        adding
          ? "Add people: every device of theirs joins (an MLS commit)"
          : "Remove people: their devices are out, the group's keys rotate (admins)",
      )
      .argument("<group>", "its name or id")
      .argument("<users...>", "phone numbers or user ids")
      .action(
        action(async (client, ref: string, users: string[]) => {
          const groupId = await findMyGroup(client, ref);
          const peers = await resolvePeers(client, users);
          const ids = peers.map((p) => p.userId);
          if (adding) await client.addMembers(groupId, ids);
          else await client.removeMembers(groupId, ids);
          out.line(
            adding
              ? `Added ${namesOf(peers)} to ${ref}.`
              : `Removed ${namesOf(peers)} from ${ref}.`,
          );
        }),
      );
  }

  group
    .command("send")
    .description("Send one message to a group and exit")
    .argument("<group>", "its name or id")
    .argument("<text...>", "the message")
    .action(
      action(async (client, ref: string, words: string[]) => {
        const groupId = await findMyGroup(client, ref);
        const sent = await client.sendText(groupId, words.join(" "));
        out.line(sent.status === "sent" ? `sent to ${ref}` : "queued: the server is unreachable");
      }),
    );

  group
    .command("read")
    .description("The group's messages this device has, oldest first")
    .argument("<group>", "its name or id")
    .option("-n, --last <n>", "how many", "20")
    .action(
      action(async (client, ref: string, options: { last: string }) => {
        const groupId = await findMyGroup(client, ref);
        const shown = (await client.messages(groupId)).filter((m) => textOf(m) !== "");
        const last = shown.slice(Math.max(0, shown.length - Number(options.last)));
        const senders = last.flatMap((m) =>
          m.fromMe || !m.senderUserId ? [] : [{ userId: m.senderUserId }],
        );
        const names = await memberNames(client, senders);
        if (shown.length === 0) out.line(`No messages in ${ref} yet.`);
        for (const m of last) {
          const who = m.fromMe ? "me" : (names.get(m.senderUserId ?? "") ?? "someone");
          out.line(`${who}: ${textOf(m)}`);
        }
      }),
    );

  groupSubcommands(group, action, out);
}
