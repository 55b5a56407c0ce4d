import { type FormEvent, useState } from "react";
import { useClient } from "../device/context.js";
import { Avatar, Badge, EmptyState, ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import { href, navigate } from "../ui/router.js";
import { useImage } from "../ui/use-image.js";
import { type ChatSummary, useChatSummaries } from "./chat-summaries.js";
import { Conversation } from "./conversation.js";
import { SafetyNumber } from "./safety-number.js";

/** The chat list beside the open chat (one column on a phone-sized screen). */
export function ChatsView({ selected, sub }: { selected: string | null; sub: string | null }) {
  const client = useClient();
  const { chats, refresh } = useChatSummaries(client);
  const open = chats?.find((c) => c.info.groupId === selected);

  return (
    <div className={`split ${selected ? "has-detail" : ""}`}>
      <section className="list-pane" aria-label="Chats">
        <NewChat />
        {chats === null ? (
          <p aria-live="polite">Loading chats…</p>
        ) : chats.length === 0 ? (
          <EmptyState title="No chats yet">
            <p>Start one with someone's phone number above.</p>
          </EmptyState>
        ) : (
          <ul className="chat-list">
            {chats.map((chat) => (
              <ChatRow
                key={chat.info.groupId}
                chat={chat}
                active={chat.info.groupId === selected}
              />
            ))}
          </ul>
        )}
      </section>
      <section className="detail-pane" aria-label={open ? `Chat with ${open.title}` : "Chat"}>
        {selected && sub === "safety" && open ? (
          <SafetyNumber chat={open} />
        ) : selected && open ? (
          <Conversation key={selected} chat={open} onRead={refresh} />
        ) : selected && chats !== null ? (
          <EmptyState title="This chat is not on this device">
            <p>
              <a href={href("chats")}>Back to your chats</a>
            </p>
          </EmptyState>
        ) : (
          <EmptyState title="Pick a chat">
            <p>Messages are end-to-end encrypted: only the people in a chat can read them.</p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}

function ChatRow({ chat, active }: { chat: ChatSummary; active: boolean }) {
  const client = useClient();
  const peer = chat.info.peerUserId;
  const src = useImage(chat.photo, () => client.api.userPhoto(peer ?? ""));
  const last = chat.last;
  const preview = !chat.info.joined
    ? "Waiting for the chat's keys…"
    : !last
      ? "No messages yet"
      : last.content.type === "text"
        ? last.content.text
        : last.content.type === "attachment"
          ? `📎 ${last.content.attachment.name || "File"}`
          : "";
  return (
    <li>
      <a
        className="chat-row"
        href={href("chats", chat.info.groupId)}
        aria-current={active ? "true" : undefined}
      >
        <Avatar name={chat.title} src={src} />
        <span className="chat-row-text">
          <span className="chat-title">{chat.title}</span>
          <span className="chat-preview">
            {last?.fromMe ? "You: " : ""}
            {preview}
          </span>
        </span>
        <Badge count={chat.unread} label="unread" />
      </a>
    </li>
  );
}

/** Opens a chat with the person who has this number, or a group with several numbers. */
function NewChat() {
  const client = useClient();
  const [phones, setPhones] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const numbers = phones
        .split(/[,;\n]/)
        .map((p) => p.trim())
        .filter(Boolean);
      const people = [];
      for (const phone of numbers) people.push(await client.api.lookupPhone(phone));
      const chat =
        people.length === 1 && people[0]
          ? await client.startDirectChat(people[0].id)
          : await client.createGroup(people.map((p) => p.id));
      setPhones("");
      navigate("chats", chat.groupId);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="new-chat" onSubmit={(e) => void submit(e)} aria-label="Start a chat">
      <label>
        New chat
        <input
          name="phones"
          type="text"
          inputMode="tel"
          placeholder="Phone number (several, comma-separated, for a group)"
          value={phones}
          onChange={(e) => setPhones(e.target.value)}
        />
      </label>
      <button type="submit" disabled={busy || !phones.trim()}>
        Start
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
