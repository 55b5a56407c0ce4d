import { Avatar, EmptyState, ErrorNote } from "../ui/components.js";
import { href } from "../ui/router.js";
import type { Agent, ConversationStatus, ConversationSummary, Team } from "./api.js";
import { statuses } from "./api.js";
import { ago, statusNames } from "./format.js";

export interface ListFilter {
  status: ConversationStatus | "all";
  /** A team id, "none" (no team) or "" (any team). */
  team: string;
  /** "me", "none" (unassigned) or "" (anyone). */
  assignee: string;
}

const assigneeChoices: Array<{ value: string; label: string }> = [
  { value: "me", label: "Mine" },
  { value: "none", label: "Unassigned" },
  { value: "", label: "Everyone" },
];

/** The filters and the conversations that match them, newest first. */
export function ConversationList({
  filter,
  onFilter,
  conversations,
  teams,
  agents,
  selectedId,
  error,
  now,
}: {
  filter: ListFilter;
  onFilter: (filter: ListFilter) => void;
  conversations: ConversationSummary[] | null;
  teams: Team[];
  agents: Agent[];
  selectedId: string | null;
  error: string | null;
  now: number;
}) {
  const agentName = (id: string | null) =>
    id ? (agents.find((a) => a.id === id)?.name ?? "another agent") : null;
  const teamName = (id: string | null) => (id ? teams.find((t) => t.id === id)?.name : null);
  return (
    <>
      <form
        className="inbox-filters"
        aria-label="Filter conversations"
        onSubmit={(e) => e.preventDefault()}
      >
        <fieldset className="segmented">
          <legend className="visually-hidden">Assigned to</legend>
          {assigneeChoices.map((choice) => (
            <button
              key={choice.value || "all"}
              type="button"
              aria-pressed={filter.assignee === choice.value}
              onClick={() => onFilter({ ...filter, assignee: choice.value })}
            >
              {choice.label}
            </button>
          ))}
        </fieldset>
        <div className="filter-row">
          <label>
            Status
            <select
              value={filter.status}
              onChange={(e) =>
                onFilter({ ...filter, status: e.target.value as ConversationStatus | "all" })
              }
            >
              {statuses.map((status) => (
                <option key={status} value={status}>
                  {statusNames[status]}
                </option>
              ))}
              <option value="all">Any status</option>
            </select>
          </label>
          <label>
            Team
            <select
              value={filter.team}
              onChange={(e) => onFilter({ ...filter, team: e.target.value })}
            >
              <option value="">Any team</option>
              {teams.map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
              <option value="none">No team</option>
            </select>
          </label>
        </div>
      </form>
      <ErrorNote error={error} />
      {conversations === null ? (
        <p className="splash" aria-live="polite">
          Loading conversations…
        </p>
      ) : conversations.length === 0 ? (
        <EmptyState title="No conversations here">
          <p>
            {filter.assignee === "me"
              ? "Nothing is assigned to you with these filters. Try “Unassigned” or “Everyone”."
              : "When customers write to the business, their conversations show here."}
          </p>
        </EmptyState>
      ) : (
        <ul className="chat-list" aria-label="Conversations">
          {conversations.map((c) => {
            const assignee = agentName(c.assigneeId);
            const team = teamName(c.teamId);
            return (
              <li key={c.id}>
                <a
                  className="chat-row"
                  href={href("c", c.id)}
                  aria-current={c.id === selectedId ? "true" : undefined}
                >
                  <Avatar name={c.customer.name} />
                  <span className="chat-row-text">
                    <span className="chat-title">{c.customer.name}</span>
                    <span className="chat-preview">
                      {c.lastMessage
                        ? `${c.lastMessage.direction === "outgoing" ? "Replied: " : ""}${c.lastMessage.preview}`
                        : "No messages yet"}
                    </span>
                    <span className="conversation-tags">
                      <span className={`status-tag status-${c.status}`}>
                        {statusNames[c.status]}
                      </span>
                      {team ? <span>{team}</span> : null}
                      <span>{assignee ? `→ ${assignee}` : "unassigned"}</span>
                    </span>
                  </span>
                  <span className="hint">{ago(c.lastMessage?.at ?? c.updatedAt, now)}</span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
