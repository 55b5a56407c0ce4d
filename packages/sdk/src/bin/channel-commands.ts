import type { Command } from "commander";
import type { VeilClient } from "../client.js";
import type { ChannelView } from "../index.js";
import { requireRegistered, type Terminal } from "./cli-kit.js";
import type { Action } from "./community-commands.js";

/** A channel by id, by @handle or handle, or by an invite link (`veil-channel:<code>`). */
async function findChannel(client: VeilClient, ref: string): Promise<ChannelView> {
  if (/^h_[A-Za-z0-9_-]+$/.test(ref)) return client.channel(ref);
  if (ref.startsWith("veil-channel:")) return client.openChannelInvite(ref);
  const handle = ref.replace(/^@/, "").toLowerCase();
  const mine = (await client.myChannels()).find((c) => c.handle === handle);
  if (mine) return mine;
  const found = (await client.channelDirectory({ q: handle })).find((c) => c.handle === handle);
  if (!found) throw new Error(`no channel @${handle} (see \`veil-chat channel search\`)`);
  return found;
}

const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([emoji, n]) => `${emoji} ${n}`)
    .join("  ");

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
        requireRegistered(client);
        const c = await findChannel(client, ref);
        out.line(`@${c.handle}${c.verified ? " ✓" : ""}  ${c.name} (${c.id})`);
        if (c.description) out.line(c.description);
        if (c.category || c.country)
          out.line(`${[c.category, c.country].filter(Boolean).join(", ")}`);
        out.line(`followers: ${c.followerCount}`);
        out.line(`posts:     ${c.lastSeq}`);
        out.line(
          `you:       ${c.role ?? (c.following ? (c.muted ? "following (muted)" : "following") : "not following")}`,
        );
        out.line(`invite:    veil-channel:${c.inviteCode}`);
      }),
    );

  channel
    .command("follow")
    .description("Follow a channel (nobody sees who follows); --mute to follow quietly")
    .argument("<channel>", "@handle, id, or veil-channel:<code>")
    .option("--mute", "follow, muted")
    .action(
      action(async (client, ref: string, options: { mute?: boolean }) => {
        requireRegistered(client);
        const c = await findChannel(client, ref);
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
        requireRegistered(client);
        const c = await findChannel(client, ref);
        await client.unfollowChannel(c.id);
        out.line(`No longer following @${c.handle}.`);
      }),
    );

  channel
    .command("post")
    .description("Post as the channel (admins)")
    .argument("<channel>", "@handle or id")
    .argument("<text...>", "the post")
    .action(
      action(async (client, ref: string, words: string[]) => {
        requireRegistered(client);
        const c = await findChannel(client, ref);
        const post = await client.postToChannel(c.id, words.join(" "));
        out.line(`Posted #${post.seq} to @${c.handle} (${c.followerCount} followers).`);
      }),
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
        requireRegistered(client);
        const c = await findChannel(client, ref);
        const last = Math.max(1, Number(options.last) || 20);
        const { posts } = await client.channelPosts(c.id, {
          after: Math.max(0, c.lastSeq - last),
          limit: last,
        });
        if (posts.length === 0) out.line(`No posts in @${c.handle} yet.`);
        for (const p of posts) {
          const counts = countsText(p.reactions);
          const edited = p.editedAt ? " (edited)" : "";
          out.line(`#${p.seq}${edited}  ${p.text}${counts ? `   (${counts})` : ""}`);
        }
        if (!options.follow) return;
        if (!c.following) await client.followChannel(c.id);
        client.on("channel-post", (e) => {
          if (e.post.channelId !== c.id) return;
          out.line(`#${e.post.seq}${e.edited ? " (edited)" : ""}  ${e.post.text}`);
        });
        client.on("channel-post-deleted", (e) => {
          if (e.channelId === c.id) out.line(`  #${e.seq} was deleted`);
        });
        client.on("channel-counts", (e) => {
          if (e.channelId === c.id)
            out.line(`  #${e.seq}: ${countsText(e.counts) || "no reactions"}`);
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
          requireRegistered(client);
          const c = await findChannel(client, ref);
          const post = options.remove
            ? await client.removeChannelReaction(c.id, Number(seq))
            : await client.reactToChannelPost(c.id, Number(seq), emoji);
          out.line(`#${post.seq}: ${countsText(post.reactions) || "no reactions"}`);
        },
      ),
    );
}
