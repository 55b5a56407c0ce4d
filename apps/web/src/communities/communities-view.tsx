import type { CommunityView, InvitePreview } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient, useClientEvent } from "../device/context.js";
import { Avatar, EmptyState, ErrorNote } from "../ui/components.js";
import { href, navigate } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { CommunityHome } from "./community-home.js";
import { inviteCode } from "./invite-links.js";

/** Your communities, creating one, and joining one by its invite link. */
export function CommunitiesView({ route }: { route: string[] }) {
  const [first, second] = route;
  if (first === "join" && second) return <JoinByInvite code={second} />;
  if (first) return <CommunityHome key={first} communityId={first} />;
  return <CommunityList />;
}

function CommunityList() {
  const client = useClient();
  const [communities, setCommunities] = useState<CommunityView[] | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [invite, setInvite] = useState("");
  const create = useAction();

  const load = useCallback(async () => setCommunities(await client.communities()), [client]);
  useEffect(() => {
    void load().catch(() => setCommunities([]));
  }, [load]);
  useClientEvent("community", () => void load());

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run(async () => {
      const community = await client.createCommunity({
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      navigate("communities", community.id);
    });
  };

  return (
    <div className="page">
      <h1>Communities</h1>
      {communities === null ? (
        <p>Loading…</p>
      ) : communities.length === 0 ? (
        <EmptyState title="You are in no community yet">
          <p>Create one below, or open an invite link someone sent you.</p>
        </EmptyState>
      ) : (
        <ul className="list" aria-label="Your communities">
          {communities.map((c) => (
            <li key={c.id} className="item">
              <a className="chat-row" href={href("communities", c.id)}>
                <Avatar name={c.name} />
                <span className="chat-row-text">
                  <span className="chat-title">{c.name}</span>
                  <span className="chat-preview">
                    {c.memberCount} {c.memberCount === 1 ? "member" : "members"} · {c.groupCount}{" "}
                    {c.groupCount === 1 ? "group" : "groups"} · {c.role}
                  </span>
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
      <form className="card" onSubmit={submit} aria-label="Create a community">
        <h2>Create a community</h2>
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description <span className="hint">(optional)</span>
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <ErrorNote error={create.error} />
        <button type="submit" className="primary" disabled={create.busy || !name.trim()}>
          Create community
        </button>
      </form>
      <form
        className="row"
        aria-label="Join a community"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("communities", "join", inviteCode(invite));
        }}
      >
        <label>
          Invite link or code
          <input value={invite} onChange={(e) => setInvite(e.target.value)} />
        </label>
        <button type="submit" disabled={!invite.trim()}>
          Open
        </button>
      </form>
    </div>
  );
}

function JoinByInvite({ code }: { code: string }) {
  const client = useClient();
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const { busy, error, run } = useAction();

  useEffect(() => {
    void run(async () => setPreview(await client.previewInvite(code)));
  }, [client, code, run]);

  const join = () =>
    void run(async () => {
      const result = await client.joinByInvite(code);
      if (result.status === "joined") navigate("communities", result.communityId);
      else
        setStatus("Your request is with the community's admins. You will be in once one approves.");
    });

  return (
    <div className="page">
      <h1>Join a community</h1>
      <ErrorNote error={error} />
      {preview && (
        <div className="card">
          <h2>{preview.name}</h2>
          {preview.description && <p>{preview.description}</p>}
          <p className="muted">
            {preview.memberCount} {preview.memberCount === 1 ? "member" : "members"}
            {preview.approveMembers ? " · an admin approves new members" : ""}
          </p>
          {status ? (
            <p role="status">{status}</p>
          ) : (
            <button type="button" className="primary" disabled={busy} onClick={join}>
              {preview.approveMembers ? "Ask to join" : "Join community"}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
