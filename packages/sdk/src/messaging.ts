import { Value } from "@sinclair/typebox/value";
import type { GroupKind, LogEntry } from "@veil/protocol";
import { decryptAttachment, encryptAttachment } from "./attachments.js";
import { type ClientContext, reportError } from "./context.js";
import { newMessageId, toBase64Url } from "./encoding.js";
import {
  type AttachmentRef,
  Envelope,
  encodeEnvelope,
  isChatContent,
  parseEnvelope,
} from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import type { ChatMessage, MessageContent } from "./events.js";
import type { ApplicationInput, Effects, Groups } from "./groups.js";
import { asJson, del, HistoryRecord, ns, OutboxRecord, put, seqKey } from "./local-state.js";
import { RetryTimer } from "./retry-timer.js";

/** What `send*` returns: `sent` once the server has stored it, `queued` while offline. */
export interface SendResult {
  groupId: string;
  id: string;
  seq: number | null;
  status: "sent" | "queued";
}

const maxSendAttempts = 6;
/** Typing indicators older than this (a catch-up, a slow network) are not shown. */
const typingFreshMs = 30_000;
const maxReceiptIds = 500;

type EnvelopeBody = (id: string, ts: number) => Envelope;

/**
 * Chat messages over MLS application messages: the envelope, the outbox that
 * makes sending survive disconnects and restarts (a resend keeps the message
 * id, so the server stores it once), receipts, typing and attachments.
 */
