import { useCallback, useEffect, useMemo, useState } from "react";
import { ErrorNote } from "../ui/components.js";
import { navigate, useRoute } from "../ui/router.js";
import { useLatest } from "../ui/use-latest.js";
import {
  type Agent,
  type ConversationSummary,
  InboxApi,
  InboxApiError,
  type Me,
  type Team,
} from "./api.js";
import { ConversationList, type ListFilter } from "./conversation-list.js";
import { type Abilities, ConversationView } from "./conversation-view.js";
import { describeInboxError } from "./errors.js";
import { loadSession, saveSession, takeInvitation } from "./session.js";
import { SignIn } from "./sign-in.js";
import { usePolling } from "./use-polling.js";

/** The team inbox page: sign in, then the conversations of the business. */
export function InboxApp() {
  const [invitation, setInvitation] = useState(takeInvitation);
  const [token, setToken] = useState<string | null>(() => (invitation ? null : loadSession()));
  const onSession = useCallback((next: string | null) => {
    saveSession(next);
    setToken(next);
    // An invitation is used once: after it, signing in is by password.
    if (next) setInvitation(null);
  }, []);
  if (!token)
    return (
      <SignIn
        invitation={invitation}
        onSession={onSession}
        onForgetInvitation={() => setInvitation(null)}
      />
    );
  return <Workspace token={token} onSignedOut={() => onSession(null)} />;
}

function Workspace({ token, onSignedOut }: { token: string; onSignedOut: () => void }) {
  const api = useMemo(() => new InboxApi(token), [token]);
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.me().then(setMe, (e: unknown) => {
      if (e instanceof InboxApiError && e.status === 401) onSignedOut();
      else setError(describeInboxError(e));
    });
  }, [api, onSignedOut]);

  if (!me)
    return (
      <div className="splash" aria-live="polite">
        {error ? (
          <>
            <ErrorNote error={error} />
            <button type="button" onClick={onSignedOut}>
              Sign in again
            </button>
          </>
        ) : (
          "Opening the inbox…"
        )}
      </div>
    );
  return <Inbox api={api} me={me} onSignedOut={onSignedOut} />;
}

function Inbox({ api, me, onSignedOut }: { api: InboxApi; me: Me; onSignedOut: () => void }) {
  const route = useRoute();
  const selectedId = route[0] === "c" ? (route[1] ?? null) : null;
  const [filter, setFilter] = useState<ListFilter>({ status: "open", team: "", assignee: "" });
  const [conversations, setConversations] = useState<ConversationSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [teams, setTeams] = useState<Team[]>([]);
  const [agents, setAgents] = useState<Agent[]>([me.agent]);
  const [now, setNow] = useState(Date.now);
  const begin = useLatest();
  const can = (permission: string) => me.permissions.includes(permission);
  const abilities: Abilities = {
    reply: can("conversations:reply"),
    assign: can("conversations:assign"),
    status: can("conversations:status"),
    notes: can("notes:write"),
  };

  // Teams and agents name things in the list; a role that may not list them sees ids less often.
  useEffect(() => {
    api.teams().then(setTeams, () => setTeams([]));
    api.agents().then(
      (all) => setAgents(all.some((a) => a.id === me.agent.id) ? all : [me.agent, ...all]),
      () => setAgents([me.agent]),
    );
  }, [api, me.agent]);

  const loadList = useCallback(() => {
    const current = begin();
    api.conversations(filter).then(
      (list) => {
        if (!current()) return;
        setConversations(list);
        setListError(null);
        setNow(Date.now());
      },
      (e: unknown) => {
        if (!current()) return;
        if (e instanceof InboxApiError && e.status === 401) onSignedOut();
        else setListError(describeInboxError(e));
      },
    );
  }, [api, filter, begin, onSignedOut]);
  usePolling(loadList);

  const signOut = async () => {
    await api.signOut().catch(() => undefined);
    navigate();
    onSignedOut();
  };

  return (
    <div className="shell inbox">
      <a className="skip" href="#inbox-main">
        Skip to the conversations
      </a>
      <header className="topbar">
        <span className="brand">Team inbox</span>
        <span className="grow" />
        <span className="status">
          Signed in as <strong>{me.agent.name}</strong>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="inbox-main" tabIndex={-1}>
        <div className={`split ${selectedId ? "has-detail" : ""}`}>
          <section className="list-pane" aria-label="Conversation list">
            <ConversationList
              filter={filter}
              onFilter={(next) => {
                setConversations(null);
                setFilter(next);
              }}
              conversations={conversations}
              teams={teams}
              agents={agents}
              selectedId={selectedId}
              error={listError}
              now={now}
            />
          </section>
          <div className="detail-pane">
            {selectedId ? (
              <ConversationView
                // A new conversation starts blank: never another one's timeline under its header.
                key={selectedId}
                api={api}
                id={selectedId}
                me={me.agent}
                agents={agents}
                teams={teams}
                abilities={abilities}
                onChanged={loadList}
              />
            ) : (
              <div className="empty">
                <p className="empty-title">Pick a conversation</p>
                <p>Choose one on the left to read it, assign it, reply or leave a note.</p>
              </div>
            )}
          </div>
        </div>
      </main>
    </div>
  );
}
