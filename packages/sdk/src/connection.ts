import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ChannelPost, LogEntry, MailboxItem, PollCounts, Signal } from "@veil/protocol";
import { VeilError } from "./errors.js";
import type { Logger } from "./logger.js";

/** What a socket tells the connection. */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
  onError(): void;
}

export interface SocketLike {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Opens a WebSocket. The browser's is `browserWebSocket`; in Node use
 * `nodeWebSocket` from `@veil/sdk/node` (the `ws` package).
 */
export type WebSocketFactory = (url: string, handlers: SocketHandlers) => SocketLike;

/** The global WebSocket (browsers, Deno, Node 22+). */
export const browserWebSocket: WebSocketFactory = (url, handlers) => {
  const Ctor = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Ctor) throw new VeilError("websocket_unavailable");
  const socket = new Ctor(url);
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === "string") handlers.onMessage(event.data);
  };
  socket.onclose = (event: CloseEvent) => handlers.onClose(event.code, event.reason);
  socket.onerror = () => handlers.onError();
  return socket;
};

/** The frames this client acts on (others, such as profile updates, are ignored). */
export type IncomingFrame =
  | { type: "ready"; userId: string; deviceId: string; sessionId: string; heartbeatMs: number }
  | { type: "pong"; id?: string }
  | { type: "resync" }
  | { type: "error"; code: string; message: string }
  | { type: "group.entry"; entry: LogEntry }
  | { type: "group.signal"; signal: Signal }
  | { type: "mailbox.item"; item: MailboxItem }
  | { type: "channel.post"; post: ChannelPostFrame }
  | { type: "channel.post.deleted"; channelId: string; seq: number }
  | {
      type: "channel.counts";
      channelId: string;
      seq: number;
      counts: Record<string, number>;
      poll?: PollCounts;
    };

/** A channel post as frames carry it: without counts (they come as `channel.counts`). */
const ChannelPostFrame = Type.Omit(ChannelPost, ["reactions", "myReaction"]);
export type ChannelPostFrame = Static<typeof ChannelPostFrame>;
const ChannelPostRef = Type.Object({ channelId: Type.String(), seq: Type.Integer() });
const ChannelCounts = Type.Object({
  channelId: Type.String(),
  seq: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer()),
  poll: Type.Optional(PollCounts),
});

export type ConnectionState = "connecting" | "connected" | "disconnected" | "stopped";

export interface ConnectionOptions {
  url: string;
  factory: WebSocketFactory;
  token: () => string | null;
  /** After each `ready`: catch up. Frames that arrive meanwhile are still delivered. */
  onReady: () => void;
  onFrame: (frame: IncomingFrame) => void;
  onState: (state: ConnectionState, attempt: number) => void;
  /** The server refused the session (4002, 4003): sign in again, or return false to stop. */
  onAuthRejected: () => Promise<boolean>;
  logger: Logger;
  minDelayMs?: number;
  maxDelayMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  helloTimeoutMs?: number;
}

const authCloseCodes = new Set([4002, 4003]);

/**
 * One live WebSocket to the server: `hello` then `ready`, application pings
 * (browsers cannot see protocol pings), and reconnection with exponential
 * backoff and jitter after anything but a stop.
 */
export class Connection {
  private socket: SocketLike | null = null;
  private state: ConnectionState = "disconnected";
  private attempt = 0;
  private stopped = true;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private awaitingPong: string | null = null;
  private generation = 0;

  constructor(private readonly options: ConnectionOptions) {}

