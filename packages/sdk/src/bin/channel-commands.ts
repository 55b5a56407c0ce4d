import { readFile } from "node:fs/promises";
import type { ReactionPolicy, UpdateChannelRequest } from "@veil/protocol";
import type { Command } from "commander";
import type { VeilClient } from "../client.js";
import { isVeilError } from "../errors.js";
import type { ChannelPost, ChannelView, HeldItem } from "../index.js";
import { isHeld } from "../moderation.js";
import { requireRegistered, resolvePeer, type Terminal } from "./cli-kit.js";
import { type Action, findMyGroup } from "./community-commands.js";

/** A channel by id, by @handle or handle, by an invite link (`veil-channel:<code>`) or a post's link. */
/** A channel by @handle or id, for a registered client. */
async function signedInChannel(client: VeilClient, ref: string): Promise<ChannelView> {
  requireRegistered(client);
  return findChannel(client, ref);
}

async function findChannel(client: VeilClient, ref: string): Promise<ChannelView> {
  if (/^h_[A-Za-z0-9_-]+$/.test(ref)) return client.channel(ref);
  if (ref.startsWith("veil-channel:") || ref.startsWith("veil://channel/")) {
    return (await client.openChannelLink(ref)).channel;
  }
  const handle = ref.replace(/^@/, "").toLowerCase();
  try {
    return await client.channelByHandle(handle);
  } catch (err) {
    if (!isVeilError(err, "channel_not_found")) throw err;
    // A suspended channel is still there for its admins and followers.
    const mine = (await client.myChannels()).find((c) => c.handle === handle);
    if (!mine) throw new Error(`no channel @${handle} (see \`veil-chat channel search\`)`);
    return mine;
  }
}

/** A post's number as typed (`3` or `#3`). */
function seqOf(text: string): number {
  const seq = Number(text.replace(/^#/, ""));
  if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`not a post number: ${text}`);
  return seq;
}

/** One post as it is kept now; an error when it was deleted or is past retention. */
async function postOf(client: VeilClient, channelId: string, seq: number): Promise<ChannelPost> {
  const { posts } = await client.channelPosts(channelId, { after: seq - 1, limit: 1 });
  const post = posts[0];
  if (post?.seq !== seq) throw new Error(`no post #${seq} (deleted, or past retention)`);
  return post;
}

/** A time as typed (ISO 8601), or an error naming the option. */
function timeOf(text: string): Date {
  const at = new Date(text);
  if (Number.isNaN(at.getTime()))
    throw new Error(`not a time: ${text} (e.g. 2030-01-31T18:00:00Z)`);
  return at;
}

const reactionPolicies: readonly ReactionPolicy[] = ["any", "default", "none"];

/** A reaction setting as typed. */
function reactionPolicyOf(text: string): ReactionPolicy {
  const policy = reactionPolicies.find((p) => p === text.toLowerCase());
  if (!policy) throw new Error(`"${text}" is not one of: ${reactionPolicies.join(", ")}`);
  return policy;
}

/**
 * The chat to forward into: a group (by name or id) with `group`, else the
 * direct chat with someone (a phone number or user id), started if need be.
 */
async function chatOf(client: VeilClient, to: string, group: boolean) {
  if (group || /^g_[A-Za-z0-9_-]+$/.test(to)) {
    return { groupId: await findMyGroup(client, to), name: to };
  }
  requireRegistered(client);
  await client.start();
  const peer = await resolvePeer(client, to);
  const chat = await client.startDirectChat(peer.userId);
  if (!chat.joined) await client.waitForChat(chat.groupId, 120_000);
  return { groupId: chat.groupId, name: peer.name };
}

/** Repeatable options (`--option A --option B`) collect into a list. */
const collect = (value: string, previous: string[]) => [...previous, value];

const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([emoji, n]) => `${emoji} ${n}`)
    .join("  ");

const sizeText = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1 << 20
      ? `${Math.round(bytes / 1024)} KB`
      : `${(bytes / (1 << 20)).toFixed(1)} MB`;

