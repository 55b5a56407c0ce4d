import type { ChannelPost, LogEntry, PollCounts } from "@veil/protocol";

/** Events the server nodes tell each other. Ids only: never names, numbers or content. */
export type BusEvent =
  /** A user's visible profile may have changed for some viewers. */
  | { type: "profile.changed"; userId: string }
  /** These sessions were revoked: close their live connections. */
  | { type: "sessions.revoked"; sessionIds: string[] }
  /** A user deleted their account; `watchers` are the users who could see them. */
  | { type: "user.deleted"; userId: string; watchers: string[] }
  /**
   * A group's log grew: member devices connected here get the entry. Small
   * entries ride along (ciphertext only), so nodes need not read them back.
   */
  | {
      type: "group.appended";
      groupId: string;
      seq: number;
      entry?: LogEntry;
      withheldFrom?: string | null;
    }
  /** An ephemeral group message: sent on to connected member devices, never stored. */
  | {
      type: "group.signal";
      groupId: string;
      senderDeviceId: string;
      epoch: number;
      data: string;
      withheldFrom: string | null;
    }
  /** A device's mailbox grew. */
  | { type: "mailbox.appended"; deviceId: string; seq: number }
  /** A channel post was published or edited (`post`), or deleted (null): to connected followers. */
  | { type: "channel.posted"; channelId: string; seq: number; post: ChannelPost | null }
  /** A post's reaction counts, pushed at most about once a second per post. */
  | {
      type: "channel.counts";
      channelId: string;
      seq: number;
      counts: Record<string, number>;
      poll?: PollCounts;
    }
  /** A user followed or unfollowed a channel: nodes holding its connections track it. */
  | { type: "channel.followed"; channelId: string; userId: string; following: boolean };

export type BusEventType = BusEvent["type"];
export type BusHandler = (event: BusEvent) => void;

/**
 * The port every server node publishes and subscribes through. In-process in
 * the embedded mode, NATS when scaled out. Delivery is at-most-once per
 * subscriber: durable state lives in the database, the bus only wakes nodes.
 */
export interface Bus {
  publish(event: BusEvent): Promise<void>;
  subscribe(handler: BusHandler): () => void;
  /**
   * Calls `handler` each time the bus connection comes back after a loss:
   * events published meanwhile may have been dropped (never, in-process).
   */
  onReconnect(handler: () => void): () => void;
  /** True while the bus can publish (readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}
