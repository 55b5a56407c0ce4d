import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ClientFrame, closeCodes, errorRegistry, type ServerFrame } from "@veil/protocol";
import type { FastifyBaseLogger } from "fastify";
import { sql } from "kysely";
import type { WebSocket } from "ws";
import { type AuthContext, authenticate, markPresence } from "../auth/sessions.js";
import type { Bus, BusEvent } from "../bus/bus.js";
import { mailboxRows, toLogEntry, toMailboxItem } from "../messaging/entries.js";
import type { Metrics } from "../ops/metrics.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Db } from "../store/database.js";
import { unreachableStorage } from "../store/unreachable.js";

const checkFrame = TypeCompiler.Compile(ClientFrame);

export interface GatewayOptions {
  heartbeatMs: number;
  authTimeoutMs: number;
  maxBufferedBytes: number;
}

type CloseReason = keyof typeof closeCodes;

/** One authenticated socket. */
interface Connection {
  socket: WebSocket;
  auth: AuthContext;
  alive: boolean;
}

/**
 * The WebSocket gateway of one server node: authenticates sockets with a
 * `hello` frame, keeps them alive with pings, bounds what each may buffer,
 * and turns bus events into frames for the local sockets they concern.
 */
export class Gateway {
  private readonly byUser = new Map<string, Set<Connection>>();
  /** The channels each connected user follows, and the reverse: who to send a post to here. */
  private readonly followsOf = new Map<string, Set<string>>();
  private readonly followers = new Map<string, Set<string>>();
  private readonly byDevice = new Map<string, Set<Connection>>();
  private readonly pending = new Set<WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly unwatch: () => void;
  private closing = false;
  private resyncPending = false;

