import type { ChannelPost, PollCounts } from "@veil/protocol";
import type { AttachmentRef, CallFingerprint } from "./envelope.js";
import type { VeilError } from "./errors.js";

/** What a chat message carries, after decryption. */
export type MessageContent =
  | { type: "text"; text: string; replyTo: string | null }
  | { type: "attachment"; attachment: AttachmentRef; caption: string; replyTo: string | null }
  /** `emoji` is empty when the sender took the reaction back. */
  | { type: "reaction"; target: string; emoji: string };

/** A message in a chat, shown exactly once per device. */
export interface ChatMessage {
  groupId: string;
  /** The sender's id for it (the envelope id, also the server's message id). */
  id: string;
  /** Its position in the group's log. */
  seq: number;
  /** The sender's user, as the server's member list names the sending device; null if unknown. */
  senderUserId: string | null;
  /** The sending device, as authenticated by MLS. */
  senderDeviceId: string;
  /** Sent by this user (from this device or another of the user's devices). */
  fromMe: boolean;
  /** The sender's clock, milliseconds. */
  sentAt: number;
  /** When the server stored it, milliseconds. */
  storedAt: number;
  content: MessageContent;
}

export interface ReceiptEvent {
  groupId: string;
  status: "delivered" | "read";
  messageIds: string[];
  fromUserId: string | null;
  fromDeviceId: string;
  /** Sent by another device of this user (it read the messages there, say). */
  fromMe: boolean;
  at: number;
}

export interface TypingEvent {
  groupId: string;
  userId: string | null;
  deviceId: string;
  typing: boolean;
}

export type CallMedia = "audio" | "video";

/**
 * A call as this device sees it: `ringing` until someone accepts, declines,
 * cancels or the ring times out; `active` while this device takes part;
 * `ended` once it is over, or when this device takes no part in it (another
 * device of the same user placed, accepted or declined it).
 */
export type CallState = "ringing" | "active" | "ended";

/** What a call event carries besides who sent it: the action and its payload. */
export type CallPayload =
  | { action: "ring"; media: CallMedia; group?: boolean }
  | { action: "accept" | "decline" | "busy" | "cancel" | "hangup" }
  /** Local only: a ring got no accept, decline or cancel within the ring timeout. */
  | { action: "missed"; media: CallMedia }
  | { action: "offer" | "answer"; to: string; sdp: string; fingerprints: CallFingerprint[] }
  | {
      action: "ice";
      to: string;
      candidate: string;
      sdpMid: string | null;
      sdpMLineIndex: number | null;
    };

/**
 * A call action received in a chat (or `missed`, raised locally).
 *
 * Answered elsewhere: when another device of this user accepts or declines
 * (or places) a call, this device gets that action with `fromMe: true` and
 * `state: "ended"`: stop ringing here. Ring, accept, decline, busy, cancel
 * and hangup come from the chat's log (a device that was offline finds them
 * when it catches up: a stale ring arrives with `state: "ended"`, followed by
 * `missed`); offer, answer and ice are live signals only.
 */
export type CallEvent = {
  groupId: string;
  callId: string;
  fromUserId: string | null;
  fromDeviceId: string;
  /** Sent by another device of this user. */
  fromMe: boolean;
  /** The sender's clock, milliseconds. */
  at: number;
  /** The call's state on this device after this action; null for a call it does not know. */
  state: CallState | null;
  /**
   * The devices in the call after this action (the caller's and every one that
   * accepted and has not hung up), this one included once it takes part.
   * Offer, answer and ice reach only the device named in `to`.
   */
  participants: Member[];
} & CallPayload;

/** One call in `callHistory`, derived from the call actions stored in the chat's log. */
export interface CallHistoryEntry {
  callId: string;
  media: CallMedia;
  direction: "outgoing" | "incoming";
  outcome: "answered" | "declined" | "missed" | "cancelled" | "busy";
  /** The ring's time (the caller's clock), milliseconds. */
  startedAt: number;
  /** How long this user was in the call with someone else, once it has ended for them. */
  durationMs?: number;
  /** A group call (a mesh of up to 8 devices) rather than a call between two people. */
  group: boolean;
}

/** The key that encrypts a call's media frames, from the chat's MLS exporter at its current epoch. */
export interface CallMediaKey {
  /** The MLS epoch the key belongs to: it changes with every commit (members added or removed). */
  epoch: number;
  /** 32 bytes; derive one key per sending device from it (see docs/calls.md). */
  secret: Uint8Array;
}

export interface Member {
  userId: string | null;
  deviceId: string;
}

