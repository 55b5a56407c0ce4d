import type { CommunityView, DirectoryEntry } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient, useClientEvent } from "../device/context.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { href, navigate } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { useLatest } from "../ui/use-latest.js";
import { CommunityAdmin } from "./community-admin.js";

/**
 * A community as one member sees it: its announcements, its groups (name,
 * description and size: never who is in them), its admins, and for admins the tools.
 */
export function CommunityHome({ communityId }: { communityId: string }) {
  const client = useClient();
  const [community, setCommunity] = useState<CommunityView | null>(null);
  const [groups, setGroups] = useState<DirectoryEntry[]>([]);
  const { error, run } = useAction();

  const begin = useLatest();
  const load = useCallback(async () => {
    const current = begin();
    const [c, g] = await Promise.all([
      client.community(communityId),
      client.groupDirectory(communityId),
    ]);
    if (!current()) return;
    setCommunity(c);
    setGroups(g);
  }, [client, communityId, begin]);
  useEffect(() => {
    void run(load);
  }, [load, run]);
  useClientEvent("community", () => void run(load));
  useClientEvent("membership", () => void run(load));

  if (!community) {
    return (
      <div className="page">
        {error ? (
          <EmptyState title="This community cannot be shown">
            <p>{error}</p>
            <p>
              <a href={href("communities")}>Your communities</a>
            </p>
          </EmptyState>
        ) : (
          <p>Loading…</p>
        )}
      </div>
    );
  }
  const isAdmin = community.role !== "member";
  const mayAddGroups = isAdmin || community.groupAddPolicy === "members";

  return (
    <div className="page">
      <header>
        <a href={href("communities")}>← Communities</a>
        <h1>{community.name}</h1>
        {community.description && <p>{community.description}</p>}
        <p className="muted">
          {community.memberCount} {community.memberCount === 1 ? "member" : "members"} · you are{" "}
          {community.role === "member" ? "a member" : `the ${community.role}`}
        </p>
      </header>

      <section className="item" aria-labelledby="announcements-heading">
        <h2 id="announcements-heading">Announcements</h2>
        <p className="muted">
          Every member is here; only admins post.{" "}
          {isAdmin ? "Members see your posts and can react." : ""}
        </p>
        <a className="button-link" href={href("chats", community.announcementGroupId)}>
          Open announcements
        </a>
      </section>

      <section className="item" aria-labelledby="groups-heading">
        <h2 id="groups-heading">Groups</h2>
        {groups.length === 0 ? (
          <p className="muted">No groups yet.</p>
        ) : (
          <ul className="list" aria-label="Groups in this community">
            {groups.map((g) => (
              <GroupEntry key={g.groupId} entry={g} onChange={() => void run(load)} />
            ))}
          </ul>
        )}
        {mayAddGroups && <NewGroup communityId={communityId} onCreated={() => void run(load)} />}
      </section>

      <section className="item" aria-labelledby="admins-heading">
        <h2 id="admins-heading">Admins</h2>
        <ul className="list" aria-label="Community admins">
          {community.admins.map((a) => (
            <li key={a.id}>{a.name ?? "Admin"}</li>
          ))}
        </ul>
      </section>

      {isAdmin && (
        <CommunityAdmin community={community} groups={groups} onChange={() => void run(load)} />
      )}
      <ErrorNote error={error} />
      {community.role !== "owner" && (
        <button
          type="button"
          onClick={() =>
            void run(async () => {
              if (!window.confirm(`Leave ${community.name} and all its groups?`)) return;
              await client.leaveCommunity(communityId);
              navigate("communities");
            })
          }
        >
          Leave community
        </button>
      )}
    </div>
  );
}

function GroupEntry({ entry, onChange }: { entry: DirectoryEntry; onChange: () => void }) {
  const client = useClient();
  const { busy, error, run } = useAction();
  return (
    <li className="row group-entry">
      <span className="grow">
        <strong>{entry.name}</strong>
        {entry.description && <span className="muted"> · {entry.description}</span>}
        <br />
        <span className="muted">
          {entry.size} {entry.size === 1 ? "member" : "members"}
        </span>
      </span>
      {entry.joined ? (
        <a href={href("chats", entry.groupId)}>Open</a>
      ) : entry.requested ? (
        <span className="muted">Asked to join</span>
      ) : (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await client.requestToJoinGroup(entry.groupId);
              await onChange();
            })
          }
        >
          Ask to join {entry.name}
        </button>
      )}
      <ErrorNote error={error} />
    </li>
  );
}

function NewGroup({ communityId, onCreated }: { communityId: string; onCreated: () => void }) {
  const client = useClient();
  const [name, setName] = useState("");
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const chat = await client.createCommunityGroup(communityId, { name: name.trim() });
      setName("");
      onCreated();
      navigate("chats", chat.groupId);
    });
  };
  return (
    <form className="row" onSubmit={submit} aria-label="Create a group in this community">
      <label>
        New group
        <input maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" disabled={busy || !name.trim()}>
        Create group
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