  constructor(
    private readonly db: Db,
    private readonly profiles: ProfileReader,
    bus: Bus,
    private readonly metrics: Metrics,
    private readonly log: FastifyBaseLogger,
    private readonly options: GatewayOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.heartbeat = setInterval(() => void this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
    this.unsubscribe = bus.subscribe(
      (event) => void this.onEvent(event).catch((err) => this.missed(err)),
    );
    this.unwatch = bus.onReconnect(() => this.resync("bus reconnected"));
  }

  /**
   * An event this node could not pass on (its database unreachable, say): once
   * the database answers again, every device here catches up, so none keeps a gap.
   */
  private missed(err: unknown): void {
    if (!unreachableStorage(err)) this.log.error({ err }, "bus event failed");
    else this.log.warn({ code: (err as { code?: unknown }).code }, "bus event failed");
    this.resyncWhenReachable();
  }

  /**
   * The database dropped a connection: events in flight may be lost on their
   * way to this node's sockets, so they catch up once it answers again.
   */
  resyncWhenReachable(): void {
    if (this.resyncPending) return;
    this.resyncPending = true;
    void (async () => {
      while (!this.closing) {
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        const reachable = await sql`select 1`.execute(this.db).then(
          () => true,
          () => false,
        );
        if (reachable) break;
      }
      this.resyncPending = false;
      if (!this.closing) this.resync("events missed");
    })();
  }

  /** After an outage: every device here catches up, in case it missed a live frame. */
  private resync(why: string): void {
    this.log.warn({ connections: this.size }, `${why}; asking clients to catch up`);
    const frame = JSON.stringify({ type: "resync" });
    for (const set of this.byUser.values()) {
      for (const connection of set) this.send(connection, frame, "resync");
    }
  }

  /** Number of authenticated connections on this node. */
  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /** Takes over a freshly upgraded socket. */
  accept(socket: WebSocket): void {
    if (this.closing) {
      socket.close(closeCodes.shutting_down, "shutting_down");
      return;
    }
    this.pending.add(socket);
    const timer = setTimeout(() => this.reject(socket, "auth_timeout"), this.options.authTimeoutMs);
    let connection: Connection | null = null;
    let authenticating = false;

    socket.on("message", (data, isBinary) => {
      const frame = isBinary ? undefined : parseFrame(data.toString());
      if (!frame) {
        if (connection) this.send(connection, errorFrame("frame_invalid"), "error");
        else this.reject(socket, "frame_invalid");
        return;
      }
      if (frame.type !== "hello" && !connection) {
        // The first frame must be hello.
        if (!authenticating) this.reject(socket, "frame_invalid");
        return;
      }
      if (frame.type === "ping") {
        if (connection)
          this.send(connection, JSON.stringify({ type: "pong", id: frame.id }), "pong");
        return;
      }
      // hello
      if (connection || authenticating) {
        if (connection) this.send(connection, errorFrame("frame_invalid"), "error");
        return;
      }
      authenticating = true;
      void authenticate(this.db, frame.token, this.now())
        .then(async (auth) => {
          clearTimeout(timer);
          this.pending.delete(socket);
          if (!auth) return this.reject(socket, "unauthenticated");
          if (socket.readyState !== socket.OPEN) return;
          connection = { socket, auth, alive: true };
          this.add(connection);
          if (!this.followsOf.has(auth.userId)) await this.loadFollows(auth.userId);
          await markPresence(this.db, auth.deviceId, "online", this.now());
          const ready: ServerFrame = {
            type: "ready",
            userId: auth.userId,
            deviceId: auth.deviceId,
            sessionId: auth.sessionId,
            heartbeatMs: this.options.heartbeatMs,
          };
          this.send(connection, JSON.stringify(ready), "ready");
        })
        .catch((err) => {
          this.log.error({ err }, "websocket authentication failed");
          this.reject(socket, "unauthenticated");
        });
    });
    socket.on("pong", () => {
      if (connection) connection.alive = true;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      if (connection) void this.remove(connection);
    });
    socket.on("error", () => socket.terminate());
  }

  private add(connection: Connection): void {
    for (const [index, key] of [
      [this.byUser, connection.auth.userId],
      [this.byDevice, connection.auth.deviceId],
    ] as const) {
      const set = index.get(key) ?? new Set<Connection>();
      index.set(key, set);
      set.add(connection);
    }
    this.metrics.wsConnections.inc();
  }

  /** The channels a newly connected user follows (one indexed query per user, not per post). */
  private async loadFollows(userId: string): Promise<void> {
    const rows = await this.db
      .selectFrom("channel_followers")
      .select("channel_id")
      .where("user_id", "=", userId)
      .execute();
    if (!this.byUser.has(userId)) return;
    for (const row of rows) this.setFollow(row.channel_id, userId, true);
    if (!this.followsOf.has(userId)) this.followsOf.set(userId, new Set());
  }

  private setFollow(channelId: string, userId: string, following: boolean): void {
    const channels = this.followsOf.get(userId) ?? new Set<string>();
    const users = this.followers.get(channelId) ?? new Set<string>();
    if (following) {
      channels.add(channelId);
      users.add(userId);
      this.followsOf.set(userId, channels);
      this.followers.set(channelId, users);
      return;
    }
    channels.delete(channelId);
    users.delete(userId);
    if (users.size === 0) this.followers.delete(channelId);
  }

  private forgetFollows(userId: string): void {
    for (const channelId of this.followsOf.get(userId) ?? [])
      this.setFollow(channelId, userId, false);
    this.followsOf.delete(userId);
  }

  /** Sends one serialised frame to every connected follower of a channel on this node. */
  private toFollowers(channelId: string, frame: string, type: string): void {
    for (const userId of this.followers.get(channelId) ?? []) this.sendToUser(userId, frame, type);
  }

  private async remove(connection: Connection): Promise<void> {
    const set = this.byUser.get(connection.auth.userId);
    if (!set?.delete(connection)) return;
    if (set.size === 0) {
      this.byUser.delete(connection.auth.userId);
      this.forgetFollows(connection.auth.userId);
    }
    const deviceSet = this.byDevice.get(connection.auth.deviceId);
    deviceSet?.delete(connection);
    if (deviceSet?.size === 0) this.byDevice.delete(connection.auth.deviceId);
    this.metrics.wsConnections.dec();
    const deviceStillHere = (deviceSet?.size ?? 0) > 0;
    if (!deviceStillHere && !this.closing) {
      await markPresence(this.db, connection.auth.deviceId, "offline", this.now()).catch(() => {});
    }
  }

  private reject(socket: WebSocket, reason: CloseReason): void {
    this.pending.delete(socket);
    this.metrics.wsDisconnects.inc({ reason });
    if (socket.readyState === socket.OPEN) {
      socket.send(errorFrame(reason));
      socket.close(closeCodes[reason], reason);
    }
  }

  /**
   * Sends a pre-serialised frame. A client whose unsent data passes the bound
   * is disconnected with `slow_consumer`: memory per connection stays bounded.
   */
  send(connection: Connection, data: string, type: string): void {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount + Buffer.byteLength(data) > this.options.maxBufferedBytes) {
      this.metrics.wsDisconnects.inc({ reason: "slow_consumer" });
      socket.close(closeCodes.slow_consumer, "slow_consumer");
      // The close frame queues behind the backlog: do not wait for a slow peer.
      setTimeout(() => socket.terminate(), 1000).unref();
      void this.remove(connection);
      return;
    }
    socket.send(data);
    this.metrics.wsFramesSent.inc({ type });
  }