type ShownPost = Pick<ChannelPost, "seq" | "text" | "media" | "preview" | "poll" | "editedAt"> &
  Partial<Pick<ChannelPost, "reactions">>;

/** A post as lines: its text and counts, then its files, link preview and poll. */
function postLines(p: ShownPost): string[] {
  const counts = p.reactions ? countsText(p.reactions) : "";
  const edited = p.editedAt ? " (edited)" : "";
  const lines = [
    `#${p.seq}${edited}${p.text ? `  ${p.text}` : ""}${counts ? `   (${counts})` : ""}`,
  ];
  for (const m of p.media) lines.push(`   file: ${m.contentType}, ${sizeText(m.size)} (${m.id})`);
  if (p.preview) lines.push(`   link: ${p.preview.title || p.preview.url}  <${p.preview.url}>`);
  if (p.poll) lines.push(...pollLines(p.poll));
  return lines;
}

function pollLines(poll: NonNullable<ChannelPost["poll"]>): string[] {
  const state = [poll.multiple ? "several choices" : "one choice"];
  if (poll.closed) state.push("closed");
  else if (poll.closesAt) state.push(`closes ${poll.closesAt}`);
  return [
    `   poll: ${poll.question}  (${state.join(", ")})`,
    ...poll.options.map(
      (o, i) =>
        `     ${i + 1}. ${o.text}  ${o.votes}${poll.myVote.includes(i) ? "  (your vote)" : ""}`,
    ),
    `     ${poll.voters} voter${poll.voters === 1 ? "" : "s"}`,
  ];
}

/** Options as typed: their numbers (from 1) or their text, as indexes. */
function optionIndexes(poll: NonNullable<ChannelPost["poll"]>, chosen: string[]): number[] {
  return chosen.map((choice) => {
    const n = Number(choice);
    if (Number.isInteger(n) && n >= 1 && n <= poll.options.length) return n - 1;
    const i = poll.options.findIndex((o) => o.text.toLowerCase() === choice.toLowerCase());
    if (i < 0) throw new Error(`no option "${choice}" (the options are numbered from 1)`);
    return i;
  });
}

