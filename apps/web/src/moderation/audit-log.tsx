import type { AuditEntry } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { formatDate } from "../ui/format.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";

/** Every claim, note, decision and appeal decision, newest first; nobody edits it. */
export function AuditLog() {
  const client = useClient();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const { busy, error, run } = useAction();
  const load = useCallback(
    async () => setEntries((await client.api.moderationAudit()).entries),
    [client],
  );
  useEffect(() => {
    void run(load);
  }, [load, run]);

  return (
    <section aria-labelledby="audit-heading">
      <div className="row">
        <h2 id="audit-heading" className="grow">
          Audit log
        </h2>
        <button type="button" disabled={busy} onClick={() => void run(load)}>
          Refresh
        </button>
      </div>
      <p className="muted">Read only: every moderator's actions, as the server recorded them.</p>
      <ErrorNote error={error} />
      {entries === null ? (
        !error && <p aria-live="polite">Loading the log…</p>
      ) : entries.length === 0 ? (
        <EmptyState title="Nothing recorded yet" />
      ) : (
        <ol className="list" aria-label="Audit log">
          {entries.map((e) => (
            <li key={e.id} className="item audit-entry">
              <p>
                <time dateTime={e.at}>{formatDate(e.at)}</time> · <Actor userId={e.actorUserId} /> ·{" "}
                <strong>{actionTitle(e.action)}</strong>
                {e.caseId && (
                  <>
                    {" "}
                    · <a href={href("moderation", "case", e.caseId)}>case</a>
                  </>
                )}
              </p>
              {Object.keys(e.detail).length > 0 && (
                <dl className="audit-detail">
                  {Object.entries(e.detail).map(([key, value]) => (
                    <div key={key}>
                      <dt>{key}</dt>
                      <dd>
                        <DetailValue name={key} value={value} />
                      </dd>
                    </div>
                  ))}
                </dl>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** "case.claimed" → "Case claimed". */
function actionTitle(action: string): string {
  const words = action.replace(/[._]/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function Actor({ userId }: { userId: string | null }) {
  const client = useClient();
  const person = usePerson(client, userId && userId !== client.userId ? userId : null);
  if (!userId) return <span>The system</span>;
  if (userId === client.userId) return <span>You</span>;
  return <span>{personName(person, `User ${userId}`)}</span>;
}

/** A value of an entry's detail: a channel id links to the channel, nothing shows as "–". */
function DetailValue({ name, value }: { name: string; value: unknown }) {
  if (value === null || value === undefined) return <>–</>;
  if (name === "channelId" && typeof value === "string") {
    return <a href={href("channels", value)}>{value}</a>;
  }
  return <>{typeof value === "string" ? value : JSON.stringify(value)}</>;
}
