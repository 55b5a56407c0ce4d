import type { GroupSummary } from "@veil/sdk";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { Avatar } from "../ui/components.js";
import { useImage } from "../ui/use-image.js";

/** The members as the server shows them to this user (each through the privacy rules). */
export function GroupMembers({ group }: { group: GroupSummary }) {
  const users = [...new Set(group.members.map((m) => m.userId))];
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
            <MemberRow key={userId} userId={userId} admin={group.admins.includes(userId)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function MemberRow({ userId, admin }: { userId: string; admin: boolean }) {
  const client = useClient();
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
    </li>
  );
}
