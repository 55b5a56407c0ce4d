import type { ChatMessage, GroupSummary } from "@veil/sdk";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { CallLine, useCallHistory } from "../calls/call-history.js";
import { callManager } from "../calls/use-calls.js";
import { useClient, useClientEvent } from "../device/context.js";
import { loadPerson, personName } from "../device/people.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import { href } from "../ui/router.js";
import { useLatest } from "../ui/use-latest.js";
import { type ChatSummary, isShown, readMark, setReadMark } from "./chat-summaries.js";
import { Composer } from "./composer.js";
import { GroupMembers } from "./group-members.js";
import { MessageBubble, type ReactionSummary } from "./message-bubble.js";
import { useReceipts } from "./receipts.js";
import { ReportPersonDialog } from "./report-person.js";

/** One open chat: its messages, receipts, typing, reactions, replies, files and the composer. */
export function Conversation({ chat, onRead }: { chat: ChatSummary; onRead: () => void }) {
  const client = useClient();
  const groupId = chat.info.groupId;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const receipts = useReceipts(client);
  const [typing, setTyping] = useState<Map<string, number>>(new Map());
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [group, setGroup] = useState<GroupSummary | null>(null);
  const [showMembers, setShowMembers] = useState(false);
  const [reporting, setReporting] = useState<string | null>(null);
  const isAnnouncement = chat.info.kind === "announcement";
  // People are reported from 1:1 chats and groups; an announcement group's admins are the community's.
  const canReport = chat.info.kind === "direct" || chat.info.kind === "group";
  const peer = chat.info.peerUserId;
  const callable = chat.info.kind === "direct" || chat.info.kind === "group";
  const calls = useCallHistory(groupId, callable);
  const startCall = (media: "audio" | "video") => {
    setError(null);
    callManager(client)
      .start(groupId, chat.info.peerUserId, media, chat.info.kind === "group")
      .catch((e: unknown) => setError(describeError(e)));
  };
  const announcementCounts = useAnnouncementCounts(groupId, isAnnouncement, messages);

  const begin = useLatest();
  const reload = useCallback(async () => {
    const current = begin();
    const loaded = await client.messages(groupId);
    if (current()) setMessages(loaded);
  }, [client, groupId, begin]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const loadGroup = useCallback(async () => {
    setGroup(await client.groupInfo(groupId).catch(() => null));
  }, [client, groupId]);
  useEffect(() => {
    void loadGroup();
  }, [loadGroup]);
  useClientEvent("membership", (e) => {
    if (e.groupId === groupId) void loadGroup();
  });
  const isAdmin = group?.admins.includes(client.userId ?? "") ?? false;
  // In an announcement group (and a group set so) only admins post; the server refuses the others anyway.
  const adminsOnly = isAnnouncement || group?.sendPolicy === "admins";
  const canPost = chat.info.joined && (!adminsOnly || isAdmin);

  useClientEvent("message", (m) => {
    if (m.groupId === groupId) void reload();
  });
  useClientEvent("sent", (e) => {
    if (e.groupId === groupId) void reload();
  });
  useClientEvent("typing", (e) => {
    if (e.groupId !== groupId || !e.userId || e.userId === client.userId) return;
    const who = e.userId;
    setTyping((old) => {
      const next = new Map(old);
      if (e.typing) next.set(who, Date.now());
      else next.delete(who);
      return next;
    });
  });
  // A typing indicator goes stale if its "stopped" never arrives.
  useEffect(() => {
    const timer = setInterval(() => {
      setTyping((old) => {
        const fresh = [...old].filter(([, at]) => Date.now() - at < 8000);
        return fresh.length === old.size ? old : new Map(fresh);
      });
    }, 2000);
    return () => clearInterval(timer);
  }, []);

  const shown = useMemo(() => messages.filter(isShown), [messages]);
  const reactions = useMemo(
    () => (isAnnouncement ? announcementCounts : collectReactions(messages)),
    [isAnnouncement, announcementCounts, messages],
  );
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  // Messages and calls, in the order they happened.
  const timeline = useMemo(
    () =>
      [
        ...shown.map((message) => ({
          kind: "message" as const,
          at: message.storedAt || message.sentAt,
          message,
        })),
        ...calls.map((entry) => ({ kind: "call" as const, at: entry.startedAt, entry })),
      ].sort((a, b) => a.at - b.at),
    [shown, calls],
  );

  // Read receipts for what this screen shows, while the page is visible.
  // A chat left open in a background tab is read when the tab comes back.
  const [visible, setVisible] = useState(document.visibilityState === "visible");
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  // Only what is new since the last read mark: a receipt is sent once per message.
  useEffect(() => {
    const last = shown.at(-1);
    if (!last || !visible) return;
    const mark = readMark(client, groupId);
    if (last.seq <= mark) return;
    const unread = shown.filter((m) => !m.fromMe && m.seq > mark);
    setReadMark(client, groupId, last.seq);
    onRead();
    const ids = unread.slice(-50).map((m) => m.id);
    if (ids.length > 0 && chat.info.kind !== "announcement") {
      client.markRead(groupId, ids).catch(() => undefined);
    }
  }, [shown, visible, client, groupId, onRead, chat.info.kind]);

  const bottom = useRef<HTMLLIElement>(null);
  const count = shown.length;
  useEffect(() => {
    if (count > 0) bottom.current?.scrollIntoView?.({ block: "end" });
  }, [count]);

  const react = async (message: ChatMessage, emoji: string) => {
    setError(null);
    try {
      const mine = reactions.get(message.id)?.mine;
      await client.react(groupId, message.id, mine === emoji ? "" : emoji);
      await reload();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <div className="conversation">
      <header className="conversation-header">
        <a className="back" href={href("chats")} aria-label="Back to chats">
          ←
        </a>
        <h2>{chat.title}</h2>
        {callable && chat.info.joined && (
          <>
            <button type="button" onClick={() => startCall("audio")}>
              Voice call
            </button>
            <button type="button" onClick={() => startCall("video")}>
              Video call
            </button>
          </>
        )}
        {chat.info.kind === "direct" && (
          <a href={href("chats", groupId, "safety")}>Safety number</a>
        )}
        {chat.info.kind === "direct" && peer && (
          <button
            type="button"
            aria-label={`Report ${chat.title}`}
            onClick={() => setReporting(peer)}
          >
            Report
          </button>
        )}
        {group && chat.info.kind !== "direct" && (
          <button
            type="button"
            aria-expanded={showMembers}
            onClick={() => setShowMembers((v) => !v)}
          >
            {group.memberCount} {group.memberCount === 1 ? "member" : "members"}
          </button>
        )}
      </header>
      {showMembers && group && (
        <GroupMembers group={group} onReport={canReport ? setReporting : null} />
      )}
      {reporting && (
        <ReportPersonDialog
          groupId={groupId}
          userId={reporting}
          onClose={() => setReporting(null)}
        />
      )}
      {!chat.info.joined ? (
        <EmptyState title="Waiting for this chat's keys">
          <p>Another member's device is adding this one; it takes a moment.</p>
        </EmptyState>
      ) : shown.length === 0 && calls.length === 0 ? (
        <EmptyState title="No messages yet">
          <p>Say hello. Only the people in this chat can read it.</p>
        </EmptyState>
      ) : (
        <ol className="messages" aria-label="Messages" aria-live="polite">
          {timeline.map((item) =>
            item.kind === "call" ? (
              <CallLine key={item.entry.callId} entry={item.entry} />
            ) : (
              <MessageBubble
                key={item.message.id}
                message={item.message}
                groupKind={chat.info.kind}
                receipt={item.message.fromMe ? receipts.get(item.message.id) : null}
                reactions={reactions.get(item.message.id)}
                quoted={replyOf(item.message, byId)}
                onReply={() => setReplyTo(item.message)}
                onReact={(emoji) => void react(item.message, emoji)}
                onReportSender={
                  chat.info.kind === "group" && !item.message.fromMe && item.message.senderUserId
                    ? () => setReporting(item.message.senderUserId)
                    : null
                }
              />
            ),
          )}
          <li ref={bottom} aria-hidden="true" />
        </ol>
      )}
      <TypingLine users={[...typing.keys()]} />
      <ErrorNote error={error} />
      {chat.info.joined && !canPost && (
        <p className="muted readonly-note">
          {isAnnouncement
            ? "Only community admins post here. You can react."
            : "Only admins can send messages here."}
        </p>
      )}
      {canPost && (
        <Composer
          groupId={groupId}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onSent={() => {
            setReplyTo(null);
            void reload();
          }}
        />
      )}
    </div>
  );
}

/** The latest reaction of each sender to each message wins; an empty emoji takes it back. */
function collectReactions(messages: ChatMessage[]): Map<string, ReactionSummary> {
  const latest = new Map<string, Map<string, { emoji: string; mine: boolean }>>();
  for (const m of messages) {
    if (m.content.type !== "reaction") continue;
    const who = m.senderUserId ?? m.senderDeviceId;
    const perTarget = latest.get(m.content.target) ?? new Map();
    perTarget.set(who, { emoji: m.content.emoji, mine: m.fromMe });
    latest.set(m.content.target, perTarget);
  }
  const out = new Map<string, ReactionSummary>();
  for (const [target, senders] of latest) {
    const counts = new Map<string, number>();
    let mine: string | null = null;
    for (const { emoji, mine: isMine } of senders.values()) {
      if (!emoji) continue;
      counts.set(emoji, (counts.get(emoji) ?? 0) + 1);
      if (isMine) mine = emoji;
    }
    out.set(target, { counts, mine });
  }
  return out;
}

/** Reaction counts of announcements: members see counts only, never who (admins' devices count). */
function useAnnouncementCounts(
  groupId: string,
  enabled: boolean,
  messages: ChatMessage[],
): Map<string, ReactionSummary> {
  const client = useClient();
  const [counts, setCounts] = useState<Map<string, ReactionSummary>>(new Map());
  const ids = useMemo(
    () =>
      messages
        .filter((m) => m.content.type !== "reaction")
        .slice(-30)
        .map((m) => m.id),
    [messages],
  );
  const mine = useMemo(() => collectReactions(messages), [messages]);
  const put = useCallback(
    (messageId: string, record: Record<string, number>) =>
      setCounts((old) => {
        const next = new Map(old);
        next.set(messageId, {
          counts: new Map(Object.entries(record).filter(([, n]) => n > 0)),
          mine: mine.get(messageId)?.mine ?? null,
        });
        return next;
      }),
    [mine],
  );
  useEffect(() => {
    if (!enabled) return;
    for (const id of ids) {
      client.reactionCounts(groupId, id).then(
        (record) => put(id, record),
        () => undefined,
      );
    }
  }, [client, enabled, groupId, ids, put]);
  useClientEvent("reactions", (e) => {
    if (enabled && e.groupId === groupId) put(e.messageId, e.counts);
  });
  return counts;
}

function replyOf(m: ChatMessage, byId: Map<string, ChatMessage>): ChatMessage | undefined {
  const id = m.content.type === "reaction" ? null : m.content.replyTo;
  return id ? byId.get(id) : undefined;
}

function TypingLine({ users }: { users: string[] }) {
  const client = useClient();
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    void Promise.all(users.map((u) => loadPerson(client, u))).then(
      (people) => live && setNames(people.map((p) => personName(p))),
    );
    return () => {
      live = false;
    };
  }, [client, users]);
  return (
    <p className="typing" aria-live="polite">
      {names.length > 0 ? `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…` : ""}
    </p>
  );
}
