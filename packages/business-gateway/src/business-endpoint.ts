import { type ChatMessage, isVeilError, type ReceiptEvent, type VeilClient } from "@veil/sdk";
import type { Logger } from "pino";
import { CloudError } from "./cloud-errors.js";
import { veilIdOf, wamidOf } from "./ids.js";
import { receiveAttachment } from "./media/incoming.js";
import type { MediaInboundMessage } from "./media/media-payloads.js";
import type { MediaRecord, MediaStore } from "./media/media-store.js";
import type { MediaSendOptions } from "./media/send.js";
import {
  type InboundMessage,
  type Metadata,
  messagesPayload,
  statusesPayload,
  unixSeconds,
} from "./payloads.js";
import type { Database, Db, Tx } from "./store/database.js";
import { enqueueWebhook } from "./webhooks/outbox.js";

/** What the gateway adds around storing an incoming message. */
export interface InboundHooks {
  /** An incoming text's insights: stored with it, and sent in its webhook as `veil_insights`. */
  insights?(input: {
    text: string;
    customerUserId: string;
    sentAt: number;
  }): Promise<Record<string, unknown> | null>;
  /** Runs inside the transaction that stores an incoming message (the inbox routes it). */
  stored?(
    tx: Tx,
    event: {
      groupId: string;
      customerUserId: string;
      messageId: string;
      newConversation: boolean;
      at: number;
    },
  ): Promise<void>;
}

const statusRank: Record<string, number> = { sent: 1, delivered: 2, read: 3 };

/**
 * The business's side of its chats: turns the SDK's decrypted events into
 * stored messages plus outbox rows (one transaction), and sends for the API.
 */
