import type { CaseDetail, GuidelineCategory, ModerationCase } from "@veil/sdk";
import { guidelineCategories } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { ErrorNote } from "../ui/components.js";
import { formatDate } from "../ui/format.js";
import { guidelineTitle, reasonTitle } from "../ui/guidelines.js";
import { HeldContent } from "../ui/held-content.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import {
  caseChannel,
  caseSubject,
  outcomeText,
  riskLevel,
  riskText,
  suspectedText,
} from "./case-labels.js";

type Report = CaseDetail["reports"][number];

/**
 * One case with what a moderator needs to decide it: the content, the
 * reports (why, never who), notes, earlier decisions and strikes; and the
 * actions: claim, note, violation (with its guideline) or no violation.
 */
export function CaseView({ caseId }: { caseId: string }) {
  const client = useClient();
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const { busy, error, done, run } = useAction();

  const load = useCallback(
    async () => setDetail(await client.api.moderationCase(caseId)),
    [client, caseId],
  );
  useEffect(() => {
    void run(load);
  }, [load, run]);

  /** Every action reloads the case: the server's answer is the truth. */
  const act = (work: () => Promise<unknown>, ok: string) =>
    void run(async () => {
      try {
        await work();
      } finally {
        await load().catch(() => undefined);
      }
    }, ok);

  if (!detail) {
    return (
      <section aria-label="Case">
        <a href={href("moderation")}>← Queue</a>
        <ErrorNote error={error} />
        {!error && <p aria-live="polite">Loading the case…</p>}
      </section>
    );
  }
  const c = detail.case;
  const open = c.status === "open";
  const mine = c.claimedBy !== null && c.claimedBy === client.userId;
  const outcome = outcomeText(c);
  return (
    <section className="case" aria-labelledby="case-heading">
      <a href={href("moderation")}>← Queue</a>
      <h2 id="case-heading">
        {caseSubject(c)}
        {c.channelName ? ` · ${c.channelName}` : ""}
      </h2>
      <p className="case-facts">
        <span>{open ? "Open" : "Decided"}</span>{" "}
        <span className={`risk risk-${riskLevel(c.risk)}`}>{riskText(c.risk)}</span>{" "}
        <span>Suspected: {suspectedText(c)}</span> <span>Opened {formatDate(c.openedAt)}</span>{" "}
        {c.claimedBy && (
          <span>
            {mine ? "Claimed by you" : "Claimed by another moderator"}
            {c.claimedAt ? ` (${formatDate(c.claimedAt)})` : ""}
          </span>
        )}
      </p>
      {outcome && (
        <p className="notice" role="status">
          Decided{c.decidedAt ? ` ${formatDate(c.decidedAt)}` : ""}: {outcome}
        </p>
      )}

      <Subject c={c} />

      <section className="item" aria-labelledby="reports-heading">
        <h3 id="reports-heading">
          Reports ({detail.reports.length}){" "}
          <span className="hint">who reported is never shown</span>
        </h3>
        {detail.reports.length === 0 ? (
          <p className="muted">Nobody reported it: the automated checks held it.</p>
        ) : (
          <ol className="list" aria-label="Reports">
            {detail.reports.map((r, i) => (
              // Reports carry no id of their own: their order is their identity here.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <ReportRow key={i} report={r} />
            ))}
          </ol>
        )}
      </section>

      <section className="item" aria-labelledby="history-heading">
        <h3 id="history-heading">Earlier decisions</h3>
        {c.channelId && (
          <p>
            Active strikes of the channel: <strong>{detail.strikes}</strong>
          </p>
        )}
        {detail.history.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="list" aria-label="Earlier decisions">
            {detail.history.map((h) => (
              <li key={h.id}>
                <a href={href("moderation", "case", h.id)}>{caseSubject(h)}</a>:{" "}
                {outcomeText(h) ?? "still open"}
                {h.decidedAt ? ` · ${formatDate(h.decidedAt)}` : ""}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="item" aria-labelledby="notes-heading">
        <h3 id="notes-heading">Notes</h3>
        {detail.notes.length === 0 ? (
          <p className="muted">No notes yet.</p>
        ) : (
          <ul className="list" aria-label="Notes">
            {detail.notes.map((n) => (
              <li key={`${n.createdAt}-${n.by}`}>
                <NoteAuthor userId={n.by} />{" "}
                <span className="muted">{formatDate(n.createdAt)}</span>
                <p className="quoted-text">{n.text}</p>
              </li>
            ))}
          </ul>
        )}
        <NoteForm
          busy={busy}
          onAdd={(text) => act(() => client.api.noteCase(c.id, text), "Note added.")}
        />
      </section>

      {open && (
        <section className="item actions-panel" aria-labelledby="decide-heading">
          <h3 id="decide-heading">Decide</h3>
          {!mine && (
            <button
              type="button"
              disabled={busy}
              onClick={() => act(() => client.api.claimCase(c.id), "Claimed: it is yours.")}
            >
              Claim
            </button>
          )}
          <Decide
            busy={busy}
            onViolation={(category) =>
              act(
                () => client.api.decideCase(c.id, { outcome: "violation", category }),
                "Decided: violation.",
              )
            }
            onNone={() =>
              act(() => client.api.decideCase(c.id, { outcome: "none" }), "Decided: no violation.")
            }
          />
        </section>
      )}
      <ErrorNote error={error} />
      <p className="done" aria-live="polite">
        {done}
      </p>
    </section>
  );
}

/** The content the case is about: held content, a post's text, a channel, or a person. */
function Subject({ c }: { c: ModerationCase }) {
  const client = useClient();
  const person = usePerson(client, c.subject === "user" ? c.userId : null);
  const channel = caseChannel(c);
  return (
    <section className="item" aria-labelledby="subject-heading">
      <h3 id="subject-heading">Content</h3>
      {channel && (
        <p>
          Channel: {c.channelId ? <a href={href("channels", c.channelId)}>{channel}</a> : channel}
          {c.seq !== null ? ` · post #${c.seq}` : ""}
        </p>
      )}
      {c.subject === "user" && (
        <p>
          Person: {personName(person, "their name is not visible to you")}{" "}
          <span className="muted">(id {c.userId})</span>
        </p>
      )}
      {c.held && (
        <HeldContent item={c.held} loadMedia={(mediaId) => client.api.caseMedia(c.id, mediaId)} />
      )}
      {!c.held && c.text !== null && <p className="quoted-text">{c.text}</p>}
      {c.subject === "channel" && <p className="muted">The whole channel is reported.</p>}
      {c.reasons.length > 0 && <p className="muted">Why it was flagged: {c.reasons.join("; ")}</p>}
    </section>
  );
}

function ReportRow({ report }: { report: Report }) {
  return (
    <li className="card report">
      <p>
        <strong>{reasonTitle(report.reason)}</strong>{" "}
        <span className="muted">· {formatDate(report.createdAt)}</span>
      </p>
      {report.note && <p className="quoted-text">“{report.note}”</p>}
      {report.messages.length > 0 && (
        <>
          <p className="muted">
            {report.messages.length} {report.messages.length === 1 ? "message" : "messages"} the
            reporter chose to attach:
          </p>
          <ul className="list attached" aria-label="Attached messages">
            {report.messages.map((m) => (
              <li key={m.messageId} className="attached-message">
                <span className="quoted-text">{m.text}</span>{" "}
                <time className="muted" dateTime={new Date(m.sentAt).toISOString()}>
                  {new Date(m.sentAt).toLocaleString()}
                </time>
              </li>
            ))}
          </ul>
        </>
      )}
    </li>
  );
}

function NoteAuthor({ userId }: { userId: string }) {
  const client = useClient();
  const person = usePerson(client, userId === client.userId ? null : userId);
  return <strong>{userId === client.userId ? "You" : personName(person, "A moderator")}</strong>;
}

function NoteForm({ busy, onAdd }: { busy: boolean; onAdd: (text: string) => void }) {
  const [text, setText] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onAdd(text.trim());
    setText("");
  };
  return (
    <form onSubmit={submit} aria-label="Add a note" className="row">
      <label>
        Note for the other moderators
        <textarea
          rows={2}
          maxLength={2000}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <button type="submit" disabled={busy || !text.trim()}>
        Add note
      </button>
    </form>
  );
}

function Decide(props: {
  busy: boolean;
  onViolation: (category: GuidelineCategory) => void;
  onNone: () => void;
}) {
  const [category, setCategory] = useState<GuidelineCategory | "">("");
  return (
    <div className="decide">
      <form
        className="row"
        aria-label="Violation"
        onSubmit={(e) => {
          e.preventDefault();
          if (category) props.onViolation(category);
        }}
      >
        <label>
          Guideline it breaks
          <select
            value={category}
            onChange={(e) => setCategory(e.target.value as GuidelineCategory | "")}
          >
            <option value="">Choose a guideline…</option>
            {guidelineCategories.map((g) => (
              <option key={g} value={g}>
                {guidelineTitle(g)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="danger" disabled={props.busy || !category}>
          Violation
        </button>
      </form>
      <p className="hint">
        A violation removes held content or takes the post down, and gives the channel a strike. No
        violation releases what was held.
      </p>
      <button type="button" disabled={props.busy} onClick={props.onNone}>
        No violation
      </button>
    </div>
  );
}
