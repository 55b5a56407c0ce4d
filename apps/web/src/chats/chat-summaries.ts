import type { ChatInfo, ChatMessage, VeilClient } from "@veil/sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { useClientEvent } from "../device/context.js";
import { loadPerson, personName } from "../device/people.js";
import { useLatest } from "../ui/use-latest.js";

export interface ChatSummary {
  info: ChatInfo;
  title: string;
  /** The other person's photo id in a direct chat, when the rules show it. */
  photo: string | null;
  last: ChatMessage | undefined;
  unread: number;
}

/** The last log position this browser showed as read in a chat (kept in localStorage). */
export function readMark(client: VeilClient, groupId: string): number {
  return Number(localStorage.getItem(`veil.read.${client.userId}.${groupId}`) ?? 0);
}

export function setReadMark(client: VeilClient, groupId: string, seq: number): void {
  if (seq > readMark(client, groupId)) {
    localStorage.setItem(`veil.read.${client.userId}.${groupId}`, String(seq));
  }
}

/** Messages that show as a bubble (reactions attach to the message they react to). */
export function isShown(message: ChatMessage): boolean {
  return message.content.type !== "reaction";
}

export async function chatTitle(client: VeilClient, info: ChatInfo): Promise<string> {
  if (info.kind === "direct") {
    return personName(info.peerUserId ? await loadPerson(client, info.peerUserId) : null);
  }
  try {
    const group = await client.groupInfo(info.groupId);
    return group.name || (info.kind === "announcement" ? "Announcements" : "Group");
  } catch {
    return info.kind === "announcement" ? "Announcements" : "Group";
  }
}

async function summarise(client: VeilClient, info: ChatInfo): Promise<ChatSummary> {
  const [title, messages, peer] = await Promise.all([
    chatTitle(client, info),
    info.joined ? client.messages(info.groupId) : Promise.resolve([]),
    info.peerUserId ? loadPerson(client, info.peerUserId) : Promise.resolve(null),
  ]);
  const shown = messages.filter(isShown);
  const mark = readMark(client, info.groupId);
  return {
    info,
    title,
    photo: peer?.photo ?? null,
    last: shown.at(-1),
    unread: shown.filter((m) => !m.fromMe && m.seq > mark).length,
  };
}

/** Every chat of this device, newest activity first, refreshed on every event that changes one. */
export function useChatSummaries(client: VeilClient): {
  chats: ChatSummary[] | null;
  refresh: () => void;
} {
  const [chats, setChats] = useState<ChatSummary[] | null>(null);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const begin = useLatest();
  const load = useCallback(async () => {
    const current = begin();
    const infos = (await client.chats()).filter((c) => c.active);
    const summaries = await Promise.all(infos.map((info) => summarise(client, info)));
    summaries.sort((a, b) => (b.last?.storedAt ?? 0) - (a.last?.storedAt ?? 0));
    if (current()) setChats(summaries);
  }, [client, begin]);

  // Bursts of events (a catch-up) make one reload.
  const refresh = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void load();
    }, 50);
  }, [load]);

  useEffect(() => {
    void load();
    return () => {
      if (pending.current) clearTimeout(pending.current);
    };
  }, [load]);
  useClientEvent("message", refresh);
  useClientEvent("membership", refresh);
  useClientEvent("synced", refresh);
  useClientEvent("community", refresh);
  useClientEvent("sent", refresh);
  return { chats, refresh };
}