export class Messaging {
  private readonly receiptsDue = new Map<string, Set<string>>();
  /** Chats with a message queued by a failure in this session: their next send goes after it. */
  private readonly queuedIn = new Set<string>();
  /** Queued messages are tried again after 0.5 s, doubling up to 30 s, until they leave. */
  private readonly retry = new RetryTimer(() => {
    if (this.context.closed()) return;
    this.context.track(this.flushOutbox().catch((err: unknown) => reportError(this.context, err)));
  });

  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
  ) {}

  // --- sending ---------------------------------------------------------------------

  async send(groupId: string, body: EnvelopeBody): Promise<SendResult> {
    const id = newMessageId();
    const envelope = body(id, Date.now());
    if (!Value.Check(Envelope, envelope)) throw new VeilError("invalid_argument");
    const record: OutboxRecord = { groupId, id, createdAt: Date.now(), envelope };
    await this.context.state.write([put(ns.outbox, id, asJson(record))]);
    try {
      // A chat's messages leave in the order they were written: queued ones first.
      if (this.queuedIn.has(groupId)) await this.flushChat(record);
      const seq = await this.deliver(groupId, id);
      return { groupId, id, seq, status: "sent" };
    } catch (err) {
      if (isVeilError(err) && err.retryable) {
        this.queuedIn.add(groupId);
        if (!this.context.closed()) this.retry.schedule();
        return { groupId, id, seq: null, status: "queued" };
      }
      throw err;
    } finally {
      this.settled(groupId);
    }
  }

  text(groupId: string, text: string, replyTo?: string): Promise<SendResult> {
    return this.send(groupId, (id, ts) => ({
      v: 1,
      type: "text",
      id,
      ts,
      text,
      ...(replyTo ? { replyTo } : {}),
    }));
  }

  react(groupId: string, target: string, emoji: string): Promise<SendResult> {
    return this.send(groupId, (id, ts) => ({ v: 1, type: "reaction", id, ts, target, emoji }));
  }

  markRead(groupId: string, messageIds: string[]): Promise<SendResult[]> {
    // Read says delivered too: no separate delivery receipt for these.
    const due = this.receiptsDue.get(groupId);
    for (const id of messageIds) due?.delete(id);
    return this.receipt(groupId, "read", messageIds);
  }

  async attachment(
    groupId: string,
    bytes: Uint8Array,
    options: { name?: string; mime?: string; caption?: string; replyTo?: string } = {},
  ): Promise<SendResult & { attachment: AttachmentRef }> {
    const attachment = await this.uploadAttachment(groupId, bytes, options);
    const result = await this.send(groupId, (id, ts) => ({
      v: 1,
      type: "attachment",
      id,
      ts,
      attachment,
      ...(options.caption !== undefined ? { caption: options.caption } : {}),
      ...(options.replyTo ? { replyTo: options.replyTo } : {}),
    }));
    return { ...result, attachment };
  }

  /** Encrypts a file under a fresh key and uploads the ciphertext; the reference opens it. */
  async uploadAttachment(
    groupId: string,
    bytes: Uint8Array,
    options: { name?: string; mime?: string } = {},
  ): Promise<AttachmentRef> {
    const encrypted = await encryptAttachment(bytes);
    const stored = await this.context.api.uploadBlob(groupId, encrypted.ciphertext);
    // The server names blobs by the SHA-256 of their bytes: it must be ours.
    if (stored.id !== encrypted.ref.sha256 || stored.size !== encrypted.ref.size) {
      throw new VeilError("attachment_integrity", "The server stored other bytes");
    }
    return {
      blobId: stored.id,
      ...encrypted.ref,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.mime !== undefined ? { mime: options.mime } : {}),
    };
  }

  async download(ref: AttachmentRef): Promise<Uint8Array> {
    return decryptAttachment(ref, await this.context.api.downloadBlob(ref.blobId));
  }

  /** Typing travels as an ephemeral signal: pushed to connected members, never stored. */
  async typing(groupId: string, typing: boolean): Promise<void> {
    await this.groups.lock.run(groupId, async () => {
      const loaded = await this.groups.load(groupId);
      if (!loaded) throw new VeilError("group_unknown");
      if (!loaded.meta.active) throw new VeilError("group_left");
      const envelope: Envelope = {
        v: 1,
        type: "typing",
        id: newMessageId(),
        ts: Date.now(),
        typing,
      };
      const { message, next } = await loaded.group.encrypt(encodeEnvelope(envelope));
      loaded.group = next;
      await this.groups.save(loaded, []); // a key is never used twice, even for a signal
      try {
        await this.context.api.sendSignal(groupId, toBase64Url(message));
      } catch (err) {
        // A commit moved the group on: this indicator is simply lost, as it would be offline.
        if (!isVeilError(err, "stale_epoch")) throw err;
      }
    });
  }

  /**
   * Sends every queued message, oldest first; stops at the first network failure
   * (and tries again later). True when the outbox is empty.
   */
  async flushOutbox(): Promise<boolean> {
    const done = await this.flushQueued(() => true);
    if (done) {
      this.queuedIn.clear();
      this.retry.reset();
    } else if (!this.context.closed()) {
      this.retry.schedule();
    }
    return done;
  }

  /** Sends the chat's messages queued before `next`, oldest first; throws a network failure. */
  private async flushChat(next: OutboxRecord): Promise<void> {
    const { groupId } = next;
    const done = await this.flushQueued(
      (r) => r.groupId === groupId && r.id !== next.id && r.createdAt <= next.createdAt,
      true,
    );
    if (done) this.queuedIn.delete(groupId);
  }

  private async flushQueued(
    which: (record: OutboxRecord) => boolean,
    throwRetryable = false,
  ): Promise<boolean> {
    const queued = (await this.context.state.listJson(OutboxRecord, ns.outbox))
      .map((r) => r.value)
      .filter(which);
    queued.sort((a, b) => a.createdAt - b.createdAt);
    for (const value of queued) {
      try {
        const seq = await this.deliver(value.groupId, value.id);
        if (seq !== null)
          this.context.events.emit("sent", { groupId: value.groupId, id: value.id, seq });
      } catch (err) {
        if (isVeilError(err) && err.retryable) {
          if (throwRetryable) throw err;
          return false;
        }
        reportError(this.context, err, { groupId: value.groupId });
      }
    }
    return true;
  }

  /**
   * Encrypts the outbox record on the group's current state and posts it; on
   * `stale_epoch` catches up and encrypts again under the same id.
   */
  private deliver(groupId: string, id: string): Promise<number | null> {
    return this.groups.lock.run(groupId, async () => {
      const record = await this.context.state.json(OutboxRecord, ns.outbox, id);
      if (!record) return null; // delivered meanwhile
      if (!Value.Check(Envelope, record.envelope)) {
        await this.context.state.write([del(ns.outbox, id)]);
        throw new VeilError("store_corrupt");
      }
      const envelope = record.envelope;
      for (let attempt = 0; attempt < maxSendAttempts; attempt++) {
        const loaded = await this.groups.load(groupId);
        if (!loaded?.meta.active) {
          await this.context.state.write([del(ns.outbox, id)]);
          throw new VeilError(loaded ? "group_left" : "group_unknown");
        }
        const { message, next } = await loaded.group.encrypt(encodeEnvelope(envelope));
        loaded.group = next;
        // Stored before it leaves: a restart never reuses this message key.
        await this.groups.save(loaded, []);
        let seq: number;
        try {
          seq = (await this.context.api.sendMessage(groupId, { id, message: toBase64Url(message) }))
            .seq;
        } catch (err) {
          if (isVeilError(err, "stale_epoch")) {
            this.context.logger.debug({ groupId }, "stale epoch on send; catching up");
            await this.groups.syncLocked(groupId);
            continue;
          }
          if (isVeilError(err) && err.retryable) throw err;
          await this.context.state.write([del(ns.outbox, id)]);
          throw err;
        }
        const history = loaded.meta.kind !== "keys";
        await this.context.state.write(this.delivered(record, envelope, seq, Date.now(), history));
        return seq;
      }
      throw new VeilError("commit_conflict", "The group kept moving while sending");
    });
  }

  /** Store writes for a message the server has: out of the outbox, into the history if shown. */
  private delivered(
    record: OutboxRecord,
    envelope: Envelope,
    seq: number,
    storedAt: number,
    history: boolean,
  ) {
    const ops = [del(ns.outbox, record.id)];
    if (history && isChatContent(envelope)) {
      const history: HistoryRecord = {
        groupId: record.groupId,
        seq,
        senderUserId: this.context.userId,
        senderDeviceId: this.context.deviceId,
        fromMe: true,
        storedAt,
        envelope,
      };
      ops.push(
        put(ns.messages, seqKey(record.groupId, seq), asJson(history)),
        put(ns.seen, `${record.groupId}/${record.id}`, seq),
      );
    }
    return ops;
  }

  private async receipt(
    groupId: string,
    status: "delivered" | "read",
    messageIds: string[],
  ): Promise<SendResult[]> {
    const results: SendResult[] = [];
    for (let i = 0; i < messageIds.length; i += maxReceiptIds) {
      const chunk = messageIds.slice(i, i + maxReceiptIds);
      results.push(
        await this.send(groupId, (id, ts) => ({
          v: 1,
          type: "receipt",
          id,
          ts,
          status,
          messageIds: chunk,
        })),
      );
    }
    return results;
  }

  // --- receiving (called by Groups, under the group's lock) ----------------------

  async application(input: ApplicationInput): Promise<Effects> {
    const { groupId, entry } = input;
    const parsed = parseEnvelope(input.plaintext);
    if (parsed.kind === "unknown") return { ops: [] };
    if (parsed.kind === "invalid") {
      return {
        ops: [],
        after: () =>
          reportError(this.context, new VeilError("envelope_invalid"), { groupId, seq: entry.seq }),
      };
    }
    const envelope = parsed.envelope;
    const fromMe = input.senderUserId === this.context.userId;
    if (isChatContent(envelope)) {
      const seen = `${groupId}/${envelope.id}`;
      if ((await this.context.state.store.get(ns.seen, seen)) !== undefined) return { ops: [] };
      const record: HistoryRecord = {
        groupId,
        seq: entry.seq,
        senderUserId: input.senderUserId,
        senderDeviceId: input.senderDeviceId,
        fromMe,
        storedAt: Date.parse(entry.createdAt),
        envelope,
      };
      const message = toChatMessage(record, envelope);
      return {
        ops: [
          put(ns.messages, seqKey(groupId, entry.seq), asJson(record)),
          put(ns.seen, seen, entry.seq),
        ],
        after: () => {
          // Queued first: a listener that marks it read at once replaces the delivery receipt.
          if (!fromMe && this.context.autoDeliveryReceipts) this.queueReceipt(groupId, envelope.id);
          this.context.events.emit("message", message);
        },
      };
    }
    if (envelope.type === "receipt") {
      return {
        ops: [],
        after: () =>
          this.context.events.emit("receipt", {
            groupId,
            status: envelope.status,
            messageIds: envelope.messageIds,
            fromUserId: input.senderUserId,
            fromDeviceId: input.senderDeviceId,
            fromMe,
            at: envelope.ts,
          }),
      };
    }
    if (envelope.type === "typing" && Date.now() - Date.parse(entry.createdAt) < typingFreshMs) {
      return { ops: [], after: () => this.emitTyping(input, envelope.typing) };
    }
    return { ops: [] };
  }

  /** Our own message in the log: if it is still in the outbox, its answer was lost. */
  async ownApplication(groupId: string, entry: LogEntry, kind: GroupKind): Promise<Effects> {
    if (!entry.id) return { ops: [] };
    const record = await this.context.state.json(OutboxRecord, ns.outbox, entry.id);
    if (!record || !Value.Check(Envelope, record.envelope)) return { ops: [] };
    const storedAt = Date.parse(entry.createdAt);
    const ops = this.delivered(record, record.envelope, entry.seq, storedAt, kind !== "keys");
    return {
      ops,
      after: () =>
        this.context.events.emit("sent", { groupId, id: entry.id as string, seq: entry.seq }),
    };
  }

  signal(input: Omit<ApplicationInput, "entry">): void {
    const parsed = parseEnvelope(input.plaintext);
    if (parsed.kind === "envelope" && parsed.envelope.type === "typing") {
      this.emitTyping(input, parsed.envelope.typing);
    }
  }

  /** After a group settles: send the delivery receipts its new messages call for. */
  settled(groupId: string): void {
    const due = this.receiptsDue.get(groupId);
    if (!due || due.size === 0 || this.context.closed()) return;
    this.receiptsDue.delete(groupId);
    this.context.track(
      this.receipt(groupId, "delivered", [...due]).catch((err: unknown) =>
        reportError(this.context, err, { groupId }),
      ),
    );
  }

  async history(groupId: string): Promise<ChatMessage[]> {
    const records = await this.context.state.listJson(HistoryRecord, ns.messages, `${groupId}/`);
    const out: ChatMessage[] = [];
    for (const { value } of records) {
      if (Value.Check(Envelope, value.envelope)) out.push(toChatMessage(value, value.envelope));
    }
    return out;
  }

  private queueReceipt(groupId: string, messageId: string): void {
    let due = this.receiptsDue.get(groupId);
    if (!due) {
      due = new Set();
      this.receiptsDue.set(groupId, due);
    }
    due.add(messageId);
  }

  private emitTyping(input: Omit<ApplicationInput, "entry" | "plaintext">, typing: boolean): void {
    if (input.senderDeviceId === this.context.deviceId) return;
    this.context.events.emit("typing", {
      groupId: input.groupId,
      userId: input.senderUserId,
      deviceId: input.senderDeviceId,
      typing,
    });
  }
}

/** A history record as the `message` event and `messages()` show it. */
export function toChatMessage(record: HistoryRecord, envelope: Envelope): ChatMessage {
  return {
    groupId: record.groupId,
    id: envelope.id,
    seq: record.seq,
    senderUserId: record.senderUserId,
    senderDeviceId: record.senderDeviceId,
    fromMe: record.fromMe,
    sentAt: envelope.ts,
    storedAt: record.storedAt,
    content: contentOf(envelope),
  };
}

function contentOf(envelope: Envelope): MessageContent {
  switch (envelope.type) {
    case "text":
      return { type: "text", text: envelope.text, replyTo: envelope.replyTo ?? null };
    case "attachment":
      return {
        type: "attachment",
        attachment: envelope.attachment,
        caption: envelope.caption ?? "",
        replyTo: envelope.replyTo ?? null,
      };
    case "reaction":
      return { type: "reaction", target: envelope.target, emoji: envelope.emoji };
    default:
      throw new VeilError("envelope_invalid");
  }
}
