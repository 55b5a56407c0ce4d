import type { CommunityView, DirectoryEntry, Invite, JoinRequest } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient, useClientEvent } from "../device/context.js";
import { ErrorNote } from "../ui/components.js";
import { navigate } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { useLatest } from "../ui/use-latest.js";
import { inviteLink } from "./invite-links.js";

type Member = Awaited<ReturnType<ReturnType<typeof useClient>["communityMembers"]>>[number];
type Suggestion = Awaited<ReturnType<ReturnType<typeof useClient>["groupSuggestions"]>>[number];

/** What community admins manage: requests, invite links, members and admins, settings. */
export function CommunityAdmin(props: {
  community: CommunityView;
  groups: DirectoryEntry[];
  onChange: () => void;
}) {
  const { community, groups } = props;
  const client = useClient();
  const id = community.id;
  const isOwner = community.role === "owner";
  const [members, setMembers] = useState<Member[]>([]);
  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const [groupRequests, setGroupRequests] = useState<
    Array<{ group: DirectoryEntry; request: JoinRequest }>
  >([]);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const { busy, error, done, run } = useAction();

  const begin = useLatest();
  const load = useCallback(async () => {
    const current = begin();
    const [m, r, i, s] = await Promise.all([
      client.communityMembers(id),
      client.communityRequests(id),
      client.invites(id),
      client.groupSuggestions(id).catch(() => []),
    ]);
    // Requests to join the groups this admin is in (their admins answer them).
    const perGroup = await Promise.all(
      groups
        .filter((g) => g.joined)
        .map(async (group) =>
          (await client.groupRequests(group.groupId).catch(() => [])).map((request) => ({
            group,
            request,
          })),
        ),
    );
    if (!current()) return;
    setMembers(m);
    setRequests(r);
    setInvites(i);
    setSuggestions(s);
    setGroupRequests(perGroup.flat());
  }, [client, id, groups, begin]);
  useEffect(() => {
    void run(load);
  }, [load, run]);
  // A refresh in the background: it must not clear the error of an answer that failed.
  useClientEvent("join-request", () => void load().catch(() => {}));

  const act = (work: () => Promise<unknown>, ok: string | null = null) =>
    void run(async () => {
      await work();
      await load();
      props.onChange();
    }, ok);

  return (
    <section className="item" aria-labelledby="admin-heading">
      <h2 id="admin-heading">Admin tools</h2>
      <ErrorNote error={error} />
      <p className="muted" aria-live="polite">
        {done}
      </p>

      <h3>Requests to join</h3>
      {requests.length === 0 && groupRequests.length === 0 ? (
        <p className="muted">Nobody is waiting.</p>
      ) : (
        <ul className="list" aria-label="Requests to join">
          {requests.map((r) => (
            <li key={r.userId} className="row">
              <span className="grow">{r.name ?? "Someone"} wants to join the community</span>
              <button
                type="button"
                disabled={busy}
                onClick={() => act(() => client.approveCommunityRequest(id, r.userId))}
              >
                Approve {r.name ?? ""}
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => act(() => client.declineCommunityRequest(id, r.userId))}
              >
                Decline
              </button>
            </li>
          ))}
          {groupRequests.map(({ group, request }) => (
            <li key={`${group.groupId}:${request.userId}`} className="row">
              <span className="grow">
                {request.name ?? "Someone"} wants to join {group.name}
              </span>
              <button
                type="button"
                disabled={busy}
                onClick={() => act(() => client.approveGroupRequest(group.groupId, request.userId))}
              >
                Let {request.name ?? "them"} in
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => act(() => client.declineGroupRequest(group.groupId, request.userId))}
              >
                Decline
              </button>
            </li>
          ))}
        </ul>
      )}

      <h3>Invite links</h3>
      <ul className="list" aria-label="Invite links">
        {invites.map((invite) => (
          <li key={invite.code} className="row">
            <input
              readOnly
              aria-label="Invite link"
              value={inviteLink(invite.code)}
              onFocus={(e) => e.target.select()}
            />
            <span className="muted">until {new Date(invite.expiresAt).toLocaleDateString()}</span>
            <button
              type="button"
              disabled={busy}
              onClick={() => act(() => client.revokeInvite(id, invite.code), "Link revoked.")}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        disabled={busy}
        onClick={() => act(() => client.createInvite(id), "New link made.")}
      >
        Create an invite link
      </button>

      <h3>Settings</h3>
      <label className="check">
        <input
          type="checkbox"
          checked={community.approveMembers}
          onChange={(e) =>
            act(() => client.updateCommunity(id, { approveMembers: e.target.checked }))
          }
        />
        Approve new members
      </label>
      <label>
        Who may add groups
        <select
          value={community.groupAddPolicy}
          onChange={(e) =>
            act(() =>
              client.updateCommunity(id, {
                groupAddPolicy: e.target.value as "members" | "admins",
              }),
            )
          }
        >
          <option value="members">Every member (admins approve suggestions)</option>
          <option value="admins">Admins only</option>
        </select>
      </label>
      {suggestions.length > 0 && (
        <>
          <h3>Suggested groups</h3>
          <ul className="list" aria-label="Suggested groups">
            {suggestions.map((s) => (
              <li key={s.groupId} className="row">
                <span className="grow">
                  {s.name} ({s.size}) from {s.suggestedBy.name ?? "a member"}
                </span>
                <button
                  type="button"
                  onClick={() => act(() => client.approveGroupSuggestion(id, s.groupId))}
                >
                  Add
                </button>
                <button
                  type="button"
                  onClick={() => act(() => client.declineGroupSuggestion(id, s.groupId))}
                >
                  Decline
                </button>
              </li>
            ))}
          </ul>
        </>
      )}

      <h3>Members</h3>
      <ul className="list" aria-label="Community members">
        {members.map((m) => (
          <li key={m.profile.id} className="row">
            <span className="grow">
              {m.profile.name ?? "Member"}{" "}
              {m.profile.phone && <span className="muted">{m.profile.phone}</span>}{" "}
              <span className="muted">· {m.role}</span>
            </span>
            {isOwner && m.role === "member" && (
              <button
                type="button"
                onClick={() => act(() => client.setCommunityAdmin(id, m.profile.id, true))}
              >
                Make admin
              </button>
            )}
            {isOwner && m.role === "admin" && (
              <>
                <button
                  type="button"
                  onClick={() => act(() => client.setCommunityAdmin(id, m.profile.id, false))}
                >
                  Dismiss as admin
                </button>
                <button
                  type="button"
                  onClick={() =>
                    window.confirm(
                      `Hand ${community.name} to ${m.profile.name ?? "this admin"}?`,
                    ) && act(() => client.transferOwnership(id, m.profile.id))
                  }
                >
                  Make owner
                </button>
              </>
            )}
            {m.role !== "owner" &&
              m.profile.id !== client.userId &&
              (isOwner || m.role === "member") && (
                <button
                  type="button"
                  onClick={() => act(() => client.removeCommunityMember(id, m.profile.id))}
                >
                  Remove
                </button>
              )}
          </li>
        ))}
      </ul>

      {isOwner && (
        <button
          type="button"
          className="danger"
          onClick={() =>
            window.confirm(`Deactivate ${community.name}? Its groups carry on alone.`) &&
            void run(async () => {
              await client.deactivateCommunity(id);
              navigate("communities");
            })
          }
        >
          Deactivate community
        </button>
      )}
    </section>
  );
}
