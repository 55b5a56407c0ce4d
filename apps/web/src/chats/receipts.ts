import type { VeilClient } from "@veil/sdk";
import { useEffect, useState } from "react";

export type Receipt = "sent" | "delivered" | "read";

/** The most messages whose receipts this browser remembers (the newest win). */
const kept = 2000;

/**
 * Delivery and read receipts of this user's messages, kept for the whole app
 * (a receipt often arrives while its chat is closed) and across reloads.
 */
export class ReceiptBook {
  private readonly byMessage = new Map<string, Receipt>();
  private readonly listeners = new Set<() => void>();
  private readonly key: string;

  constructor(private readonly client: VeilClient) {
    this.key = `veil.receipts.${client.userId}`;
    try {
      const saved = JSON.parse(localStorage.getItem(this.key) ?? "[]") as Array<[string, Receipt]>;
      for (const [id, receipt] of saved) this.byMessage.set(id, receipt);
    } catch {
      // A damaged record only costs ticks already shown.
    }
  }

  /** Starts listening to the client; returns the function that stops it. */
  listen(): () => void {
    return this.client.on("receipt", (event) => {
      if (event.fromMe) return;
      for (const id of event.messageIds) {
        if (this.byMessage.get(id) === "read") continue;
        this.byMessage.delete(id); // re-insert: newest last
        this.byMessage.set(id, event.status);
      }
      while (this.byMessage.size > kept) {
        const oldest = this.byMessage.keys().next().value;
        if (oldest === undefined) break;
        this.byMessage.delete(oldest);
      }
      localStorage.setItem(this.key, JSON.stringify([...this.byMessage]));
      for (const listener of this.listeners) listener();
    });
  }

  get(messageId: string): Receipt {
    return this.byMessage.get(messageId) ?? "sent";
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const books = new WeakMap<VeilClient, ReceiptBook>();

/** The receipt book of a client: one per signed-in client, listening from its first use. */
export function receiptBook(client: VeilClient): ReceiptBook {
  let book = books.get(client);
  if (!book) {
    book = new ReceiptBook(client);
    book.listen();
    books.set(client, book);
  }
  return book;
}

/** Re-renders when a receipt arrives; returns the book to read receipts from. */
export function useReceipts(client: VeilClient): ReceiptBook {
  const book = receiptBook(client);
  const [, setVersion] = useState(0);
  useEffect(() => book.subscribe(() => setVersion((v) => v + 1)), [book]);
  return book;
}
