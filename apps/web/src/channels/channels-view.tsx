import type { ChannelDirectoryQuery, ChannelView } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { Avatar, EmptyState, ErrorNote } from "../ui/components.js";
import { href, navigate } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { useLatest } from "../ui/use-latest.js";
import { followers, VerifiedBadge } from "./badges.js";
import { ChannelModerationPage } from "./channel-moderation.js";
import { ChannelPage } from "./channel-page.js";

/** The channel directory, your channels, creating one, and opening a forwarded link. */
export function ChannelsView({ route }: { route: string[] }) {
  const [first, second] = route;
  if (first && second === "moderation") {
    return <ChannelModerationPage key={first} channelId={first} />;
  }
  if (first) return <ChannelPage key={first} channelId={first} />;
  return <Directory />;
}

function Directory() {
  const client = useClient();
  const [query, setQuery] = useState<ChannelDirectoryQuery>({ sort: "popular" });
  const [q, setQ] = useState("");
  const [channels, setChannels] = useState<ChannelView[] | null>(null);
  const [mine, setMine] = useState<ChannelView[]>([]);
  const [invitations, setInvitations] = useState<ChannelView[]>([]);
  const { error, run } = useAction();

  const begin = useLatest();
  const load = useCallback(async () => {
    const current = begin();
    const [found, own, invited] = await Promise.all([
      client.channelDirectory(query),
      client.myChannels(),
      client.channelInvitations(),
    ]);
    if (!current()) return;
    setChannels(found);
    setMine(own);
    setInvitations(invited);
  }, [client, query, begin]);
  useEffect(() => {
    void run(load);
  }, [load, run]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery((old) => ({ ...old, q: q.trim() || undefined }));
  };

  return (
    <div className="page">
      <h1>Channels</h1>
      {invitations.length > 0 && (
        <section aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">Invitations to administer</h2>
          <ChannelList channels={invitations} label="Invitations to administer" />
        </section>
      )}
      {mine.length > 0 && (
        <section aria-labelledby="mine-heading">
          <h2 id="mine-heading">Your channels</h2>
          <ChannelList channels={mine} label="Your channels" />
        </section>
      )}
      <section aria-labelledby="directory-heading">
        <h2 id="directory-heading">Find channels</h2>
        <form className="row" onSubmit={search} aria-label="Search channels">
          <label>
            Search by name or handle
            <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
          </label>
          <label>
            Category
            <input
              placeholder="e.g. news"
              value={query.category ?? ""}
              onChange={(e) =>
                setQuery((old) => ({ ...old, category: e.target.value.trim() || undefined }))
              }
            />
          </label>
          <label>
            Country
            <input
              placeholder="e.g. US"
              maxLength={2}
              value={query.country ?? ""}
              onChange={(e) =>
                setQuery((old) => ({
                  ...old,
                  country: e.target.value.trim().toUpperCase() || undefined,
                }))
              }
            />
          </label>
          <label>
            Sort by
            <select
              value={query.sort ?? "popular"}
              onChange={(e) =>
                setQuery((old) => ({
                  ...old,
                  sort: e.target.value as ChannelDirectoryQuery["sort"],
                }))
              }
            >
              <option value="popular">Popular</option>
              <option value="active">Most active</option>
              <option value="new">New</option>
            </select>
          </label>
          <button type="submit">Search</button>
        </form>
        <ErrorNote error={error} />
        {channels === null ? (
          <p>Loading…</p>
        ) : channels.length === 0 ? (
          <EmptyState title="No channel matches" />
        ) : (
          <ChannelList channels={channels} label="Channels found" />
        )}
      </section>
      <OpenLink />
      <CreateChannel />
    </div>
  );
}

function ChannelList({ channels, label }: { channels: ChannelView[]; label: string }) {
  return (
    <ul className="list" aria-label={label}>
      {channels.map((c) => (
        <li key={c.id} className="item">
          <a className="chat-row" href={href("channels", c.id)}>
            <Avatar name={c.name} />
            <span className="chat-row-text">
              <span className="chat-title">
                {c.name} {c.verified && <VerifiedBadge />}
              </span>
              <span className="chat-preview">
                @{c.handle} · {followers(c.followerCount)}
                {c.role ? ` · ${c.role}` : c.following ? " · following" : ""}
              </span>
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

function OpenLink() {
  const client = useClient();
  const [link, setLink] = useState("");
  const { busy, error, run } = useAction();
  const open = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const { channel } = await client.openChannelLink(link.trim());
      navigate("channels", channel.id);
    });
  };
  return (
    <form className="row" onSubmit={open} aria-label="Open a channel link">
      <label>
        Open a forwarded post or an invite link
        <input value={link} onChange={(e) => setLink(e.target.value)} />
      </label>
      <button type="submit" disabled={busy || !link.trim()}>
        Open
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function CreateChannel() {
  const client = useClient();
  const [name, setName] = useState("");
  const [handle, setHandle] = useState("");
  const [description, setDescription] = useState("");
  const [category, setCategory] = useState("");
  const [country, setCountry] = useState("");
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const channel = await client.createChannel({
        name: name.trim(),
        handle: handle.trim().replace(/^@/, ""),
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(category.trim() ? { category: category.trim() } : {}),
        ...(country.trim() ? { country: country.trim().toUpperCase() } : {}),
      });
      navigate("channels", channel.id);
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Create a channel">
      <h2>Create a channel</h2>
      <label>
        Channel name
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Handle
        <input
          required
          placeholder="e.g. city_news (letters, digits, . and _)"
          value={handle}
          onChange={(e) => setHandle(e.target.value)}
        />
      </label>
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <div className="row">
        <label>
          Category <span className="hint">(optional)</span>
          <input value={category} onChange={(e) => setCategory(e.target.value)} />
        </label>
        <label>
          Country <span className="hint">(two letters)</span>
          <input maxLength={2} value={country} onChange={(e) => setCountry(e.target.value)} />
        </label>
      </div>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy || !name.trim() || !handle.trim()}>
        Create channel
      </button>
    </form>
  );
}
