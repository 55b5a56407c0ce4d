import type {
  ChannelPost,
  ChannelView,
  CreatePoll,
  CreatePostRequest,
  LinkPreview,
} from "@veil/protocol";
import type { ChannelPostFrame } from "./connection.js";
import { type ClientContext, reportError } from "./context.js";
import { isVeilError } from "./errors.js";
import { ChannelCursorRecord, del, ns, put } from "./local-state.js";
import { KeyedMutex } from "./mutex.js";

/** Posts asked for per request while catching up (the server's page is 200 at most). */
const pageSize = 100;

/**
 * The channels this device follows, read in order: a cursor per channel (the
 * last post sequence shown) kept in the store, live frames shown once, and
 * after every reconnect what came while offline, fetched from the cursor.
 * Channels are public, so there is no key or MLS state here: only cursors.
 */
export class ChannelFeed {
  /** One channel's cursor moves under its lock: live frames and catch-up never interleave. */
  private readonly lock = new KeyedMutex();

  constructor(private readonly context: ClientContext) {}

  /**
   * Reads a newly followed channel from its current end (older posts:
   * `channelPosts`); for a channel already followed, keeps its `muted`.
   */
  followed(view: ChannelView): Promise<void> {
    return this.lock.run(view.id, async () => {
      const kept = await this.record(view.id);
      if (kept === undefined) await this.setRecord(view.id, view.lastSeq, view.muted);
      else if ((kept.muted ?? false) !== view.muted) {
        await this.setRecord(view.id, kept.cursor, view.muted);
      }
    });
  }

  /** Forgets a channel no longer followed (or deleted). */
  forget(channelId: string): Promise<void> {
    return this.lock.run(channelId, () =>
      this.context.state.write([del(ns.channelCursors, channelId)]),
    );
  }

  /**
   * After a (re)connect: each followed channel from its cursor. A follow made
   * on another device starts at the channel's end; an unfollow forgets it.
   */
  async catchUp(): Promise<void> {
    const { channels } = await this.context.api.myChannels();
    const followed = channels.filter((c) => c.following);
    const known = new Map(
      (await this.context.state.listJson(ChannelCursorRecord, ns.channelCursors)).map((e) => [
        e.key,
        e.value.cursor,
      ]),
    );
    for (const channel of followed) {
      const cursor = known.get(channel.id);
      // A new follow starts at the channel's end; a known one takes a mute made elsewhere.
      await this.followed(channel);
      if (cursor !== undefined && channel.lastSeq > cursor) {
        try {
          await this.sync(channel.id);
        } catch (err) {
          // Network trouble ends this catch-up (the next reconnect runs another); anything else is one channel's.
          if (!isVeilError(err) || err.retryable) throw err;
          reportError(this.context, err, { groupId: channel.id });
        }
      }
    }
    const following = new Set(followed.map((c) => c.id));
    for (const channelId of known.keys()) {
      if (!following.has(channelId)) await this.forget(channelId);
    }
  }

  /** Fetches and shows the posts after the cursor. */
  sync(channelId: string): Promise<void> {
    return this.lock.run(channelId, () => this.fetchAfterCursor(channelId));
  }

  /**
   * A `channel.post` frame: a new post shown once, in order; a post shown
   * before, changed (edited, or its poll closed), shown again as `edited`.
   */
  onPost(post: ChannelPostFrame): Promise<void> {
    return this.lock.run(post.channelId, async () => {
      const kept = await this.record(post.channelId);
      const cursor = kept?.cursor;
      const muted = kept?.muted ?? false;
      if (cursor === undefined || post.seq === cursor + 1) {
        this.context.events.emit("channel-post", {
          post,
          edited: post.editedAt !== null,
          source: "live",
          muted,
        });
        await this.setRecord(post.channelId, post.seq, muted);
      } else if (post.seq <= cursor) {
        // A post already shown: a change is news (the server sends a post again only
        // when it changes), a repeat of a new post that catch-up showed first is not.
        if (post.editedAt !== null || post.poll?.closed) {
          this.context.events.emit("channel-post", { post, edited: true, source: "live", muted });
        }
      } else {
        // A gap (frames lost while the socket was slow): fetch from the cursor, this one included.
        await this.fetchAfterCursor(post.channelId);
      }
    });
  }

