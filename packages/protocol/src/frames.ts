import { type Static, Type } from "@sinclair/typebox";
import type { ChannelPost, PollCounts } from "./channels.js";
import type { ErrorCode } from "./errors.js";
import type { LogEntry, MailboxItem, Signal } from "./messaging.js";
import type { VisibleProfile } from "./profiles.js";

/** Frames a client sends on the WebSocket. The first must be `hello`. */
export const ClientFrame = Type.Union([
  Type.Object(
    { type: Type.Literal("hello"), token: Type.String({ minLength: 1, maxLength: 128 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal("ping"), id: Type.Optional(Type.String({ maxLength: 64 })) },
    { additionalProperties: false },
  ),
]);
export type ClientFrame = Static<typeof ClientFrame>;

/** Frames the server sends. */
export type ServerFrame =
  | {
      type: "ready";
      userId: string;
      deviceId: string;
      sessionId: string;
      heartbeatMs: number;
    }
  | { type: "pong"; id?: string }
  | { type: "error"; code: ErrorCode; message: string }
  /**
   * The node was cut off from the other nodes for a while (its bus reconnected):
   * live frames may have been missed, so catch up from your cursors now.
   */
  | { type: "resync" }
  | { type: "profile.updated"; profile: VisibleProfile }
  /** A user you could see deleted their account. */
  | { type: "profile.removed"; userId: string }
  /** A new entry in the log of a group this device belongs to. */
  | { type: "group.entry"; entry: LogEntry }
  /** An ephemeral message (typing) from a member device; not in the log. */
  | { type: "group.signal"; signal: Signal }
  /** A new item in this device's mailbox (a welcome, a low key-package stock). */
  | { type: "mailbox.item"; item: MailboxItem }
  /** A post of a channel you follow, new or edited (counts come as `channel.counts`). */
  | { type: "channel.post"; post: Omit<ChannelPost, "reactions" | "myReaction"> }
  /** A post of a channel you follow was deleted. */
  | { type: "channel.post.deleted"; channelId: string; seq: number }
  /**
   * Reaction counts (and poll counts, when the post has a poll) of a post of a
   * channel you follow (coalesced: about once a second at most per post).
   */
  | {
      type: "channel.counts";
      channelId: string;
      seq: number;
      counts: Record<string, number>;
      poll?: PollCounts;
    };
