import {
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { href } from "../ui/router.js";
import { useLatest } from "../ui/use-latest.js";
import {
  type Agent,
  type ConversationStatus,
  type ConversationSummary,
  type InboxApi,
  InboxApiError,
  type MediaInfo,
  statuses,
  type Team,
  type TimelineItem,
} from "./api.js";
import { describeInboxError } from "./errors.js";
import { fileSize, moment, statusNames } from "./format.js";
import { InsightsPanel } from "./insights-panel.js";
import { useInboxAction } from "./use-inbox-action.js";
import { usePolling } from "./use-polling.js";

export interface Abilities {
  reply: boolean;
  assign: boolean;
  status: boolean;
  notes: boolean;
}

/** One conversation: its timeline with insights, assignment, status, and the composer. */
export function ConversationView({
  api,
  id,
  me,
  agents,
  teams,
  abilities,
  onChanged,
}: {
  api: InboxApi;
  id: string;
  me: Agent;
  agents: Agent[];
  teams: Team[];
  abilities: Abilities;
  onChanged: () => void;
}) {
  const [conversation, setConversation] = useState<ConversationSummary | null>(null);
  const [timeline, setTimeline] = useState<TimelineItem[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const begin = useLatest();
  const action = useInboxAction();

  const load = useCallback(() => {
    const current = begin();
    Promise.all([api.conversation(id), api.timeline(id)]).then(
      ([c, t]) => {
        if (!current()) return;
        setConversation(c);
        setTimeline(t);
        setLoadError(null);
      },
      (error: unknown) => {
        if (!current()) return;
        if (error instanceof InboxApiError && error.status === 404) setMissing(true);
        else setLoadError(describeInboxError(error));
      },
    );
  }, [api, id, begin]);
  usePolling(load);

  const change = async (patch: {
    status?: ConversationStatus;
    assigneeId?: string | null;
    teamId?: string | null;
  }) => {
    if (await action.run(() => api.update(id, patch))) {
      load();
      onChanged();
    }
  };

  if (missing)
    return (
      <EmptyState title="This conversation is not there">
        <p>It does not exist, or your role does not let you see it.</p>
        <a href={href()}>Back to the list</a>
      </EmptyState>
    );
  if (!conversation || !timeline)
    return (
      <div className="splash" aria-live="polite">
        {loadError ? <ErrorNote error={loadError} /> : "Loading the conversation…"}
      </div>
    );

  // Authors are agent ids, or the admin key and API keys (audit actors).
  const nameOf = (agentId: string | null): string | null => {
    if (!agentId) return null;
    if (agentId === me.id) return "You";
    if (agentId === "admin-key") return "The administrator";
    if (agentId.startsWith("api-key:")) return "An API client";
    return agents.find((a) => a.id === agentId)?.name ?? "An agent";
  };
  // Assignable: everyone listed (the API refuses what the role does not allow), the current one kept.
  const assignable = agents.filter((a) => a.active || a.id === conversation.assigneeId);
  if (!assignable.some((a) => a.id === me.id)) assignable.unshift(me);

  return (
    <section className="conversation" aria-labelledby="conversation-title">
      <header className="conversation-header inbox-header">
        <a className="back" href={href()} aria-label="Back to the conversations">
          ←
        </a>
        <h2 id="conversation-title">{conversation.customer.name}</h2>
        <span className={`status-tag status-${conversation.status}`}>
          {statusNames[conversation.status]}
        </span>
      </header>
      <div className="inbox-controls">
        <label>
          Assignee
          <select
            value={conversation.assigneeId ?? ""}
            disabled={!abilities.assign || action.busy}
            onChange={(e) => void change({ assigneeId: e.target.value || null })}
          >
            <option value="">Unassigned</option>
            {assignable.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.id === me.id ? `${agent.name} (me)` : agent.name}
              </option>
            ))}
          </select>
        </label>
        {teams.length > 0 ? (
          <label>
            Team
            <select
              value={conversation.teamId ?? ""}
              disabled={!abilities.assign || action.busy}
              onChange={(e) => void change({ teamId: e.target.value || null })}
            >
              <option value="">No team</option>
              {teams.map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <fieldset className="segmented">
          <legend>Status</legend>
          {statuses.map((status) => (
            <button
              key={status}
              type="button"
              aria-pressed={conversation.status === status}
              disabled={!abilities.status || action.busy}
              onClick={() => void change({ status })}
            >
              {status === "closed" ? "Close" : statusNames[status]}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={action.error ?? loadError} />
      <Timeline
        items={timeline}
        nameOf={nameOf}
        customer={conversation.customer.name}
        attachment={(media) => <Attachment api={api} conversationId={id} media={media} />}
      />
      <Composer
        abilities={abilities}
        onReply={async (text) => {
          const ok = await action.run(() => api.reply(id, text));
          if (ok) {
            load();
            onChanged();
          }
          return ok;
        }}
        onNote={async (body) => {
          const ok = await action.run(() => api.addNote(id, body));
          if (ok) load();
          return ok;
        }}
        busy={action.busy}
      />
    </section>
  );
}

function Timeline({
  items,
  nameOf,
  customer,
  attachment,
}: {
  items: TimelineItem[];
  nameOf: (agentId: string | null) => string | null;
  customer: string;
  attachment: (media: MediaInfo) => ReactNode;
}) {
  const end = useRef<HTMLLIElement>(null);
  const count = items.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when something new arrives
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [count]);
  if (items.length === 0)
    return (
      <EmptyState title="No messages yet">
        <p>The customer's messages and your replies show here.</p>
      </EmptyState>
    );
  return (
    <ol className="messages inbox-timeline" aria-label="Timeline">
      {items.map((item) =>
        item.kind === "note" ? (
          <li key={`note-${item.id}`} className="note">
            <p className="sender">
              <span aria-hidden="true">🔒 </span>Internal note
              {nameOf(item.agentId) ? ` · ${nameOf(item.agentId)}` : ""}
            </p>
            <p className="text">{item.body}</p>
            <p className="meta">
              <time dateTime={new Date(item.at).toISOString()}>{moment(item.at)}</time>
              <span>· only the team sees this</span>
            </p>
          </li>
        ) : (
          <li
            key={`message-${item.id}`}
            className={item.direction === "outgoing" ? "bubble mine" : "incoming-row"}
          >
            {item.direction === "incoming" ? (
              <div className="bubble">
                <MessageBody item={item} sender={customer} attachment={attachment} />
              </div>
            ) : (
              <MessageBody
                item={item}
                sender={nameOf(item.agentId) ?? "The business"}
                attachment={attachment}
              />
            )}
            {item.direction === "incoming" && item.insights ? (
              <InsightsPanel insights={item.insights} />
            ) : null}
          </li>
        ),
      )}
      <li ref={end} aria-hidden="true" className="timeline-end" />
    </ol>
  );
}

function MessageBody({
  item,
  sender,
  attachment,
}: {
  item: Extract<TimelineItem, { kind: "message" }>;
  sender: string;
  attachment: (media: MediaInfo) => ReactNode;
}) {
  return (
    <>
      <p className="sender">{sender}</p>
      {item.media ? attachment(item.media) : null}
      {item.text !== null || !item.media ? (
        <p className="text">{item.text ?? `(${item.type})`}</p>
      ) : null}
      <p className="meta">
        <time dateTime={new Date(item.at).toISOString()}>{moment(item.at)}</time>
        {item.direction === "outgoing" && item.status ? <span>· {item.status}</span> : null}
      </p>
    </>
  );
}

/** Types a browser shows inline; anything else is a download. */
const inlineImages = new Set(["image/jpeg", "image/png", "image/webp"]);

/**
 * An attachment: images as a thumbnail, other files as a download button. The
 * bytes need the session's bearer token, so they are fetched into a blob: URL.
 */
function Attachment({
  api,
  conversationId,
  media,
}: {
  api: InboxApi;
  conversationId: string;
  media: MediaInfo;
}) {
  const isImage = inlineImages.has(media.mimeType);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = media.filename ?? `${media.kind} file`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the ids name what is fetched
  useEffect(() => {
    if (!isImage) return;
    let live = true;
    let made: string | null = null;
    api.media(conversationId, media).then(
      (blob) => {
        if (!live) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      },
      (e: unknown) => live && setError(describeInboxError(e)),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, conversationId, media.id, isImage]);

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await api.media(conversationId, media));
      link.download = media.filename ?? `${media.kind}-${media.id}`;
      link.click();
      const href = link.href;
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch (e) {
      setError(describeInboxError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <figure className="attachment inbox-attachment">
      {isImage ? (
        url ? (
          <img src={url} alt={media.caption ?? media.filename ?? "Image from the conversation"} />
        ) : error ? null : (
          <span className="meta">Loading the image…</span>
        )
      ) : (
        <button type="button" onClick={() => void download()} disabled={busy}>
          <span aria-hidden="true">📎 </span>
          Download {name} ({fileSize(media.fileSize)})
        </button>
      )}
      <ErrorNote error={error} />
    </figure>
  );
}

type Mode = "reply" | "note";

/** One box, two modes: a reply the customer gets, or a note only the team sees. */
function Composer({
  abilities,
  onReply,
  onNote,
  busy,
}: {
  abilities: Abilities;
  onReply: (text: string) => Promise<boolean>;
  onNote: (body: string) => Promise<boolean>;
  busy: boolean;
}) {
  const [mode, setMode] = useState<Mode>(abilities.reply ? "reply" : "note");
  const [text, setText] = useState("");
  const allowed = mode === "reply" ? abilities.reply : abilities.notes;
  if (!abilities.reply && !abilities.notes)
    return <p className="readonly-note">Your role lets you read this conversation only.</p>;
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value || busy || !allowed) return;
    if (await (mode === "reply" ? onReply(value) : onNote(value))) setText("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };
  return (
    <form
      className={`composer inbox-composer ${mode === "note" ? "note-mode" : ""}`}
      aria-label={mode === "reply" ? "Reply" : "Internal note"}
      onSubmit={submit}
    >
      <fieldset className="segmented">
        <legend className="visually-hidden">Write</legend>
        <button
          type="button"
          aria-pressed={mode === "reply"}
          disabled={!abilities.reply}
          onClick={() => setMode("reply")}
        >
          Reply
        </button>
        <button
          type="button"
          aria-pressed={mode === "note"}
          disabled={!abilities.notes}
          onClick={() => setMode("note")}
        >
          Internal note
        </button>
      </fieldset>
      <div className="composer-row">
        <label className="grow">
          <span className="visually-hidden">
            {mode === "reply" ? "Reply to the customer" : "Note for the team"}
          </span>
          <textarea
            rows={2}
            value={text}
            placeholder={
              mode === "reply"
                ? "Reply as the business (Enter sends, Shift+Enter for a new line)"
                : "A note only your team sees; the customer never gets it"
            }
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKeyDown}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || !allowed || !text.trim()}>
          {mode === "reply" ? "Send reply" : "Add note"}
        </button>
      </div>
    </form>
  );
}
