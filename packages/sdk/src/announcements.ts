import { Value } from "@sinclair/typebox/value";
import { decryptWithSenderKey, MlsError, readDistribution } from "@veil/crypto";
import { type GroupSummary, LogEntry, parseSenderKeyMessage } from "@veil/protocol";
import { AnnouncementReactions, type CountsBody } from "./announcement-reactions.js";
import { type ClientContext, reportError } from "./context.js";
import { fromBase64Url, newMessageId, toBase64Url } from "./encoding.js";
import { type AttachmentRef, Envelope, encodeEnvelope, parseEnvelope } from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import type { ApplicationInput, Effects, Groups } from "./groups.js";
import type { KeyChannels } from "./key-channels.js";
import { KeyDistribution } from "./key-distribution.js";
import {
  AnnouncementMeta,
  asJson,
  del,
  type HistoryRecord,
  ns,
  put,
  ReceivedKeyRecord,
  seqKey,
} from "./local-state.js";
import { type Messaging, type SendResult, toChatMessage } from "./messaging.js";
import { KeyedMutex, sleep } from "./mutex.js";
import { settleAll } from "./pool.js";
import type { HeldKey, SenderKeyStore } from "./sender-key-store.js";
import type { StoreOp } from "./store/store.js";

/** What `announce` posts: a text, or a file (encrypted like any attachment). */
export type AnnouncementContent =
  | string
  | { text: string; replyTo?: string }
  | { attachment: Uint8Array; name?: string; mime?: string; caption?: string; replyTo?: string };

type EnvelopeBody = (id: string, ts: number) => Envelope;
type SenderKeyEnvelope = Extract<Envelope, { type: "sender_key" }>;

const logPage = 200;
const maxPostAttempts = 4;

export interface AnnouncementOptions {
  /** Requests run at once while distributing a key (default 8). */
  concurrency: number;
  /** How long an admin device waits for a burst of reactions to settle (default 1 s). */
  reactionDelayMs: number;
  /**
   * How long an admin list read from the server is trusted for new posts by
   * the admins in it (default 60 s). Within it a burst of posts costs no
   * request; a post from anyone not in the list is always checked afresh.
   */
  adminListMaxAgeMs: number;
}

/**
 * Community announcement groups. They have no MLS tree: the server keeps the
 * members (every device of every community member), only community admins
 * post, and each admin device encrypts its posts with its own sender key,
 * which it hands to every member device over key channels before posting
 * (a new key first when anyone left since). Members read posts with the keys
 * they received, keep posts whose key has not arrived yet, and never send
 * receipts or typing here. A member's device shows a post only if its sender
 * is an admin in the newest admin list it holds, read after the post was
 * stored: the server's check alone is not trusted. See docs/communities.md.
 */
