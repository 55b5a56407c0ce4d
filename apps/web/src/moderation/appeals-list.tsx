import type { AppealView } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { formatDate } from "../ui/format.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { caseChannel, caseSubject, outcomeText } from "./case-labels.js";

const statuses: Record<AppealView["status"], string> = {
  open: "Waiting for a decision",
  upheld: "Upheld: the decision stands",
  reinstated: "Reinstated: the strike is lifted",
};

/** Channel owners' appeals waiting for a decision, oldest first (uphold, or reinstate), or decided ones. */
export function AppealsList() {
  const client = useClient();
  const [appeals, setAppeals] = useState<AppealView[] | null>(null);
  const [status, setStatus] = useState<"open" | "decided">("open");
  const { busy, error, done, run } = useAction();

  const load = useCallback(
    async () => setAppeals((await client.api.moderationAppeals(status)).appeals),
    [client, status],
  );
  useEffect(() => {
    void run(load);
  }, [load, run]);

  const decide = (appeal: AppealView, outcome: "upheld" | "reinstated") =>
    void run(
      async () => {
        try {
          await client.api.decideAppeal(appeal.id, { outcome });
        } finally {
          await load().catch(() => undefined);
        }
      },
      outcome === "upheld" ? "Upheld: the decision stands." : "Reinstated: the strike is lifted.",
    );

  return (
    <section aria-labelledby="appeals-heading">
      <div className="row">
        <h2 id="appeals-heading" className="grow">
          Appeals
        </h2>
        <button type="button" disabled={busy} onClick={() => void run(load)}>
          Refresh
        </button>
      </div>
      <nav className="row" aria-label="Which appeals">
        {(["open", "decided"] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={status === s}
            onClick={() => {
              setAppeals(null);
              setStatus(s);
            }}
          >
            {s === "open" ? "Waiting" : "Decided"}
          </button>
        ))}
      </nav>
      <ErrorNote error={error} />
      <p className="done" aria-live="polite">
        {done}
      </p>
      {appeals === null ? (
        !error && <p aria-live="polite">Loading appeals…</p>
      ) : appeals.length === 0 ? (
        <EmptyState title={status === "open" ? "No appeals waiting" : "No appeals decided yet"}>
          <p>A channel's owner can appeal each violation once; appeals appear here.</p>
        </EmptyState>
      ) : (
        <ul className="list" aria-label="Appeals">
          {appeals.map((a) => {
            const channel = caseChannel(a.decision) ?? "A channel";
            return (
              <li key={a.id} className="item appeal" data-appeal-id={a.id}>
                <p>
                  <strong>{channel}</strong> · {caseSubject(a.decision)}:{" "}
                  {outcomeText(a.decision) ?? "undecided"}
                  {a.decision.decidedAt ? ` (${formatDate(a.decision.decidedAt)})` : ""}{" "}
                  <a href={href("moderation", "case", a.decision.id)}>Open the case</a>
                </p>
                <blockquote className="quoted-text">{a.text}</blockquote>
                <p className="muted">
                  Appealed {formatDate(a.createdAt)} · {statuses[a.status]}
                  {a.decidedAt ? ` (${formatDate(a.decidedAt)})` : ""}
                </p>
                {a.status === "open" && (
                  <div className="row">
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`Uphold the decision about ${channel}`}
                      onClick={() => decide(a, "upheld")}
                    >
                      Uphold
                    </button>
                    <button
                      type="button"
                      className="primary"
                      disabled={busy}
                      aria-label={`Reinstate ${channel}`}
                      onClick={() => decide(a, "reinstated")}
                    >
                      Reinstate
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