  private async fetchAfterCursor(channelId: string): Promise<void> {
    const kept = await this.record(channelId);
    if (kept === undefined) return;
    let cursor = kept.cursor;
    const muted = kept.muted ?? false;
    const start = cursor;
    try {
      for (;;) {
        const page = await this.context.api.channelPosts(channelId, cursor, pageSize);
        for (const post of page.posts) {
          if (post.seq <= cursor) continue;
          this.show(post, muted);
          cursor = post.seq;
        }
        if (page.posts.length < pageSize) {
          // What is missing up to lastSeq was deleted or is past retention.
          cursor = Math.max(cursor, page.lastSeq);
          break;
        }
      }
    } catch (err) {
      if (isVeilError(err, "channel_not_found")) {
        await this.context.state.write([del(ns.channelCursors, channelId)]);
        return;
      }
      if (cursor > start) await this.setRecord(channelId, cursor, muted);
      throw err;
    }
    if (cursor !== start) await this.setRecord(channelId, cursor, muted);
  }

  private show(post: ChannelPost, muted: boolean): void {
    this.context.events.emit("channel-post", { post, edited: false, source: "catch-up", muted });
  }

  /** The channel's cursor and mute, as this device keeps them (undefined: not followed here). */
  private record(channelId: string) {
    return this.context.state.json(ChannelCursorRecord, ns.channelCursors, channelId);
  }

  private setRecord(channelId: string, cursor: number, muted: boolean): Promise<void> {
    return this.context.state.write([put(ns.channelCursors, channelId, { cursor, muted })]);
  }
}

// --- what a post is made of, and links to posts --------------------------------

/**
 * What an admin posts: text (or the caption of media), media, a link preview,
 * a poll; at least one of text, media and poll. Media and the preview's image
 * are bytes to upload (the server sniffs their type and checks their size) or
 * the ids of media already uploaded to the channel.
 */
export interface ChannelPostContent {
  text?: string;
  media?: (Uint8Array | string)[];
  /** Made by the client: the server never fetches the URL. */
  preview?: Omit<LinkPreview, "image"> & { image?: Uint8Array | string };
  /** Single choice unless `multiple`; open until `closesAt` (ahead) or for as long as the post is kept. */
  poll?: Omit<CreatePoll, "closesAt"> & { closesAt?: Date | string };
}

/** The request for a post, its bytes uploaded first with `upload` (which answers a media id). */
export async function channelPostRequest(
  content: ChannelPostContent,
  upload: (bytes: Uint8Array) => Promise<string>,
): Promise<Omit<CreatePostRequest, "id">> {
  const mediaId = (m: Uint8Array | string) => (typeof m === "string" ? m : upload(m));
  const media = content.media ? await Promise.all(content.media.map(mediaId)) : [];
  const request: Omit<CreatePostRequest, "id"> = {};
  if (content.text) request.text = content.text;
  if (media.length > 0) request.media = media;
  if (content.preview) {
    const { image, ...preview } = content.preview;
    request.preview = image === undefined ? preview : { ...preview, image: await mediaId(image) };
  }
  if (content.poll) {
    const { closesAt, ...poll } = content.poll;
    request.poll =
      closesAt === undefined
        ? poll
        : { ...poll, closesAt: typeof closesAt === "string" ? closesAt : closesAt.toISOString() };
  }
  return request;
}

/** A link to a channel: a post's (`veil://channel/<handle>/<seq>`) or an invite (`veil-channel:<code>`). */
export type ChannelLink =
  | { type: "handle"; handle: string; seq: number | null }
  | { type: "invite"; code: string };

const postLinkPattern = /veil:\/\/channel\/([A-Za-z][A-Za-z0-9._]{2,31})(?:\/(\d{1,15}))?/;
const inviteLinkPattern = /veil-channel:([A-Za-z0-9_-]{16,64})/;

/** The first channel link in a text (a forwarded post, a shared invite), or null. */
export function parseChannelLink(text: string): ChannelLink | null {
  const post = postLinkPattern.exec(text);
  if (post) {
    const seq = post[2] === undefined ? null : Number(post[2]);
    return { type: "handle", handle: (post[1] as string).toLowerCase(), seq };
  }
  const invite = inviteLinkPattern.exec(text);
  return invite ? { type: "invite", code: invite[1] as string } : null;
}

/**
 * The text to forward a post with (into a chat, end-to-end encrypted as any
 * message): its text, or its poll's question, or what media it has, then its
 * link back to the channel. It names the channel and the post, never who
 * posted or who forwards.
 */
export function forwardedChannelPost(
  post: Pick<ChannelPost, "text" | "link" | "media" | "poll">,
): string {
  const handle = parseChannelLink(post.link);
  const from = handle?.type === "handle" ? `@${handle.handle}` : "a channel";
  const media =
    post.media.length > 0 ? `[${post.media.length} file${post.media.length === 1 ? "" : "s"}]` : "";
  const body = post.text || (post.poll ? `Poll: ${post.poll.question}` : media);
  return `${body}${body ? "\n\n" : ""}Forwarded from ${from}: ${post.link}`;
}