export class Announcements {
  /** When this device last read each group's admin list from the server (ms, this process). */
  private readonly adminsReadAt = new Map<string, number>();
  /** Announcement groups this device knows, by id (read at boot; frames are routed by it). */
  private readonly metas = new Map<string, AnnouncementMeta>();
  /** One post (and its key distribution) at a time per group. */
  private readonly postLock = new KeyedMutex();
  private readonly cursorTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly reactions: AnnouncementReactions;
  private readonly distribution: KeyDistribution;

  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly messaging: Messaging,
    private readonly channels: KeyChannels,
    private readonly keys: SenderKeyStore,
    private readonly options: AnnouncementOptions,
  ) {
    this.distribution = new KeyDistribution(context, groups, messaging, channels, keys, options);
    this.reactions = new AnnouncementReactions(
      context,
      (groupId, body) => this.publishCounts(groupId, body),
      options.reactionDelayMs,
    );
  }

  async load(): Promise<void> {
    for (const { key, value } of await this.context.state.listJson(
      AnnouncementMeta,
      ns.announcements,
    )) {
      this.metas.set(key, value);
    }
  }

  /** Whether `groupId` is an announcement group this device knows. */
  has(groupId: string): boolean {
    return this.metas.has(groupId);
  }

  list(): AnnouncementMeta[] {
    return [...this.metas.values()];
  }

  get(groupId: string): AnnouncementMeta | undefined {
    return this.metas.get(groupId);
  }

  // --- membership --------------------------------------------------------------------

  /** A community id, or an announcement group id, to the announcement group (known here after). */
  async resolve(communityOrGroupId: string): Promise<string> {
    if (this.metas.has(communityOrGroupId)) return communityOrGroupId;
    for (const meta of this.metas.values()) {
      if (meta.active && meta.communityId === communityOrGroupId) return meta.groupId;
    }
    const view = await this.context.api.community(communityOrGroupId);
    if (!this.metas.get(view.announcementGroupId)?.active) {
      await this.adopt(await this.context.api.group(view.announcementGroupId));
    }
    return view.announcementGroupId;
  }

  /** The mailbox says this device was put in an announcement group. */
  async joined(groupId: string): Promise<void> {
    if (this.metas.get(groupId)?.active) return;
    let summary: GroupSummary;
    try {
      summary = await this.context.api.group(groupId);
    } catch (err) {
      if (isVeilError(err, "group_not_found")) return; // out again already
      throw err;
    }
    await this.adopt(summary);
  }

  /** Starts reading an announcement group the server lists for this device. */
  async adopt(summary: GroupSummary): Promise<void> {
    if (summary.kind !== "announcement") return;
    const added = await this.groups.lock.run(summary.id, async () => {
      if (this.metas.get(summary.id)?.active) return false;
      const meta: AnnouncementMeta = {
        groupId: summary.id,
        communityId: summary.communityId,
        cursor: Math.max(summary.cursor, summary.joinedSeq),
        joinedSeq: summary.joinedSeq,
        active: true,
        admins: summary.admins,
      };
      await this.save(meta, []);
      await this.keys.adminsRead(summary.id, summary.admins, summary.lastSeq, true);
      return true;
    });
    if (!added) return;
    this.context.events.emit("community", {
      communityId: summary.communityId,
      announcementGroupId: summary.id,
      change: "joined",
    });
    await this.sync(summary.id);
  }

  /** This device is out of the announcement group: it left, was removed, or the community ended. */
  async left(groupId: string): Promise<void> {
    const meta = await this.groups.lock.run(groupId, async () => {
      const current = this.metas.get(groupId);
      if (!current?.active) return undefined;
      const next = { ...current, active: false };
      await this.save(next, [del(ns.keyDistribution, groupId), del(ns.ownSenderKeys, groupId)]);
      return next;
    });
    if (!meta) return;
    this.context.events.emit("community", {
      communityId: meta.communityId,
      announcementGroupId: groupId,
      change: "left",
    });
  }

  /**
   * Catch-up: groups the server lists that this device does not read yet, the
   * admins as the server names them, new posts, posts still waiting for their
   * key, and reaction counts still to publish.
   */
  async catchUp(summaries: readonly GroupSummary[]): Promise<void> {
    const listed = new Map(
      summaries.filter((s) => s.kind === "announcement").map((s) => [s.id, s]),
    );
    for (const summary of listed.values()) {
      const meta = this.metas.get(summary.id);
      if (!meta?.active) {
        await this.adopt(summary);
        continue;
      }
      await this.setAdmins(summary.id, summary);
      if (summary.lastSeq > meta.cursor) await this.sync(summary.id);
    }
    for (const meta of this.metas.values()) {
      if (meta.active && !listed.has(meta.groupId)) await this.sync(meta.groupId); // 404: left
    }
    for (const meta of this.metas.values()) {
      if ((await this.context.state.keys(ns.pendingPosts, `${meta.groupId}/`)).length > 0) {
        await this.retryPending(meta.groupId);
      }
    }
    await this.reactions.flushDue();
  }

  // --- the log -------------------------------------------------------------------

  async sync(groupId: string): Promise<void> {
    await this.groups.lock.run(groupId, () => this.syncLocked(groupId));
  }

  private async syncLocked(groupId: string): Promise<void> {
    const start = this.metas.get(groupId)?.cursor;
    for (;;) {
      const meta = this.metas.get(groupId);
      if (!meta?.active) return;
      let page: Awaited<ReturnType<ClientContext["api"]["log"]>>;
      try {
        page = await this.context.api.log(groupId, meta.cursor, logPage);
      } catch (err) {
        if (!isVeilError(err, "group_not_found")) throw err;
        await this.gone(meta);
        return;
      }
      for (const entry of page.entries) await this.process(groupId, entry);
      const after = this.metas.get(groupId)?.cursor ?? 0;
      if (page.entries.length < logPage || after >= page.lastSeq) break;
    }
    if (this.metas.get(groupId)?.cursor !== start) this.reportCursor(groupId, 0);
  }

  /** A `group.entry` frame of an announcement group. */
  async onLiveEntry(entry: LogEntry): Promise<void> {
    await this.groups.lock.run(entry.groupId, async () => {
      const meta = this.metas.get(entry.groupId);
      if (!meta?.active || entry.seq <= meta.cursor) return;
      if (entry.seq === meta.cursor + 1) await this.process(entry.groupId, entry);
      else await this.syncLocked(entry.groupId);
      this.reportCursor(entry.groupId, 2000);
    });
  }

  /** One log entry, in order: decrypted and shown, or kept until its key arrives. */
  private async process(groupId: string, entry: LogEntry): Promise<void> {
    const meta = this.metas.get(groupId);
    if (!meta || entry.seq <= meta.cursor) return;
    // This device's own posts are in its history already (it cannot decrypt them).
    if (entry.senderDeviceId === this.context.deviceId || entry.kind !== "application") {
      await this.save({ ...meta, cursor: entry.seq }, []);
      return;
    }
    if (!(await this.freshAdmins(groupId, entry.seq, entry.senderDeviceId))) return;
    await this.keys.lock.run(groupId, async () => {
      const opened = await this.open(groupId, entry);
      const ops = [...opened.ops];
      if (opened.pending) ops.push(put(ns.pendingPosts, seqKey(groupId, entry.seq), asJson(entry)));
      const current = this.metas.get(groupId) ?? meta;
      await this.save({ ...current, cursor: entry.seq }, ops);
      opened.after?.();
    });
  }

  /** Tries the posts kept for want of a key, in log order. */
  async retryPending(groupId: string): Promise<void> {
    await this.groups.lock.run(groupId, () => this.retryPendingLocked(groupId));
  }

  private async retryPendingLocked(groupId: string): Promise<void> {
    const kept = await this.context.state.listJson(LogEntry, ns.pendingPosts, `${groupId}/`);
    for (const { key, value: entry } of kept) {
      if (!(await this.freshAdmins(groupId, entry.seq, entry.senderDeviceId))) return;
      // Asking for the admins may have settled it already (`applyAdmins`).
      if ((await this.context.state.store.get(ns.pendingPosts, key)) === undefined) continue;
      await this.keys.lock.run(groupId, async () => {
        const opened = await this.open(groupId, entry);
        if (opened.pending) return;
        await this.context.state.write([...opened.ops, del(ns.pendingPosts, key)]);
        opened.after?.();
      });
    }
  }

  /**
   * Decrypts a post with the key its header names, held from its sender
   * device (call with the keys lock held, after `freshAdmins`). `pending`
   * when that key has not arrived; a post that cannot be read, or whose
   * sender is not an admin in the admin list held, is reported and dropped.
   */
  private async open(groupId: string, entry: LogEntry): Promise<Effects & { pending?: boolean }> {
    const bytes = fromBase64Url(entry.data);
    const parsed = bytes ? parseSenderKeyMessage(bytes) : null;
    if (!bytes || !parsed || parsed.groupId !== groupId) return this.unreadable(groupId, entry);
    const held = await this.keys.held(groupId, entry.senderDeviceId, parsed.keyId);
    // The sender by its key, or, its keys dropped, as the device of a former admin.
    const sender =
      held?.senderUserId ?? (await this.keys.roster(groupId)).devices[entry.senderDeviceId];
    if (sender !== undefined && !this.metas.get(groupId)?.admins.includes(sender)) {
      return this.refused(groupId, entry);
    }
    if (!held) return { ops: [], pending: true };
    let opened: Awaited<ReturnType<typeof decryptWithSenderKey>>;
    try {
      opened = await decryptWithSenderKey(held.state, bytes);
    } catch (err) {
      if (!(err instanceof MlsError)) throw err;
      if (err.code === "duplicate") return { ops: [] }; // a replay, or from before our key
      return this.unreadable(groupId, entry, err);
    }
    const shown = await this.show(groupId, entry, held, opened.plaintext);
    return { ops: [this.keys.update(held, opened.state), ...shown.ops], after: shown.after };
  }

  /** A decrypted post: a message (never a receipt in return), or reaction counts. */
  private async show(
    groupId: string,
    entry: LogEntry,
    held: HeldKey,
    plaintext: Uint8Array,
  ): Promise<Effects> {
    const parsed = parseEnvelope(plaintext);
    if (parsed.kind === "invalid") {
      return {
        ops: [],
        after: () =>
          reportError(this.context, new VeilError("envelope_invalid"), { groupId, seq: entry.seq }),
      };
    }
    if (parsed.kind === "unknown") return { ops: [] };
    const envelope = parsed.envelope;
    if (envelope.type === "reaction_counts") return this.reactions.countsRead(groupId, envelope);
    if (envelope.type !== "text" && envelope.type !== "attachment") return { ops: [] };
    const seen = `${groupId}/${envelope.id}`;
    if ((await this.context.state.store.get(ns.seen, seen)) !== undefined) return { ops: [] };
    const record: HistoryRecord = {
      groupId,
      seq: entry.seq,
      senderUserId: held.senderUserId,
      senderDeviceId: held.senderDeviceId,
      fromMe: held.senderUserId === this.context.userId,
      storedAt: Date.parse(entry.createdAt),
      envelope,
    };
    const message = toChatMessage(record, envelope);
    return {
      ops: [
        put(ns.messages, seqKey(groupId, entry.seq), asJson(record)),
        put(ns.seen, seen, entry.seq),
      ],
      after: () => this.context.events.emit("message", message),
    };
  }

  /** A post from someone who is not (or no longer) an admin: dropped, and reported by code. */
  private refused(groupId: string, entry: LogEntry): Effects {
    return {
      ops: [],
      after: () =>
        reportError(this.context, new VeilError("not_community_admin"), {
          groupId,
          seq: entry.seq,
        }),
    };
  }

  private unreadable(groupId: string, entry: LogEntry, cause?: unknown): Effects {
    return {
      ops: [],
      after: () =>
        reportError(this.context, new VeilError("message_undecryptable", undefined, { cause }), {
          groupId,
          seq: entry.seq,
        }),
    };
  }

  // --- posting -------------------------------------------------------------------

  /** Posts a text or a file (community admins only). */
  async announce(groupId: string, content: AnnouncementContent): Promise<SendResult> {
    if (typeof content === "string") return this.announce(groupId, { text: content });
    if ("text" in content) {
      const { text, replyTo } = content;
      return this.post(groupId, (id, ts) => ({
        v: 1,
        type: "text",
        id,
        ts,
        text,
        ...(replyTo ? { replyTo } : {}),
      }));
    }
    const { attachment: _bytes, ...options } = content;
    return this.attachment(groupId, content.attachment, options);
  }

  /** Posts a file: encrypted under a fresh key and uploaded, then announced with its key. */
  async attachment(
    groupId: string,
    bytes: Uint8Array,
    options: { name?: string; mime?: string; caption?: string; replyTo?: string } = {},
  ): Promise<SendResult & { attachment: AttachmentRef }> {
    await this.active(groupId);
    const attachment = await this.messaging.uploadAttachment(groupId, bytes, options);
    const { caption, replyTo } = options;
    const result = await this.post(groupId, (id, ts) => ({
      v: 1,
      type: "attachment",
      id,
      ts,
      attachment,
      ...(caption !== undefined ? { caption } : {}),
      ...(replyTo ? { replyTo } : {}),
    }));
    return { ...result, attachment };
  }

  /**
   * Makes sure every member device holds this device's current key (a new
   * one first after a removal), then encrypts the envelope with it and posts.
   * Needs the server: an announcement is not queued offline.
   */
  post(groupId: string, body: EnvelopeBody): Promise<SendResult> {
    return this.postLock.run(groupId, async () => {
      await this.active(groupId);
      const envelope = body(newMessageId(), Date.now());
      if (!Value.Check(Envelope, envelope)) throw new VeilError("invalid_argument");
      const summary = await this.context.api.group(groupId);
      if (summary.kind !== "announcement") throw new VeilError("wrong_group_kind");
      await this.setAdmins(groupId, summary);
      if (!summary.admins.includes(this.context.userId)) {
        throw new VeilError("not_community_admin");
      }
      await this.distribution.prepare(summary);
      const message = toBase64Url(await this.keys.encrypt(groupId, encodeEnvelope(envelope)));
      let seq = 0;
      for (let attempt = 1; ; attempt++) {
        try {
          seq = (await this.context.api.sendMessage(groupId, { id: envelope.id, message })).seq;
          break;
        } catch (err) {
          // The same id and bytes again: the server stores it once.
          if (!isVeilError(err) || !err.retryable || attempt >= maxPostAttempts) throw err;
          await sleep(200 * attempt);
        }
      }
      if (envelope.type === "text" || envelope.type === "attachment") {
        const record: HistoryRecord = {
          groupId,
          seq,
          senderUserId: this.context.userId,
          senderDeviceId: this.context.deviceId,
          fromMe: true,
          storedAt: Date.now(),
          envelope,
        };
        await this.context.state.write([
          put(ns.messages, seqKey(groupId, seq), asJson(record)),
          put(ns.seen, `${groupId}/${envelope.id}`, seq),
        ]);
      }
      return { groupId, id: envelope.id, seq, status: "sent" as const };
    });
  }

  private publishCounts(groupId: string, body: CountsBody): Promise<SendResult> {
    return this.post(groupId, (id) => ({
      v: 1,
      type: "reaction_counts",
      id,
      ts: body.at,
      target: body.target,
      counts: body.counts,
    }));
  }

  // --- reactions -------------------------------------------------------------------

  /**
   * Reacts to an announcement: the reaction goes to each admin over its key
   * channel (never to the members); an admin device records it here too.
   */
  async react(groupId: string, target: string, emoji: string): Promise<SendResult> {
    await this.active(groupId);
    const summary = await this.context.api.group(groupId);
    await this.setAdmins(groupId, summary);
    const admins = summary.admins;
    const at = Date.now();
    if (admins.includes(this.context.userId)) {
      const effects = await this.reactions.record(groupId, this.context.userId, target, emoji, at);
      await this.context.state.write(effects.ops);
      effects.after?.();
    }
    const others = admins.filter((a) => a !== this.context.userId);
    const channels = [...(await this.channels.ensure(others)).values()];
    const results = await settleAll(channels, this.options.concurrency, (channelId) =>
      this.messaging.send(channelId, (id, ts) => ({
        v: 1,
        type: "reaction",
        id,
        ts,
        target,
        emoji,
        announcementGroupId: groupId,
      })),
    );
    const sent = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.find((r) => r.status === "rejected");
    if (sent.length === 0 && failed) throw failed.reason;
    return {
      groupId,
      id: sent[0]?.id ?? newMessageId(),
      seq: null,
      status: sent.every((s) => s.status === "sent") ? "sent" : "queued",
    };
  }

  /** Who reacted, and with what (community admins' devices only). */
  async whoReacted(groupId: string, messageId: string) {
    await this.active(groupId);
    if (!(await this.isAdmin(groupId, this.context.userId))) {
      throw new VeilError("not_community_admin");
    }
    return this.reactions.named(groupId, messageId);
  }

  // --- key channels ------------------------------------------------------------------

  /**
   * A message in a key channel: a sender key from an admin device (accepted
   * only while its user is an admin of that announcement group), or, on an
   * admin's device, a member's reaction. Nothing here is shown as a chat.
   */
  async keyChannelMessage(input: ApplicationInput): Promise<Effects> {
    const parsed = parseEnvelope(input.plaintext);
    if (parsed.kind === "invalid") {
      return {
        ops: [],
        after: () =>
          reportError(this.context, new VeilError("envelope_invalid"), {
            groupId: input.groupId,
            seq: input.entry.seq,
          }),
      };
    }
    if (parsed.kind === "unknown") return { ops: [] };
    const envelope = parsed.envelope;
    const sender = input.senderUserId;
    const channel = await this.groups.load(input.groupId);
    // A key channel holds its two users only: anyone else is not to be believed.
    if (!sender || (sender !== this.context.userId && sender !== channel?.meta.peerUserId)) {
      return { ops: [] };
    }
    if (envelope.type === "sender_key") return this.keyArrived(input, sender, envelope);
    if (
      envelope.type === "reaction" &&
      envelope.announcementGroupId &&
      sender !== this.context.userId &&
      (await this.isAdmin(envelope.announcementGroupId, this.context.userId))
    ) {
      return this.reactions.record(
        envelope.announcementGroupId,
        sender,
        envelope.target,
        envelope.emoji,
        envelope.ts,
      );
    }
    return { ops: [] };
  }

  private async keyArrived(
    input: ApplicationInput,
    sender: string,
    envelope: SenderKeyEnvelope,
  ): Promise<Effects> {
    const groupId = envelope.announcementGroupId;
    if (!(await this.isAdmin(groupId, sender))) {
      this.context.logger.warn({ groupId }, "sender key from a non-admin refused");
      return { ops: [] };
    }
    const bytes = fromBase64Url(envelope.distribution);
    let state: ReturnType<typeof readDistribution>;
    try {
      if (!bytes) throw new MlsError("malformed");
      state = readDistribution(bytes);
    } catch (err) {
      if (!(err instanceof MlsError)) throw err;
      return {
        ops: [],
        after: () =>
          reportError(this.context, new VeilError("envelope_invalid", undefined, { cause: err }), {
            groupId: input.groupId,
            seq: input.entry.seq,
          }),
      };
    }
    if (state.groupId !== groupId) return { ops: [] };
    const added = await this.keys.receive(
      groupId,
      { userId: sender, deviceId: input.senderDeviceId },
      state,
    );
    if (!added) return { ops: [] };
    return {
      ops: [],
      after: () =>
        this.context.track(
          this.retryPending(groupId).catch((err: unknown) =>
            reportError(this.context, err, { groupId }),
          ),
        ),
    };
  }

  /** Whether `userId` administers the announcement group: the cached list, asked again on a miss. */
  private async isAdmin(groupId: string, userId: string): Promise<boolean> {
    if (this.metas.get(groupId)?.admins.includes(userId)) return true;
    let summary: GroupSummary;
    try {
      summary = await this.context.api.group(groupId);
    } catch (err) {
      if (isVeilError(err, "group_not_found")) return false;
      throw err;
    }
    await this.setAdmins(groupId, summary);
    return summary.admins.includes(userId);
  }

  // --- state -----------------------------------------------------------------------

  /** Takes the admin list of a summary the server just gave, unless the one held is newer. */
  private setAdmins(groupId: string, summary: GroupSummary): Promise<void> {
    return this.groups.lock.run(groupId, () => this.applyAdmins(groupId, summary));
  }

  /**
   * `setAdmins` with the group's lock held. A user gone from the list loses
   * their keys here (`SenderKeyStore.adminsRead`), and any post of theirs
   * still waiting for a key is refused now.
   */
  private async applyAdmins(groupId: string, summary: GroupSummary): Promise<void> {
    const meta = this.metas.get(groupId);
    if (!meta) return;
    const { adminsSeq } = await this.keys.roster(groupId);
    if (summary.lastSeq < adminsSeq) return; // an answer older than the list held
    this.adminsReadAt.set(groupId, Date.now());
    const changed = summary.admins.join() !== meta.admins.join();
    if (!changed && summary.lastSeq === adminsSeq) return;
    if (changed) await this.save({ ...meta, admins: summary.admins }, []);
    const dropped = await this.keys.adminsRead(groupId, summary.admins, summary.lastSeq, changed);
    if (dropped > 0) this.context.logger.debug({ groupId, dropped }, "former admin keys dropped");
    if (changed && (await this.context.state.keys(ns.pendingPosts, `${groupId}/`)).length > 0) {
      await this.retryPendingLocked(groupId);
    }
  }

  /**
   * Makes sure the admin list held was read after the post at `seq` was
   * stored, asking the server again if not (one request covers every post
   * stored before it), so a post made after its sender was dismissed is never
   * judged by an older list. False when this device is out of the group.
   * Call with the group's lock held.
   */
  private async freshAdmins(
    groupId: string,
    seq: number,
    senderDeviceId: string,
  ): Promise<boolean> {
    if ((await this.keys.roster(groupId)).adminsSeq >= seq) return true;
    // A list read moments ago still holds for its own admins: one post to 5000
    // members must not cost 5000 requests. The server refuses non-admins anyway.
    const readAt = this.adminsReadAt.get(groupId);
    if (
      readAt !== undefined &&
      Date.now() - readAt < this.options.adminListMaxAgeMs &&
      (await this.senderIsListedAdmin(groupId, senderDeviceId))
    ) {
      return true;
    }
    let summary: GroupSummary;
    try {
      summary = await this.context.api.group(groupId);
    } catch (err) {
      if (!isVeilError(err, "group_not_found")) throw err;
      const meta = this.metas.get(groupId);
      if (meta?.active) await this.gone(meta);
      return false;
    }
    await this.applyAdmins(groupId, summary);
    return true;
  }

  /** Whether a device's user is an admin in the list held: by the keys it sent, else unknown (false). */
  private async senderIsListedAdmin(groupId: string, deviceId: string): Promise<boolean> {
    const admins = this.metas.get(groupId)?.admins ?? [];
    const keys = await this.context.state.listJson(
      ReceivedKeyRecord,
      ns.senderKeys,
      `${groupId}/${deviceId}/`,
    );
    return keys.some((k) => admins.includes(k.value.senderUserId));
  }

  /** The server no longer serves this device the group: it left, was removed, or it ended. */
  private async gone(meta: AnnouncementMeta): Promise<void> {
    await this.save({ ...meta, active: false }, []);
    this.context.events.emit("community", {
      communityId: meta.communityId,
      announcementGroupId: meta.groupId,
      change: "left",
    });
  }

  private async active(groupId: string): Promise<AnnouncementMeta> {
    const meta = this.metas.get(groupId);
    if (!meta) throw new VeilError("group_unknown");
    if (!meta.active) throw new VeilError("group_left");
    return meta;
  }

  private async save(meta: AnnouncementMeta, ops: StoreOp[]): Promise<void> {
    await this.context.state.write([put(ns.announcements, meta.groupId, asJson(meta)), ...ops]);
    this.metas.set(meta.groupId, meta);
  }

  private reportCursor(groupId: string, delayMs: number): void {
    const previous = this.cursorTimers.get(groupId);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => {
      this.cursorTimers.delete(groupId);
      const meta = this.metas.get(groupId);
      if (!meta?.active || this.context.closed()) return;
      this.context.api.setCursor(groupId, meta.cursor).catch((err: unknown) => {
        this.context.logger.debug({ groupId, err: String(err) }, "cursor not recorded");
      });
    }, delayMs);
    this.cursorTimers.set(groupId, timer);
  }

  stop(): void {
    for (const t of this.cursorTimers.values()) clearTimeout(t);
    this.cursorTimers.clear();
    this.reactions.stop();
  }
}