  /** Sends one frame to every local connection of `userId`. */
  sendToUser(userId: string, data: string, type: string): number {
    const set = this.byUser.get(userId);
    if (!set) return 0;
    for (const c of set) this.send(c, data, type);
    return set.size;
  }

  /** Sends one frame to every local connection of one device. */
  sendToDevice(deviceId: string, data: string, type: string): number {
    const set = this.byDevice.get(deviceId);
    if (!set) return 0;
    for (const c of set) this.send(c, data, type);
    return set.size;
  }

  /** The member devices of a group that are connected to this node. */
  private async localMembers(
    groupId: string,
  ): Promise<Array<{ device_id: string; user_id: string }>> {
    if (this.byDevice.size === 0) return [];
    const members = await this.db
      .selectFrom("group_members")
      .select(["device_id", "user_id"])
      .where("group_id", "=", groupId)
      .execute();
    return members.filter((m) => this.byDevice.has(m.device_id));
  }

  private async onEvent(event: BusEvent): Promise<void> {
    switch (event.type) {
      case "profile.changed": {
        if (this.byUser.size === 0) return;
        const watchers = await this.profiles.watchers(event.userId);
        const local = [event.userId, ...watchers].filter((id) => this.byUser.has(id));
        const views = await this.profiles.viewsOf(event.userId, local);
        // Viewers who see the same fields share one serialised frame.
        const frames = new Map<string, string>();
        for (const [viewer, profile] of views) {
          const key = Object.keys(profile).join();
          let frame = frames.get(key);
          if (!frame) {
            frame = JSON.stringify({ type: "profile.updated", profile });
            frames.set(key, frame);
          }
          this.sendToUser(viewer, frame, "profile.updated");
        }
        return;
      }
      case "user.deleted": {
        const frame = JSON.stringify({ type: "profile.removed", userId: event.userId });
        for (const viewer of event.watchers) this.sendToUser(viewer, frame, "profile.removed");
        return;
      }
      case "group.appended": {
        const local = await this.localMembers(event.groupId);
        if (local.length === 0) return;
        let entry = event.entry;
        let withheldFrom = event.withheldFrom ?? null;
        if (!entry) {
          const row = await this.db
            .selectFrom("group_log")
            .selectAll()
            .where("group_id", "=", event.groupId)
            .where("seq", "=", event.seq)
            .executeTakeFirst();
          if (!row) return;
          entry = toLogEntry(row);
          withheldFrom = row.withheld_from;
        }
        // One serialised frame for every member device on this node.
        const frame = JSON.stringify({ type: "group.entry", entry });
        for (const member of local) {
          if (member.user_id === withheldFrom) continue;
          this.sendToDevice(member.device_id, frame, "group.entry");
        }
        return;
      }
      case "group.signal": {
        const members = await this.localMembers(event.groupId);
        const { withheldFrom, type: _type, ...signal } = event;
        const frame = JSON.stringify({ type: "group.signal", signal });
        for (const member of members) {
          if (member.device_id === event.senderDeviceId || member.user_id === withheldFrom)
            continue;
          this.sendToDevice(member.device_id, frame, "group.signal");
        }
        return;
      }
      case "channel.followed": {
        if (this.followsOf.has(event.userId))
          this.setFollow(event.channelId, event.userId, event.following);
        return;
      }
      case "channel.posted": {
        if (!this.followers.has(event.channelId)) return;
        const {
          reactions: _counts,
          myReaction: _mine,
          ...post
        } = event.post ?? {
          reactions: {},
          myReaction: null,
        };
        const frame = event.post
          ? JSON.stringify({ type: "channel.post", post })
          : JSON.stringify({
              type: "channel.post.deleted",
              channelId: event.channelId,
              seq: event.seq,
            });
        this.toFollowers(
          event.channelId,
          frame,
          event.post ? "channel.post" : "channel.post.deleted",
        );
        return;
      }
      case "channel.counts": {
        if (!this.followers.has(event.channelId)) return;
        const { type: _type, ...counts } = event;
        this.toFollowers(
          event.channelId,
          JSON.stringify({ type: "channel.counts", ...counts }),
          "channel.counts",
        );
        return;
      }
      case "mailbox.appended": {
        if (!this.byDevice.has(event.deviceId)) return;
        const row = await mailboxRows(this.db, event.deviceId)
          .where("mailbox.seq", "=", event.seq)
          .executeTakeFirst();
        if (!row) return;
        const frame = JSON.stringify({ type: "mailbox.item", item: toMailboxItem(row) });
        this.sendToDevice(event.deviceId, frame, "mailbox.item");
        return;
      }
      case "sessions.revoked": {
        const revoked = new Set(event.sessionIds);
        for (const set of this.byUser.values()) {
          for (const c of set) {
            if (!revoked.has(c.auth.sessionId)) continue;
            this.metrics.wsDisconnects.inc({ reason: "session_revoked" });
            c.socket.send(errorFrame("session_revoked"));
            c.socket.close(closeCodes.session_revoked, "session_revoked");
            void this.remove(c);
          }
        }
        return;
      }
    }
  }

