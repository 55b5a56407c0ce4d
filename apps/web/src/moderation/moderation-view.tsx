import { href } from "../ui/router.js";
import { AppealsList } from "./appeals-list.js";
import { AuditLog } from "./audit-log.js";
import { CaseView } from "./case-view.js";
import { ModerationQueue } from "./moderation-queue.js";

const tabs = [
  { id: "queue", label: "Queue", parts: ["moderation"] },
  { id: "appeals", label: "Appeals", parts: ["moderation", "appeals"] },
  { id: "audit", label: "Audit log", parts: ["moderation", "audit"] },
] as const;

/**
 * The platform moderators' tools: the review queue, one case, the appeals
 * and the audit log (`#/moderation`, `#/moderation/case/<id>`,
 * `#/moderation/appeals`, `#/moderation/audit`). The server refuses anyone
 * else (`not_moderator`).
 */
export function ModerationView({ route }: { route: string[] }) {
  const [first, second] = route;
  const current = first === "appeals" || first === "audit" ? first : "queue";
  return (
    <div className="page moderation">
      <h1>Moderation</h1>
      <nav aria-label="Moderation tools" className="subnav">
        {tabs.map((t) => (
          <a
            key={t.id}
            href={href(...t.parts)}
            aria-current={current === t.id ? "page" : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
      {first === "case" && second ? (
        <CaseView key={second} caseId={second} />
      ) : first === "appeals" ? (
        <AppealsList />
      ) : first === "audit" ? (
        <AuditLog />
      ) : (
        <ModerationQueue status={first === "decided" ? "closed" : "open"} />
      )}
    </div>
  );
}