/** `veil-chat channel …`: public channels, posted as the channel, read by followers. */
export function channelCommands(program: Command, action: Action, out: Terminal): void {
  const channel = program
    .command("channel")
    .description(
      "Channels: public, one-to-many; admins post as the channel, followers read and react",
    );

  channel
    .command("create")
    .description("Create a channel (you are its owner)")
    .argument("<handle>", "its public handle: 3 to 32 of a-z, 0-9, '.', '_'")
    .argument("<name>", "its name")
    .option("-d, --description <text>", "what it is about")
    .option("--category <category>", "a directory category, e.g. news")
    .option("--country <code>", "a country, e.g. GB")
    .action(
      action(
        async (
          client,
          handle: string,
          name: string,
          options: { description?: string; category?: string; country?: string },
        ) => {
          requireRegistered(client);
          const c = await client.createChannel({
            name,
            handle,
            ...(options.description ? { description: options.description } : {}),
            ...(options.category ? { category: options.category } : {}),
            ...(options.country ? { country: options.country.toUpperCase() } : {}),
          });
          out.line(`Created @${c.handle} "${c.name}" (${c.id}).`);
          out.line(`Share it as veil-channel:${c.inviteCode}`);
        },
      ),
    );

  channel
    .command("search")
    .description("Search the directory by name or handle")
    .argument("[words...]", "what to look for")
    .option("--category <category>", "only this category")
    .option("--country <code>", "only this country")
    .option("--sort <order>", "new, active or popular")
    .action(
      action(
        async (
          client,
          words: string[],
          options: { category?: string; country?: string; sort?: "new" | "active" | "popular" },
        ) => {
          requireRegistered(client);
          const q = words.join(" ");
          const found = await client.channelDirectory({
            ...(q ? { q } : {}),
            ...(options.category ? { category: options.category } : {}),
            ...(options.country ? { country: options.country.toUpperCase() } : {}),
            ...(options.sort ? { sort: options.sort } : {}),
          });
          if (found.length === 0) out.line("No channel found.");
          for (const c of found) {
            const badge = c.verified ? " ✓" : "";
            out.line(`@${c.handle}${badge}  ${c.name}  (${c.followerCount} followers)`);
          }
        },
      ),
    );

  channel
    .command("info")
    .description("A channel: name, description, followers, your place in it")
    .argument("<channel>", "@handle, id, or veil-channel:<code>")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        out.line(`@${c.handle}${c.verified ? " ✓" : ""}  ${c.name} (${c.id})`);
        if (c.description) out.line(c.description);
        if (c.category || c.country)
          out.line(`${[c.category, c.country].filter(Boolean).join(", ")}`);
        out.line(`followers: ${c.followerCount}`);
        out.line(`posts:     ${c.lastSeq}`);
        out.line(`reactions: ${c.reactionPolicy}`);
        out.line(
          `you:       ${c.role ?? (c.following ? (c.muted ? "following (muted)" : "following") : "not following")}`,
        );
        out.line(`invite:    veil-channel:${c.inviteCode}`);
        if (c.status === "suspended") out.line(`suspended: ${c.suspensionReason ?? ""}`);
      }),
    );

  channel
    .command("follow")
    .description("Follow a channel (nobody sees who follows); --mute to follow quietly")
    .argument("<channel>", "@handle, id, or veil-channel:<code>")
    .option("--mute", "follow, muted")
    .action(
      action(async (client, ref: string, options: { mute?: boolean }) => {
        const c = await signedInChannel(client, ref);
        await client.followChannel(c.id, { muted: options.mute ?? false });
        out.line(`Following @${c.handle}${options.mute ? " (muted)" : ""}.`);
      }),
    );

  channel
    .command("unfollow")
    .description("Stop following a channel")
    .argument("<channel>", "@handle or id")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        await client.unfollowChannel(c.id);
        out.line(`No longer following @${c.handle}.`);
      }),
    );

  channel
    .command("post")
    .description("Post as the channel (admins): text, files, a poll")
    .argument("<channel>", "@handle or id")
    .argument("[text...]", "the post, or the caption of its files")
    .option(
      "--image <file>",
      "attach a file: JPEG, PNG, WebP, MP4, MP3 or PDF (repeatable)",
      collect,
      [],
    )
    .option("--link <url>", "a link preview (made here: the server never fetches the URL)")
    .option("--link-title <text>", "the link preview's title")
    .option("--link-description <text>", "the link preview's description")
    .option("--link-image <file>", "the link preview's image (uploaded as channel media)")
    .option("--poll <question>", "post a poll (with two or more --option)")
    .option("--option <text>", "a poll option (repeatable)", collect, [])
    .option("--multiple", "several options per follower")
    .option("--closes <time>", "when voting stops, e.g. 2030-01-31T18:00:00Z")
    .action(
      action(
        async (
          client,
          ref: string,
          words: string[],
          options: {
            image: string[];
            link?: string;
            linkTitle?: string;
            linkDescription?: string;
            linkImage?: string;
            poll?: string;
            option: string[];
            multiple?: boolean;
            closes?: string;
          },
        ) => {
          const c = await signedInChannel(client, ref);
          const media = await Promise.all(options.image.map((file) => readFile(file)));
          const text = words.join(" ");
          const poll = options.poll
            ? {
                question: options.poll,
                options: options.option,
                ...(options.multiple ? { multiple: true } : {}),
                ...(options.closes ? { closesAt: timeOf(options.closes) } : {}),
              }
            : undefined;
          if (!options.link && (options.linkTitle || options.linkDescription || options.linkImage))
            throw new Error("--link-title, --link-description and --link-image need --link <url>");
          const preview = options.link
            ? {
                url: options.link,
                title: options.linkTitle ?? "",
                description: options.linkDescription ?? "",
                ...(options.linkImage ? { image: await readFile(options.linkImage) } : {}),
              }
            : undefined;
          const post = await client.postToChannel(c.id, {
            ...(text ? { text } : {}),
            ...(media.length > 0 ? { media } : {}),
            ...(preview ? { preview } : {}),
            ...(poll ? { poll } : {}),
          });
          if (isHeld(post)) {
            out.line(heldLine(post));
            return;
          }
          out.line(`Posted #${post.seq} to @${c.handle} (${c.followerCount} followers).`);
          for (const line of postLines(post).slice(1)) out.line(line);
        },
      ),
    );

  channel
    .command("read")
    .description(
      "Read a channel's posts (anyone may preview); --follow stays and shows new ones live",
    )
    .argument("<channel>", "@handle, id, or veil-channel:<code>")
    .option("-n, --last <n>", "how many", "20")
    .option("-f, --follow", "stay connected and show new posts as they come")
    .action(
      action(async (client, ref: string, options: { last: string; follow?: boolean }) => {
        const c = await signedInChannel(client, ref);
        const last = Math.max(1, Number(options.last) || 20);
        const { posts } = await client.channelPosts(c.id, {
          after: Math.max(0, c.lastSeq - last),
          limit: last,
        });
        if (posts.length === 0) out.line(`No posts in @${c.handle} yet.`);
        for (const p of posts) for (const line of postLines(p)) out.line(line);
        if (!options.follow) return;
        if (!c.following) await client.followChannel(c.id);
        client.on("channel-post", (e) => {
          if (e.post.channelId !== c.id) return;
          // A terminal cannot be quiet: a muted channel's posts say so.
          const [first = "", ...rest] = postLines(e.post);
          out.line(e.muted ? `${first}   (muted)` : first);
          for (const line of rest) out.line(line);
        });
        client.on("channel-post-deleted", (e) => {
          if (e.channelId === c.id) out.line(`  #${e.seq} was deleted`);
        });
        client.on("channel-counts", (e) => {
          if (e.channelId !== c.id) return;
          const votes = e.poll
            ? `   poll: ${e.poll.votes.join(" / ")} (${e.poll.voters} voters)`
            : "";
          out.line(`  #${e.seq}: ${countsText(e.counts) || "no reactions"}${votes}`);
        });
        await client.start();
        out.line(`Reading @${c.handle} live; Ctrl-C to quit.`);
        await new Promise<never>(() => {});
      }),
    );

  channel
    .command("react")
    .description("React to a post (followers; one emoji per post); --remove takes it back")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number (see `read`)")
    .argument("[emoji]", "the reaction", "👍")
    .option("--remove", "take your reaction back")
    .action(
      action(
        async (client, ref: string, seq: string, emoji: string, options: { remove?: boolean }) => {
          const c = await signedInChannel(client, ref);
          const post = options.remove
            ? await client.removeChannelReaction(c.id, Number(seq))
            : await client.reactToChannelPost(c.id, Number(seq), emoji);
          out.line(`#${post.seq}: ${countsText(post.reactions) || "no reactions"}`);
        },
      ),
    );

  channel
    .command("vote")
    .description("Vote in a post's poll (followers); voting again changes your vote")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number (see `read`)")
    .argument("<options...>", "the options: their numbers (from 1) or their text")
    .action(
      action(async (client, ref: string, seqText: string, chosen: string[]) => {
        const c = await signedInChannel(client, ref);
        const seq = seqOf(seqText);
        const { poll } = await postOf(client, c.id, seq);
        if (!poll) throw new Error(`#${seq} has no poll`);
        const post = await client.voteInChannelPoll(c.id, seq, optionIndexes(poll, chosen));
        if (post.poll) for (const line of pollLines(post.poll)) out.line(line);
      }),
    );

  const pollActions = [
    {
      name: "unvote",
      description: "Withdraw your vote while the poll is open",
      run: (client: VeilClient, channelId: string, seq: number) =>
        client.withdrawChannelVote(channelId, seq),
    },
    {
      name: "close-poll",
      description: "Close a post's poll now (admins): votes stop, the counts stay",
      run: (client: VeilClient, channelId: string, seq: number) =>
        client.closeChannelPoll(channelId, seq),
    },
  ];
  for (const pollAction of pollActions) {
    channel
      .command(pollAction.name)
      .description(pollAction.description)
      .argument("<channel>", "@handle or id")
      .argument("<seq>", "the post's number")
      .action(
        action(async (client, ref: string, seqText: string) => {
          const c = await signedInChannel(client, ref);
          const post = await pollAction.run(client, c.id, seqOf(seqText));
          if (post.poll) for (const line of pollLines(post.poll)) out.line(line);
        }),
      );
  }

  channel
    .command("edit")
    .description("Change a post's text (admins, for 30 days)")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number")
    .argument("<text...>", "the new text")
    .action(
      action(async (client, ref: string, seqText: string, words: string[]) => {
        const c = await signedInChannel(client, ref);
        const post = await client.editChannelPost(c.id, seqOf(seqText), words.join(" "));
        if (isHeld(post)) out.line(heldLine(post));
        else for (const line of postLines(post)) out.line(line);
      }),
    );

  channel
    .command("delete")
    .description("Delete a post (admins, for 30 days)")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number")
    .action(
      action(async (client, ref: string, seqText: string) => {
        const c = await signedInChannel(client, ref);
        const seq = seqOf(seqText);
        await client.deleteChannelPost(c.id, seq);
        out.line(`Deleted #${seq} of @${c.handle}.`);
      }),
    );

  channel
    .command("reactions")
    .description("Who reacted to a post (admins): a name and a per-channel handle, never a number")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number")
    .action(
      action(async (client, ref: string, seqText: string) => {
        const c = await signedInChannel(client, ref);
        const who = await client.channelReactions(c.id, seqOf(seqText));
        if (who.length === 0) out.line("No reactions.");
        for (const r of who) out.line(`${r.emoji}  ${r.follower.name} (${r.follower.handle})`);
      }),
    );

  channel
    .command("votes")
    .description("Who voted for what in a post's poll (admins): names and per-channel handles")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number")
    .action(
      action(async (client, ref: string, seqText: string) => {
        const c = await signedInChannel(client, ref);
        const seq = seqOf(seqText);
        const { poll } = await postOf(client, c.id, seq);
        const votes = await client.channelVotes(c.id, seq);
        if (votes.length === 0) out.line("No votes.");
        for (const v of votes) {
          const chosen = v.options.map((i) => poll?.options[i]?.text ?? `${i + 1}`).join(", ");
          out.line(`${v.follower.name} (${v.follower.handle}): ${chosen}`);
        }
      }),
    );

  const admins = channel
    .command("admins")
    .description("The channel's admins: list, invite, accept, remove");

  admins
    .command("list")
    .description("The admins and pending invitations (admins)")
    .argument("<channel>", "@handle or id")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        const { admins: list, invited } = await client.channelAdmins(c.id);
        for (const a of list) out.line(`${a.id}  ${a.name ?? "?"}  (${a.role})`);
        for (const i of invited) {
          out.line(`${i.userId}  ${i.name ?? "?"}  (invited until ${i.expiresAt})`);
        }
      }),
    );

  admins
    .command("invite")
    .description("Invite someone to administer (owner; expires after 7 days)")
    .argument("<channel>", "@handle or id")
    .argument("<user>", "their phone number or user id")
    .action(
      action(async (client, ref: string, user: string) => {
        const c = await signedInChannel(client, ref);
        const peer = await resolvePeer(client, user);
        await client.inviteChannelAdmin(c.id, peer.userId);
        out.line(`Invited ${peer.name} to administer @${c.handle}.`);
        out.line(`They accept with: veil-chat channel admins accept ${c.id}`);
      }),
    );

  admins
    .command("accept")
    .description("Accept an invitation to administer a channel")
    .argument("<channel>", "its id (or @handle)")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        await client.acceptChannelAdmin(c.id);
        out.line(`You are an admin of @${c.handle}.`);
      }),
    );

  admins
    .command("remove")
    .description("Remove an admin or an invitation (owner); `me` steps down")
    .argument("<channel>", "@handle or id")
    .argument("<user>", "their phone number or user id, or me")
    .action(
      action(async (client, ref: string, user: string) => {
        const c = await signedInChannel(client, ref);
        const peer =
          user === "me" ? { userId: "me", name: "you" } : await resolvePeer(client, user);
        await client.removeChannelAdmin(c.id, peer.userId);
        out.line(`Removed ${peer.name} from the admins of @${c.handle}.`);
      }),
    );

  channel
    .command("transfer")
    .description("Hand the channel to another admin (owner); you stay an admin")
    .argument("<channel>", "@handle or id")
    .argument("<user>", "the admin's phone number or user id")
    .action(
      action(async (client, ref: string, user: string) => {
        const c = await signedInChannel(client, ref);
        const peer = await resolvePeer(client, user);
        await client.transferChannel(c.id, peer.userId);
        out.line(`${peer.name} now owns @${c.handle}.`);
      }),
    );

  for (const [name, muted] of [
    ["mute", true],
    ["unmute", false],
  ] as const) {
    channel
      .command(name)
      .description(
        muted
          ? "Keep following without notifications (posts still arrive)"
          : "Follow with notifications again",
      )
      .argument("<channel>", "@handle or id")
      .action(
        action(async (client, ref: string) => {
          const c = await signedInChannel(client, ref);
          await client.muteChannel(c.id, muted);
          out.line(`@${c.handle} is ${muted ? "muted" : "no longer muted"}.`);
        }),
      );
  }

  channel
    .command("settings")
    .description(
      "Change the name, description, category, country or reaction setting (admins); shows them",
    )
    .argument("<channel>", "@handle or id")
    .option("--name <name>", "a new name")
    .option("-d, --description <text>", "a new description")
    .option("--category <category>", "a directory category, e.g. news")
    .option("--no-category", "no category")
    .option("--country <code>", "a country, e.g. GB")
    .option("--no-country", "no country")
    .option("--reactions <setting>", "any emoji, the default set, or none")
    .action(
      action(
        async (
          client,
          ref: string,
          options: {
            name?: string;
            description?: string;
            category?: string | false;
            country?: string | false;
            reactions?: string;
          },
        ) => {
          const c = await signedInChannel(client, ref);
          const changes: UpdateChannelRequest = {};
          if (options.name !== undefined) changes.name = options.name;
          if (options.description !== undefined) changes.description = options.description;
          if (options.category !== undefined) changes.category = options.category || null;
          if (options.country !== undefined) {
            changes.country = options.country ? options.country.toUpperCase() : null;
          }
          if (options.reactions !== undefined) {
            changes.reactionPolicy = reactionPolicyOf(options.reactions);
          }
          let shown: ChannelView = c;
          if (Object.keys(changes).length > 0) {
            const changed = await client.updateChannel(c.id, changes);
            if (isHeld(changed)) {
              out.line(heldLine(changed));
              return;
            }
            shown = changed;
          }
          out.line(`@${shown.handle}  ${shown.name}`);
          out.line(`description: ${shown.description || "(none)"}`);
          out.line(`category:    ${shown.category ?? "(none)"}`);
          out.line(`country:     ${shown.country ?? "(none)"}`);
          out.line(`reactions:   ${shown.reactionPolicy}`);
        },
      ),
    );

  channel
    .command("delete-channel")
    .description("Delete the channel (owner): it then answers like one that never existed")
    .argument("<channel>", "@handle or id")
    .requiredOption("--yes", "yes, delete it")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        await client.deleteChannel(c.id);
        out.line(`Deleted @${c.handle}.`);
      }),
    );

  channel
    .command("forward")
    .description("Forward a post into a chat: its text and its link back to the channel")
    .argument("<channel>", "@handle or id")
    .argument("<seq>", "the post's number")
    .argument("<to>", "a phone number or user id (their direct chat), or a group's id")
    .option("--group", "<to> is a group you are in, by name or id")
    .action(
      action(
        async (client, ref: string, seqText: string, to: string, options: { group?: boolean }) => {
          const c = await signedInChannel(client, ref);
          const post = await postOf(client, c.id, seqOf(seqText));
          const chat = await chatOf(client, to, options.group ?? false);
          const sent = await client.sendText(chat.groupId, client.forwardChannelPost(post));
          out.line(
            sent.status === "sent"
              ? `Forwarded #${post.seq} of @${c.handle} to ${chat.name}.`
              : "queued: the server is unreachable",
          );
        },
      ),
    );

  channel
    .command("invitations")
    .description("Channels whose owner invited you to administer them")
    .action(
      action(async (client) => {
        requireRegistered(client);
        const invited = await client.channelInvitations();
        if (invited.length === 0) out.line("No invitation to administer a channel.");
        for (const c of invited) {
          out.line(`@${c.handle}  ${c.name}  (${c.id})`);
          out.line(`   accept with: veil-chat channel admins accept ${c.id}`);
        }
      }),
    );

  channel
    .command("verify")
    .description("Give a channel the verified badge (platform admins); --off takes it away")
    .argument("<channel>", "@handle, id, or veil-channel:<code>")
    .option("--off", "take the badge away")
    .action(
      action(async (client, ref: string, options: { off?: boolean }) => {
        const c = await signedInChannel(client, ref);
        await client.setChannelVerified(c.id, !options.off);
        out.line(options.off ? `@${c.handle} is no longer verified.` : `@${c.handle} ✓ verified.`);
      }),
    );

  const photo = channel.command("photo").description("The channel's photo (admins)");

  photo
    .command("set")
    .description("Set the channel photo: a PNG, JPEG or WebP file")
    .argument("<channel>", "@handle or id")
    .argument("<file>", "the image")
    .action(
      action(async (client, ref: string, file: string) => {
        const c = await signedInChannel(client, ref);
        const result = await client.setChannelPhoto(c.id, await readFile(file));
        out.line(isHeld(result) ? heldLine(result) : `Photo of @${c.handle} set.`);
      }),
    );

  photo
    .command("remove")
    .description("Remove the channel photo")
    .argument("<channel>", "@handle or id")
    .action(
      action(async (client, ref: string) => {
        const c = await signedInChannel(client, ref);
        await client.setChannelPhoto(c.id, null);
        out.line(`Photo of @${c.handle} removed.`);
      }),
    );

  channel
    .command("open")
    .description("Open a forwarded post's link, or an invite link (no need to follow)")
    .argument(
      "<link...>",
      "veil://channel/<handle>/<seq>, veil-channel:<code>, or a text holding one",
    )
    .action(
      action(async (client, words: string[]) => {
        requireRegistered(client);
        const { channel: c, post } = await client.openChannelLink(words.join(" "));
        out.line(
          `@${c.handle}${c.verified ? " ✓" : ""}  ${c.name}  (${c.followerCount} followers)`,
        );
        if (post) for (const line of postLines(post)) out.line(line);
        else if (/veil:\/\/channel\/\S+\/\d+/.test(words.join(" "))) {
          out.line("That post is gone (deleted, or past retention).");
        }
        if (!c.following) out.line(`Follow it with: veil-chat channel follow @${c.handle}`);
      }),
    );
}

/** A change the content checks held: followers see it once a moderator releases it. */
function heldLine(held: HeldItem): string {
  const why = held.category ? ` (possible ${held.category})` : "";
  return `Held for review${why}: followers will see it once a moderator releases it.`;
}