  private async beat(): Promise<void> {
    const devices = new Set<string>();
    for (const set of this.byUser.values()) {
      for (const c of set) {
        if (!c.alive) {
          this.metrics.wsDisconnects.inc({ reason: "heartbeat" });
          c.socket.terminate();
          continue;
        }
        c.alive = false;
        c.socket.ping();
        devices.add(c.auth.deviceId);
      }
    }
    if (devices.size > 0) {
      await this.db
        .updateTable("devices")
        .set({ last_seen_at: this.now() })
        .where("id", "in", [...devices])
        .execute()
        .catch((err) => this.log.warn({ err }, "presence refresh failed"));
    }
  }

  /** Closes every socket with `shutting_down` (clients reconnect to another node). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    this.unsubscribe();
    this.unwatch();
    for (const socket of this.pending) socket.close(closeCodes.shutting_down, "shutting_down");
    const devices = new Set<string>();
    for (const set of this.byUser.values()) {
      for (const c of set) {
        devices.add(c.auth.deviceId);
        c.socket.close(closeCodes.shutting_down, "shutting_down");
      }
    }
    this.byUser.clear();
    this.byDevice.clear();
    this.metrics.wsConnections.set(0);
    for (const deviceId of devices)
      await markPresence(this.db, deviceId, "offline", this.now()).catch(() => {});
  }
}

function parseFrame(text: string): ClientFrame | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return checkFrame.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function errorFrame(code: keyof typeof errorRegistry): string {
  return JSON.stringify({ type: "error", code, message: errorRegistry[code].message });
}
