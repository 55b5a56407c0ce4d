#!/usr/bin/env node
import { homedir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import { isVeilError, VeilClient } from "../index.js";
import { FileStore, nodeWebSocket } from "../node.js";
import { channelCommands } from "./channel-commands.js";
import {
  type Peer,
  requireRegistered,
  resolvePeer,
  safetyNumberGroups,
  type Terminal,
} from "./cli-kit.js";
import { communityCommands } from "./community-commands.js";
import { groupCommands } from "./group-commands.js";

const defaultServer = process.env.VEIL_SERVER ?? "http://localhost:8080";

interface GlobalOptions {
  profile: string;
  profileDir?: string;
  server?: string;
}

const program = new Command()
  .name("veil-chat")
  .description(
    "Chat end-to-end encrypted from a terminal, on the Veil SDK.\n" +
      "Each profile is one device; its keys and chats live under ~/.veil-chat/<profile>.",
  )
  .version("0.1.0")
  .option("-p, --profile <name>", "profile (one device) to use", "default")
  .option("--profile-dir <dir>", "where the profile lives (default ~/.veil-chat/<profile>)")
  .option("-s, --server <url>", `the Veil server (VEIL_SERVER, default ${defaultServer})`);

const out: Terminal = {
  line: (text) => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

/** Opens the profile's store and client; the server URL is remembered per profile. */
async function openClient(): Promise<{ client: VeilClient; serverUrl: string }> {
  const options = program.opts<GlobalOptions>();
  const dir = options.profileDir ?? path.join(homedir(), ".veil-chat", options.profile);
  const store = await FileStore.open(dir);
  const saved = await store.get("cli", "server");
  const serverUrl = options.server ?? (typeof saved === "string" ? saved : defaultServer);
  if (saved !== serverUrl)
    await store.write([{ type: "put", ns: "cli", key: "server", value: serverUrl }]);
  const client = await VeilClient.open({ serverUrl, store, webSocket: nodeWebSocket });
  client.on("error", (e) => {
    if (e.error.code !== "network_error") out.error(`(${e.error.code})`);
  });
  return { client, serverUrl };
}

/** Runs a command with a client, closing it after and turning errors into one line. */
function action<A extends unknown[]>(work: (client: VeilClient, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    let client: VeilClient | undefined;
    try {
      ({ client } = await openClient());
      await work(client, ...args);
      await client.close();
      process.exit(0);
    } catch (err) {
      if (isVeilError(err)) out.error(`error: ${err.code}: ${err.message}`);
      else out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      await client?.close().catch(() => undefined);
      process.exit(1);
    }
  };
}

/** Lines from stdin (the terminal or a pipe), opened on first use. */
let stdinLines: AsyncIterator<string> | undefined;
function lines(): AsyncIterator<string> {
  stdinLines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  return stdinLines;
}

async function ask(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const next = await lines().next();
  if (next.done) throw new Error("no input");
  return next.value.trim();
}

/** Signs in, connects, and opens (or starts) the direct chat with a peer. */
async function startChatWith(client: VeilClient, peerArg: string) {
  requireRegistered(client);
  await client.start();
  const peer = await resolvePeer(client, peerArg);
  const groupId = await openChat(client, peer);
  return { peer, groupId };
}

program
  .command("register")
  .description("Create an account with this profile as its first device")
  .requiredOption("-n, --name <name>", "your display name")
  .option("--phone <number>", "your phone number, international form (+1 415 555 0101)")
  .option("--username <username>", "an optional handle")
  .action(
    action(async (client, options: { name: string; phone?: string; username?: string }) => {
      let phone: { verificationId: string; code: string } | undefined;
      if (options.phone) {
        const { verificationId } = await client.requestPhoneVerification(options.phone);
        out.line(`A verification code was sent to ${options.phone}.`);
        out.line("(With the server's console verifier, the code is in the server's log.)");
        phone = { verificationId, code: await ask("Code: ") };
      }
      const profile = await client.register({
        name: options.name,
        ...(options.username ? { username: options.username } : {}),
        ...(phone ? { phone } : {}),
        deviceName: "veil-chat",
      });
      out.line(`Registered ${profile.name}: user ${profile.id}, device ${client.deviceId}`);
      if (profile.phone)
        out.line(`Others can start a chat with you by your number, ${profile.phone}.`);
    }),
  );

program
  .command("whoami")
  .description("Show this profile's account and device")
  .action(
    action(async (client) => {
      requireRegistered(client);
      const me = await client.api.me();
      out.line(`name:   ${me.name}`);
      out.line(`user:   ${me.id}`);
      out.line(`device: ${client.deviceId}`);
      if (me.phone) out.line(`phone:  ${me.phone}`);
      out.line(`server: ${client.api.baseUrl}`);
    }),
  );

program
  .command("add-contact")
  .description("Add someone to your contacts by phone number")
  .argument("<phone>", "their number, international form")
  .action(
    action(async (client, phone: string) => {
      requireRegistered(client);
      const contact = await client.api.addContact({ phone });
      out.line(`Added ${contact.name ?? contact.id} (${contact.id}) to your contacts.`);
    }),
  );

program
  .command("send")
  .description("Send one message and exit")
  .argument("<peer>", "their phone number or user id")
  .argument("<text...>", "the message")
  .action(
    action(async (client, peerArg: string, words: string[]) => {
      const { peer, groupId } = await startChatWith(client, peerArg);
      const sent = await client.sendText(groupId, words.join(" "));
      out.line(
        sent.status === "sent" ? `sent to ${peer.name}` : "queued: the server is unreachable",
      );
    }),
  );

program
  .command("chat")
  .description("Chat with someone: incoming messages appear live, each line you type is sent")
  .argument("<peer>", "their phone number or user id")
  .action(
    action(async (client, peerArg: string) => {
      const { peer, groupId } = await startChatWith(client, peerArg);
      const mine = new Map<string, string>();
      const label = (text: string) => (text.length > 24 ? `${text.slice(0, 24)}…` : text);
      for (const m of (await client.messages(groupId)).slice(-10)) {
        if (m.content.type === "text")
          out.line(`${m.fromMe ? "me" : peer.name}: ${m.content.text}`);
      }
      client.on("message", (m) => {
        if (m.groupId !== groupId || m.content.type === "reaction") return;
        const text =
          m.content.type === "text" ? m.content.text : `[attachment] ${m.content.caption}`;
        out.line(`${m.fromMe ? "me (other device)" : peer.name}: ${text}`);
        if (!m.fromMe) void client.markRead(groupId, [m.id]).catch(() => undefined);
      });
      const shown = new Set<string>();
      client.on("receipt", (r) => {
        if (r.groupId !== groupId || r.fromMe) return;
        for (const id of r.messageIds) {
          const text = mine.get(id);
          // Each of the peer's devices acknowledges: show each status once.
          if (text === undefined || shown.has(`${r.status}:${id}`) || shown.has(`read:${id}`)) {
            continue;
          }
          shown.add(`${r.status}:${id}`);
          out.line(`  ${r.status}: "${label(text)}"`);
        }
      });
      client.on("typing", (e) => {
        if (e.groupId === groupId && e.typing) out.line(`  ${peer.name} is typing…`);
      });
      client.on("connection", (e) => {
        if (e.state === "disconnected") out.line("  (offline: reconnecting…)");
      });
      out.line(`Chatting with ${peer.name}. Type a message and press Enter; Ctrl-D to quit.`);
      for await (const line of { [Symbol.asyncIterator]: lines }) {
        const text = line.trim();
        if (!text) continue;
        const sent = await client.sendText(groupId, text);
        mine.set(sent.id, text);
        if (sent.status === "queued") out.line("  (queued: will be sent when back online)");
      }
    }),
  );

program
  .command("link")
  .description("Make this (empty) profile a new device of an existing account")
  .option("-n, --name <name>", "this device's name", "veil-chat")
  .action(
    action(async (client, options: { name: string }) => {
      const { offer, approved } = await client.linkDevice({ deviceName: options.name });
      out.line("On a device already signed in to your account, run:");
      out.line(`  veil-chat approve ${offer.uri}`);
      out.line(`(code ${offer.code}; it expires at ${offer.expiresAt})`);
      await approved;
      out.line(`Linked: this is now device ${client.deviceId} of user ${client.userId}.`);
      out.line("Your other device adds it to your chats; new messages reach it from now on.");
    }),
  );

program
  .command("approve")
  .description("Approve a new device of your account (what `veil-chat link` printed)")
  .argument("<link>", "veil-link:<code>:<key>, or the 8-digit code")
  .action(
    action(async (client, link: string) => {
      requireRegistered(client);
      await client.start();
      const linked = client.waitFor("device-linked", () => true, 120_000);
      const { deviceId, name, fingerprint } = await client.approveDevice(link);
      out.line(
        `Approved "${name}" (${deviceId}), key ${fingerprint}: compare it with the new device.`,
      );
      out.line("Adding it to your chats once it is online…");
      const done = await linked;
      out.line(`Added device ${done.deviceId} to ${done.groups.length} chat(s).`);
    }),
  );

program
  .command("safety-number")
  .description("Show the safety number of your chat with someone, to compare in person")
  .argument("<peer>", "their phone number or user id")
  .action(
    action(async (client, peerArg: string) => {
      const { peer } = await startChatWith(client, peerArg);
      const number = await client.safetyNumber(peer.userId);
      out.line(`Safety number with ${peer.name}:`);
      for (const row of safetyNumberGroups(number)) out.line(`  ${row}`);
      out.line("It covers every device of both of you; compare it with theirs.");
    }),
  );

/** The direct chat with `peer`, waiting for this device to be added if the peer made it. */
async function openChat(client: VeilClient, peer: Peer): Promise<string> {
  const chat = await client.startDirectChat(peer.userId);
  if (!chat.joined) {
    out.line(`Waiting for ${peer.name}'s device to add this one to the chat…`);
    await client.waitForChat(chat.groupId, 120_000);
  }
  return chat.groupId;
}

communityCommands(program, action, out);
groupCommands(program, action, out);
channelCommands(program, action, out);

program.parseAsync().catch((err: unknown) => {
  out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