export interface MembershipEvent {
  groupId: string;
  /**
   * joined: this device joined the group; left: it was removed (or its group is gone);
   * members-added / members-removed: a commit changed the other members.
   */
  change: "joined" | "left" | "members-added" | "members-removed";
  members: Member[];
  /** The device whose commit made the change, when known. */
  byDeviceId: string | null;
}

export interface DeviceLinkedEvent {
  /** The user's new device. */
  deviceId: string;
  /** Groups this device added it to (other devices of the user may add it to the rest). */
  groups: string[];
}

export interface SentEvent {
  groupId: string;
  id: string;
  seq: number;
}

export interface ConnectionEvent {
  state: "connecting" | "connected" | "disconnected" | "stopped";
  /** Reconnection attempts since the last success. */
  attempt: number;
}

export interface ErrorEvent {
  error: VeilError;
  groupId: string | null;
  /** The log entry concerned, when the error is about one. */
  seq: number | null;
}

export interface CommunityEvent {
  /** The community, when the server still names it. */
  communityId: string | null;
  announcementGroupId: string;
  /**
   * joined: this device is now in the community (its announcement group);
   * left: it left or was removed, or the community was deactivated.
   */
  change: "joined" | "left";
}

export interface JoinRequestEvent {
  /** Someone asked to join this group (`groupRequests(groupId)` lists who). */
  groupId: string;
  /**
   * Set when someone asked to join this community (`communityRequests(communityId)`
   * lists who); `groupId` is then its announcement group.
   */
  communityId?: string;
}

/** Reaction counts on an announcement: all that members see (never who reacted). */
export interface ReactionCountsEvent {
  groupId: string;
  messageId: string;
  /** Emoji to how many people reacted with it. */
  counts: Record<string, number>;
}

/**
 * A post of a channel you follow, new or edited: live from the socket, or
 * fetched by catch-up after a reconnect. Catch-up posts carry their counts and
 * your own reaction and vote; live ones do not (counts follow as
 * `channel-counts`, and a live post's `poll.myVote` is empty: keep the vote
 * you had when an edit arrives). Media, the link preview and the poll's
 * counts come with the post either way.
 */
export interface ChannelPostEvent {
  post: Omit<ChannelPost, "reactions" | "myReaction"> &
    Partial<Pick<ChannelPost, "reactions" | "myReaction">>;
  /**
   * A post shown before, changed: replace it. Its text was edited
   * (`post.editedAt` is set) or an admin closed its poll (`post.poll.closed`).
   */
  edited: boolean;
  source: "live" | "catch-up";
  /**
   * You muted the channel (`muteChannel`): the post is delivered as any other,
   * but do not notify for it (no sound, banner or unread badge). A mute made
   * on another device counts here from this device's next catch-up.
   */
  muted: boolean;
}

/** An admin deleted a post of a channel you follow (live only: catch-up replays no deletes). */
export interface ChannelPostDeletedEvent {
  channelId: string;
  seq: number;
}

/**
 * New reaction and poll counts of a channel post you follow, after reactions
 * or votes (coalesced by the server: about once a second per post at most).
 */
export interface ChannelCountsEvent {
  channelId: string;
  seq: number;
  /** Emoji to how many followers reacted with it; never who. */
  counts: Record<string, number>;
  /** Votes by option and voters, when the post has a poll. */
  poll?: PollCounts;
}

/** Every event a VeilClient emits, by name. */
export interface VeilEvents {
  message: ChatMessage;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  /** Every call action received (see `CallEvent`), and `missed` when a ring times out. */
  call: CallEvent;
  membership: MembershipEvent;
  "device-linked": DeviceLinkedEvent;
  /** A message queued while offline reached the server. */
  sent: SentEvent;
  connection: ConnectionEvent;
  /** Catch-up after a (re)connect finished. */
  synced: { groups: number };
  community: CommunityEvent;
  "join-request": JoinRequestEvent;
  reactions: ReactionCountsEvent;
  "channel-post": ChannelPostEvent;
  "channel-post-deleted": ChannelPostDeletedEvent;
  "channel-counts": ChannelCountsEvent;
  error: ErrorEvent;
}

export type Listener<T> = (event: T) => void;

/** A small typed event emitter that runs in browsers and Node. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.listeners.get(name)?.delete(listener as Listener<never>);
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Resolves with the next event that matches, or rejects after `timeoutMs`. */
  waitFor<K extends keyof Events>(
    name: K,
    match: (event: Events[K]) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${String(name)} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(name, (event) => {
        if (!match(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  /** Calls each listener; one that throws does not stop the others. */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
