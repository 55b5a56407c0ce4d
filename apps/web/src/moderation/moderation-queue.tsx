import type { ModerationCase } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { age, formatDate } from "../ui/format.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { useLatest } from "../ui/use-latest.js";
import {
  caseChannel,
  caseSubject,
  outcomeText,
  riskLevel,
  riskText,
  suspectedText,
} from "./case-labels.js";

/** The review queue: open cases, highest risk first (the server's order), or the decided ones. */
export function ModerationQueue({ status }: { status: "open" | "closed" }) {
  const client = useClient();
  const [cases, setCases] = useState<ModerationCase[] | null>(null);
  const { busy, error, run } = useAction();
  const begin = useLatest();

  const load = useCallback(async () => {
    const current = begin();
    const queue = await client.api.moderationQueue(status);
    if (current()) setCases(queue.cases);
  }, [client, status, begin]);
  useEffect(() => {
    setCases(null);
    void run(load);
  }, [load, run]);

  return (
    <section aria-labelledby="queue-heading" className="queue">
      <div className="row queue-bar">
        <h2 id="queue-heading" className="grow">
          {status === "open" ? "Waiting for review" : "Decided"}
        </h2>
        <nav aria-label="Queue" className="subnav small">
          <a href={href("moderation")} aria-current={status === "open" ? "page" : undefined}>
            Open
          </a>
          <a
            href={href("moderation", "decided")}
            aria-current={status === "closed" ? "page" : undefined}
          >
            Decided
          </a>
        </nav>
        <button type="button" disabled={busy} onClick={() => void run(load)}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      {cases === null ? (
        !error && <p aria-live="polite">Loading the queue…</p>
      ) : cases.length === 0 ? (
        <EmptyState
          title={status === "open" ? "Nothing waiting for review" : "Nothing decided yet"}
        >
          {status === "open" && <p>Held content and new reports appear here.</p>}
        </EmptyState>
      ) : (
        <ul className="list" aria-label={status === "open" ? "Open cases" : "Decided cases"}>
          {cases.map((c) => (
            <CaseRow key={c.id} c={c} />
          ))}
        </ul>
      )}
    </section>
  );
}

function CaseRow({ c }: { c: ModerationCase }) {
  const client = useClient();
  const person = usePerson(client, c.subject === "user" ? c.userId : null);
  const channel = caseChannel(c);
  const outcome = outcomeText(c);
  const preview = c.held?.text ?? c.text ?? c.held?.name ?? c.held?.description ?? null;
  return (
    <li className="item case-row" data-case-id={c.id}>
      <a className="case-link" href={href("moderation", "case", c.id)}>
        <span className="case-title">
          {caseSubject(c)}
          {channel ? ` · ${channel}` : ""}
          {c.subject === "user" && person ? ` · ${personName(person)}` : ""}
        </span>
      </a>
      {preview && <span className="case-preview">{preview}</span>}
      <span className="case-facts">
        <span>Suspected: {suspectedText(c)}</span>{" "}
        <span className={`risk risk-${riskLevel(c.risk)}`}>{riskText(c.risk)}</span>{" "}
        <span>
          {c.reportCount} {c.reportCount === 1 ? "report" : "reports"}
        </span>{" "}
        <span title={formatDate(c.openedAt)}>
          Opened {age(c.openedAt)}
          {age(c.openedAt) === "just now" ? "" : " ago"}
        </span>
        {c.claimedBy && !outcome && (
          <>
            {" "}
            <span>{c.claimedBy === client.userId ? "Claimed by you" : "Claimed"}</span>
          </>
        )}
        {outcome && (
          <>
            {" "}
            <strong>{outcome}</strong>
          </>
        )}
      </span>
    </li>
  );
}