export class BusinessEndpoint {
  /** Events are handled one at a time, in the order the SDK emitted them. */
  private queue: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly client: VeilClient,
    private readonly database: Database,
    private readonly metadata: Metadata,
    private readonly options: {
      logger: Logger;
      onEnqueued: () => void;
      hooks?: InboundHooks;
      /** Where attachments are kept, both ways. */
      media: MediaStore;
    },
  ) {}

  get media(): MediaStore {
    return this.options.media;
  }

  attach(): void {
    this.unsubscribe.push(
      this.client.on("message", (m) => this.serially(() => this.onMessage(m))),
      this.client.on("receipt", (r) => this.serially(() => this.onReceipt(r))),
    );
  }

  /**
   * Stores what the SDK showed but this database lacks (the process stopped
   * between the two): every incoming message of every direct chat, through the
   * same path as live ones, so each is stored and announced once.
   */
  reconcile(): Promise<void> {
    const done = this.queue.then(async () => {
      for (const chat of await this.client.chats()) {
        if (chat.kind !== "direct" || !chat.joined) continue;
        for (const m of await this.client.messages(chat.groupId))
          if (!m.fromMe) await this.onMessage(m);
      }
    });
    this.queue = done.catch((error) => {
      this.options.logger.error({ err: error }, "reconciling the stored messages failed");
    });
    return this.queue;
  }

  /** Waits for the events already received to be stored. */
  async drain(): Promise<void> {
    await this.queue;
  }

  detach(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private serially(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error) => {
      this.options.logger.error({ err: error }, "storing an event failed");
    });
  }

  private async onMessage(m: ChatMessage): Promise<void> {
    if (m.fromMe || m.senderUserId === null) return;
    const chat = await this.client.chat(m.groupId);
    if (chat?.kind !== "direct") return;
    const customer = m.senderUserId;
    const name = await this.customerName(customer);
    const wamid = wamidOf(m.id);
    let inbound: InboundMessage | MediaInboundMessage;
    let content: Record<string, unknown>;
    const base = { from: customer, id: wamid, timestamp: unixSeconds(m.sentAt) };
    let insights: Record<string, unknown> | null = null;
    if (m.content.type === "text") {
      content = { body: m.content.text, replyTo: m.content.replyTo };
      const context = m.content.replyTo
        ? { context: { from: this.metadata.phone_number_id, id: wamidOf(m.content.replyTo) } }
        : {};
      insights =
        (await this.options.hooks?.insights?.({
          text: m.content.text,
          customerUserId: customer,
          sentAt: m.sentAt,
        })) ?? null;
      inbound = {
        ...base,
        ...context,
        type: "text",
        text: { body: m.content.text },
        ...(insights ? { veil_insights: insights } : {}),
      };
    } else if (m.content.type === "reaction") {
      content = { messageId: m.content.target, emoji: m.content.emoji };
      inbound = {
        ...base,
        type: "reaction",
        reaction: { message_id: wamidOf(m.content.target), emoji: m.content.emoji },
      };
    } else if (m.content.type === "attachment") {
      // Stored messages are not downloaded again (the reconciliation at start sees them all).
      const known = await this.database.db
        .selectFrom("messages")
        .select("id")
        .where("veil_id", "=", m.id)
        .executeTakeFirst();
      if (known) return;
      const received = await receiveAttachment(this.client, this.options.media, m.content);
      content = received.content;
      const caption = m.content.caption;
      insights = caption
        ? ((await this.options.hooks?.insights?.({
            text: caption,
            customerUserId: customer,
            sentAt: m.sentAt,
          })) ?? null)
        : null;
      inbound = {
        ...base,
        ...(m.content.replyTo
          ? { context: { from: this.metadata.phone_number_id, id: wamidOf(m.content.replyTo) } }
          : {}),
        ...received.message,
        ...(insights ? { veil_insights: insights } : {}),
      };
    } else return;
    const now = Date.now();
    const stored = await this.database.transaction(async (tx) => {
      const seen = await tx.db
        .selectFrom("messages")
        .select("id")
        .where("veil_id", "=", m.id)
        .executeTakeFirst();
      if (seen) return false;
      const newConversation = await upsertConversation(tx.db, m.groupId, customer, name, now);
      await tx.db
        .insertInto("messages")
        .values({
          id: wamid,
          veil_id: m.id,
          group_id: m.groupId,
          customer_user_id: customer,
          direction: "in",
          type: m.content.type,
          content: JSON.stringify(content),
          status: "received",
          sent_at: m.sentAt,
          created_at: now,
          insights: insights ? JSON.stringify(insights) : null,
        })
        .execute();
      await this.options.hooks?.stored?.(tx, {
        groupId: m.groupId,
        customerUserId: customer,
        messageId: wamid,
        newConversation,
        at: now,
      });
      const contact = { waId: customer, name };
      await enqueueWebhook(
        tx.db,
        "messages",
        messagesPayload(this.metadata, contact, inbound),
        now,
      );
      return true;
    });
    if (stored) this.options.onEnqueued();
  }

  private async onReceipt(r: ReceiptEvent): Promise<void> {
    if (r.fromMe) return;
    const now = Date.now();
    let changed = false;
    await this.database.transaction(async (tx) => {
      for (const veilId of r.messageIds) {
        const row = await tx.db
          .selectFrom("messages")
          .select(["id", "status", "customer_user_id"])
          .where("veil_id", "=", veilId)
          .where("direction", "=", "out")
          .executeTakeFirst();
        if (!row || (statusRank[r.status] ?? 0) <= (statusRank[row.status] ?? 0)) continue;
        await tx.db
          .updateTable("messages")
          .set({ status: r.status })
          .where("id", "=", row.id)
          .execute();
        await enqueueWebhook(
          tx.db,
          "statuses",
          statusesPayload(this.metadata, {
            id: row.id,
            status: r.status,
            timestamp: unixSeconds(r.at),
            recipient_id: row.customer_user_id,
          }),
          now,
        );
        changed = true;
      }
    });
    if (changed) this.options.onEnqueued();
  }

  private async customerName(userId: string): Promise<string> {
    const known = await this.database.db
      .selectFrom("conversations")
      .select("customer_name")
      .where("customer_user_id", "=", userId)
      .executeTakeFirst();
    if (known) return known.customer_name;
    try {
      return (await this.client.api.user(userId)).name ?? "";
    } catch {
      return "";
    }
  }

  /** The chat with a customer: the stored one, or a new direct chat. */
  private async groupFor(to: string): Promise<string> {
    const known = await this.database.db
      .selectFrom("conversations")
      .select("group_id")
      .where("customer_user_id", "=", to)
      .executeTakeFirst();
    if (known) return known.group_id;
    try {
      const chat = await this.client.startDirectChat(to);
      const name = await this.customerName(to);
      await upsertConversation(this.database.db, chat.groupId, to, name, Date.now());
      return chat.groupId;
    } catch {
      throw new CloudError("undeliverable", "The recipient cannot be reached");
    }
  }

  /** The stored message behind a `wamid.…` in the chat with `to` (when given). */
  private async findMessage(wamid: string, field: string) {
    const veilId = veilIdOf(wamid);
    const row =
      veilId === null
        ? undefined
        : await this.database.db
            .selectFrom("messages")
            .select(["id", "veil_id", "group_id", "customer_user_id", "direction"])
            .where("veil_id", "=", veilId)
            .executeTakeFirst();
    if (!row) throw new CloudError("parameter_invalid", `${field} is not a known message id`);
    return row;
  }

  async sendText(to: string, body: string, replyTo: string | null): Promise<string> {
    const groupId = await this.groupFor(to);
    let replyVeilId: string | undefined;
    if (replyTo !== null) {
      const target = await this.findMessage(replyTo, "context.message_id");
      if (target.group_id !== groupId)
        throw new CloudError("parameter_invalid", "context.message_id is not in this chat");
      replyVeilId = target.veil_id;
    }
    const sent = await this.client.sendText(
      groupId,
      body,
      replyVeilId ? { replyTo: replyVeilId } : {},
    );
    return this.storeOutgoing(sent.id, groupId, to, "text", { body, replyTo: replyVeilId ?? null });
  }

  async react(to: string, messageId: string, emoji: string): Promise<string> {
    const groupId = await this.groupFor(to);
    const target = await this.findMessage(messageId, "reaction.message_id");
    if (target.group_id !== groupId)
      throw new CloudError("parameter_invalid", "reaction.message_id is not in this chat");
    const sent = await this.client.react(groupId, target.veil_id, emoji);
    return this.storeOutgoing(sent.id, groupId, to, "reaction", {
      messageId: target.veil_id,
      emoji,
    });
  }

  /** Sends a stored media file (checked by the caller), encrypted by the SDK for the customer. */
  async sendMedia(
    to: string,
    media: MediaRecord,
    bytes: Uint8Array,
    options: MediaSendOptions,
  ): Promise<string> {
    const groupId = await this.groupFor(to);
    let replyVeilId: string | undefined;
    if (options.replyTo !== null) {
      const target = await this.findMessage(options.replyTo, "context.message_id");
      if (target.group_id !== groupId)
        throw new CloudError("parameter_invalid", "context.message_id is not in this chat");
      replyVeilId = target.veil_id;
    }
    let sent: Awaited<ReturnType<VeilClient["sendAttachment"]>>;
    try {
      sent = await this.client.sendAttachment(groupId, bytes, {
        mime: media.mimeType,
        ...(options.filename ? { name: options.filename } : {}),
        ...(options.caption ? { caption: options.caption } : {}),
        ...(replyVeilId ? { replyTo: replyVeilId } : {}),
      });
    } catch (error) {
      if (isVeilError(error) && error.status === 413)
        throw new CloudError("parameter_invalid", "the file is larger than the Veil server takes");
      throw error;
    }
    return this.storeOutgoing(sent.id, groupId, to, "attachment", {
      mediaId: media.id,
      kind: options.kind,
      mimeType: media.mimeType,
      sha256: media.sha256,
      fileSize: media.fileSize,
      filename: options.filename,
      caption: options.caption ?? "",
      replyTo: replyVeilId ?? null,
    });
  }

  /** Marks an incoming message (and so the ones before it) read for the customer. */
  async markRead(messageId: string): Promise<void> {
    const target = await this.findMessage(messageId, "message_id");
    if (target.direction !== "in")
      throw new CloudError("parameter_invalid", "message_id is not an incoming message");
    await this.client.markRead(target.group_id, [target.veil_id]);
    await this.database.db
      .updateTable("messages")
      .set({ status: "read" })
      .where("id", "=", target.id)
      .execute();
  }

  private async storeOutgoing(
    veilId: string,
    groupId: string,
    to: string,
    type: "text" | "reaction" | "attachment",
    content: Record<string, unknown>,
  ): Promise<string> {
    const now = Date.now();
    const wamid = wamidOf(veilId);
    // Stored with its `sent` status webhook in one transaction, as incoming messages are.
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("messages")
        .values({
          id: wamid,
          veil_id: veilId,
          group_id: groupId,
          customer_user_id: to,
          direction: "out",
          type,
          content: JSON.stringify(content),
          status: "sent",
          sent_at: now,
          created_at: now,
          insights: null,
        })
        .execute();
      await enqueueWebhook(
        tx.db,
        "statuses",
        statusesPayload(this.metadata, {
          id: wamid,
          status: "sent",
          timestamp: unixSeconds(now),
          recipient_id: to,
        }),
        now,
      );
      tx.onCommit(this.options.onEnqueued);
    });
    return wamid;
  }
}

async function upsertConversation(
  db: Db,
  groupId: string,
  customer: string,
  name: string,
  now: number,
): Promise<boolean> {
  const existing = await db
    .selectFrom("conversations")
    .select("group_id")
    .where("customer_user_id", "=", customer)
    .executeTakeFirst();
  if (existing) {
    await db
      .updateTable("conversations")
      .set({ updated_at: now, customer_name: name })
      .where("customer_user_id", "=", customer)
      .execute();
    return false;
  }
  await db
    .insertInto("conversations")
    .values({
      group_id: groupId,
      customer_user_id: customer,
      customer_name: name,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return true;
}
