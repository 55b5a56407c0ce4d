import type { GroupSummary } from "@veil/sdk";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { Avatar, ErrorNote } from "../ui/components.js";
import { useAction } from "../ui/use-action.js";
import { useImage } from "../ui/use-image.js";

/** The members as the server shows them to this user (each through the privacy rules). */
export function GroupMembers({
  group,
  onReport,
}: {
  group: GroupSummary;
  /** Opens the report form for a member; null where people are not reported from here. */
  onReport: ((userId: string) => void) | null;
}) {
  const client = useClient();
  const users = [...new Set(group.members.map((m) => m.userId))];
  // Admins of a plain group remove members here (communities have their own admin tools).
  const canRemove = group.kind === "group" && group.admins.includes(client.userId ?? "");
  return (
    <section className="members-panel" aria-label="Members">
      {users.length === 0 ? (
        <p className="muted">
          {group.memberCount} {group.memberCount === 1 ? "member" : "members"}: the list is shown to
          admins only.
        </p>
      ) : (
        <ul className="list">
          {users.map((userId) => (
            <MemberRow
              key={userId}
              userId={userId}
              admin={group.admins.includes(userId)}
              groupId={canRemove ? group.id : null}
              onReport={onReport}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function MemberRow(props: {
  userId: string;
  admin: boolean;
  groupId: string | null;
  onReport: ((userId: string) => void) | null;
}) {
  const { userId, admin, groupId, onReport } = props;
  const client = useClient();
  const { busy, error, run } = useAction();
  const person = usePerson(client, userId);
  const me = userId === client.userId;
  const src = useImage(person?.photo, () => client.api.userPhoto(userId));
  return (
    <li className="row">
      <Avatar name={personName(person)} size={28} src={src} />
      <span className="grow">
        {me ? "You" : personName(person)}
        {person?.phone && !me && <span className="muted"> {person.phone}</span>}
        {admin && <span className="muted"> · admin</span>}
      </span>
      {onReport && !me && (
        <button
          type="button"
          aria-label={`Report ${personName(person)}`}
          onClick={() => onReport(userId)}
        >
          Report
        </button>
      )}
      {groupId && !me && (
        <button
          type="button"
          className="danger"
          disabled={busy}
          aria-label={`Remove ${personName(person)}`}
          onClick={() => void run(() => client.removeMembers(groupId, [userId]))}
        >
          Remove
        </button>
      )}
      <ErrorNote error={error} />
    </li>
  );
}