  get connected(): boolean {
    return this.state === "connected";
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "client stopping");
    this.setState("stopped");
  }

  /** Drops the current socket and reconnects at once (after a network change, say). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.attempt = 0;
    this.drop(4000, "reconnect");
  }

  private open(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.setState("connecting");
    const token = this.options.token();
    if (!token) {
      void this.authRejected(generation);
      return;
    }
    const live = () => generation === this.generation && !this.stopped;
    let helloTimer: ReturnType<typeof setTimeout> | null = null;
    try {
      this.socket = this.options.factory(this.options.url, {
        onOpen: () => {
          if (!live()) return;
          this.socket?.send(JSON.stringify({ type: "hello", token }));
          helloTimer = this.later(this.options.helloTimeoutMs ?? 10_000, () => {
            if (live() && this.state !== "connected") this.drop(4000, "no ready");
          });
        },
        onMessage: (text) => {
          if (!live()) return;
          const frame = parseFrame(text);
          if (!frame) return;
          if (frame.type === "ready") {
            if (helloTimer) this.clear(helloTimer);
            this.attempt = 0;
            this.setState("connected");
            this.startPings(generation);
            this.options.onReady();
            return;
          }
          if (frame.type === "pong") {
            if (frame.id === this.awaitingPong) this.awaitingPong = null;
            return;
          }
          this.options.onFrame(frame);
        },
        onClose: (code) => {
          if (!live()) return;
          this.socket = null;
          this.stopPings();
          this.setState("disconnected");
          if (authCloseCodes.has(code)) void this.authRejected(generation);
          else this.scheduleReconnect();
        },
        onError: () => {
          // a close follows every error
        },
      });
    } catch (err) {
      this.options.logger.warn({ err: String(err) }, "websocket could not be opened");
      this.setState("disconnected");
      this.scheduleReconnect();
    }
  }

  private async authRejected(generation: number): Promise<void> {
    let again = false;
    try {
      again = await this.options.onAuthRejected();
    } catch {
      again = false;
    }
    if (generation !== this.generation || this.stopped) return;
    if (again) this.scheduleReconnect();
    else this.stop();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const min = this.options.minDelayMs ?? 250;
    const max = this.options.maxDelayMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.later(delay, () => this.open());
  }

  private drop(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.generation++;
    this.stopPings();
    try {
      socket?.close(code, reason);
    } catch {
      // already closing
    }
    this.setState("disconnected");
    this.scheduleReconnect();
  }

  private startPings(generation: number): void {
    this.stopPings();
    const every = this.options.pingIntervalMs ?? 25_000;
    this.pingTimer = setInterval(() => {
      if (generation !== this.generation) return;
      if (this.awaitingPong !== null) {
        this.drop(4000, "ping timeout");
        return;
      }
      const id = `p${Date.now().toString(36)}`;
      this.awaitingPong = id;
      try {
        this.socket?.send(JSON.stringify({ type: "ping", id }));
      } catch {
        this.drop(4000, "send failed");
      }
    }, every);
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.awaitingPong = null;
  }

  private later(ms: number, run: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clear(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.stopPings();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onState(state, this.attempt);
  }
}

/** A server frame, checked; undefined for anything this client does not act on. */
export function parseFrame(text: string): IncomingFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const frame = value as Record<string, unknown>;
  switch (frame.type) {
    case "ready":
      return typeof frame.userId === "string" &&
        typeof frame.deviceId === "string" &&
        typeof frame.sessionId === "string" &&
        typeof frame.heartbeatMs === "number"
        ? {
            type: "ready",
            userId: frame.userId,
            deviceId: frame.deviceId,
            sessionId: frame.sessionId,
            heartbeatMs: frame.heartbeatMs,
          }
        : undefined;
    case "pong":
      return typeof frame.id === "string" ? { type: "pong", id: frame.id } : { type: "pong" };
    case "resync":
      return { type: "resync" };
    case "error":
      return typeof frame.code === "string" && typeof frame.message === "string"
        ? { type: "error", code: frame.code, message: frame.message }
        : undefined;
    case "group.entry":
      return Value.Check(LogEntry, frame.entry)
        ? { type: "group.entry", entry: frame.entry }
        : undefined;
    case "group.signal":
      return Value.Check(Signal, frame.signal)
        ? { type: "group.signal", signal: frame.signal }
        : undefined;
    case "mailbox.item":
      return Value.Check(MailboxItem, frame.item)
        ? { type: "mailbox.item", item: frame.item }
        : undefined;
    case "channel.post":
      return Value.Check(ChannelPostFrame, frame.post)
        ? { type: "channel.post", post: frame.post }
        : undefined;
    case "channel.post.deleted":
      return Value.Check(ChannelPostRef, frame)
        ? { type: "channel.post.deleted", channelId: frame.channelId, seq: frame.seq }
        : undefined;
    case "channel.counts":
      return Value.Check(ChannelCounts, frame)
        ? {
            type: "channel.counts",
            channelId: frame.channelId,
            seq: frame.seq,
            counts: frame.counts,
            ...(frame.poll ? { poll: frame.poll } : {}),
          }
        : undefined;
    default:
      return undefined;
  }
}
