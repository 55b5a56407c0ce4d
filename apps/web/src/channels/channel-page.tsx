import type { ChannelPost, ChannelView } from "@veil/sdk";
import { isHeld } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { useClient, useClientEvent } from "../device/context.js";
import { EmptyState, ErrorNote } from "../ui/components.js";
import { heldNote } from "../ui/guidelines.js";
import { ReportDialog } from "../ui/report-dialog.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";
import { followers, VerifiedBadge } from "./badges.js";
import { ChannelAdminPanel } from "./channel-admin.js";
import { PostCard } from "./post-card.js";

/**
 * A channel: posts as the channel (never an admin's name), counts for everyone,
 * following and muting; for its admins the composer and their tools.
 */
export function ChannelPage({ channelId }: { channelId: string }) {
  const client = useClient();
  const [channel, setChannel] = useState<ChannelView | null>(null);
  const [posts, setPosts] = useState<ChannelPost[]>([]);
  const [reporting, setReporting] = useState(false);
  const { busy, error, run } = useAction();

  const load = useCallback(async () => {
    const [c, page] = await Promise.all([
      client.channel(channelId),
      client.channelPosts(channelId),
    ]);
    setChannel(c);
    setPosts(page.posts);
  }, [client, channelId]);
  useEffect(() => {
    void run(load);
  }, [load, run]);

  const upsert = useCallback((post: ChannelPost) => {
    setPosts((old) => {
      const at = old.findIndex((p) => p.seq === post.seq);
      if (at < 0) return [...old, post].sort((a, b) => a.seq - b.seq);
      const next = [...old];
      next[at] = post;
      return next;
    });
  }, []);
  useClientEvent("channel-post", (e) => {
    if (e.post.channelId !== channelId) return;
    setPosts((old) => {
      const before = old.find((p) => p.seq === e.post.seq);
      // A live post carries no vote of ours (an edit, or its poll closed): keep the one shown.
      const poll =
        e.source === "live" && e.post.poll && before?.poll
          ? { ...e.post.poll, myVote: before.poll.myVote }
          : e.post.poll;
      const post: ChannelPost = {
        ...e.post,
        poll,
        reactions: e.post.reactions ?? before?.reactions ?? {},
        myReaction: e.post.myReaction ?? before?.myReaction ?? null,
      };
      const rest = old.filter((p) => p.seq !== post.seq);
      return [...rest, post].sort((a, b) => a.seq - b.seq);
    });
  });
  useClientEvent("channel-post-deleted", (e) => {
    if (e.channelId === channelId) setPosts((old) => old.filter((p) => p.seq !== e.seq));
  });
  useClientEvent("channel-counts", (e) => {
    if (e.channelId !== channelId) return;
    setPosts((old) =>
      old.map((p) => {
        if (p.seq !== e.seq) return p;
        const poll =
          p.poll && e.poll
            ? {
                ...p.poll,
                voters: e.poll.voters,
                options: p.poll.options.map((o, i) => ({
                  ...o,
                  votes: e.poll?.votes[i] ?? o.votes,
                })),
              }
            : p.poll;
        return { ...p, reactions: e.counts, poll };
      }),
    );
  });

  if (!channel) {
    return (
      <div className="page">
        {error ? (
          <EmptyState title="This channel cannot be shown">
            <p>{error}</p>
            <a href={href("channels")}>Back to channels</a>
          </EmptyState>
        ) : (
          <p>Loading…</p>
        )}
      </div>
    );
  }
  const isAdmin = channel.role !== null;
  const suspended = channel.status === "suspended";

  return (
    <div className="page channel-page">
      <a href={href("channels")}>← Channels</a>
      <header className="channel-header">
        <h1>
          {channel.name} {channel.verified && <VerifiedBadge />}
        </h1>
        <p className="muted">
          @{channel.handle} · {followers(channel.followerCount)}
          {channel.category ? ` · ${channel.category}` : ""}
          {channel.country ? ` · ${channel.country}` : ""}
        </p>
        {channel.description && <p>{channel.description}</p>}
        {channel.adminInvitation && !isAdmin && (
          <div className="notice" role="status">
            The owner invited you to help run this channel. Admins post as the channel; followers
            never see who you are.{" "}
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() =>
                void run(async () => setChannel(await client.acceptChannelAdmin(channelId)))
              }
            >
              Accept and become an admin
            </button>
          </div>
        )}
        {suspended && (
          <div className="notice suspension" role="alert">
            <p>
              <strong>This channel is suspended</strong>
              {channel.suspensionReason ? "" : " for breaking the content guidelines"}: it cannot
              post.
            </p>
            {channel.suspensionReason && <p>Reason: {channel.suspensionReason}</p>}
            {channel.role === "owner" && (
              <p>
                You can appeal a decision that led to it:{" "}
                <a href={href("channels", channelId, "moderation")}>see the decisions and appeal</a>
                .
              </p>
            )}
          </div>
        )}
        <div className="row">
          {channel.following ? (
            <>
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void run(async () =>
                    setChannel(await client.muteChannel(channelId, !channel.muted)),
                  )
                }
              >
                {channel.muted ? "Unmute" : "Mute"}
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void run(async () => {
                    await client.unfollowChannel(channelId);
                    setChannel(await client.channel(channelId));
                  })
                }
              >
                Unfollow
              </button>
            </>
          ) : (
            !isAdmin && (
              <button
                type="button"
                className="primary"
                disabled={busy}
                onClick={() =>
                  void run(async () => setChannel(await client.followChannel(channelId)))
                }
              >
                Follow
              </button>
            )
          )}
          {isAdmin ? (
            <a className="button-link secondary" href={href("channels", channelId, "moderation")}>
              Moderation
            </a>
          ) : (
            <button type="button" onClick={() => setReporting(true)}>
              Report channel
            </button>
          )}
        </div>
        <ErrorNote error={error} />
      </header>
      {reporting && (
        <ReportDialog
          title={`Report ${channel.name}`}
          intro="Moderators get your reason and note, and look at the channel. They never see who reported it."
          onSend={(form) =>
            client.reportChannel(channelId, {
              reason: form.reason,
              ...(form.note ? { note: form.note } : {}),
            })
          }
          onClose={() => setReporting(false)}
        />
      )}

      {isAdmin && !suspended && <Composer channelId={channelId} onPosted={upsert} />}

      {posts.length === 0 ? (
        <EmptyState title="No posts yet" />
      ) : (
        <ol className="list posts" aria-label="Posts">
          {[...posts].reverse().map((post) => (
            <PostCard
              key={post.seq}
              channel={channel}
              post={post}
              onChange={upsert}
              onDeleted={() => setPosts((old) => old.filter((p) => p.seq !== post.seq))}
            />
          ))}
        </ol>
      )}
      {isAdmin && <ChannelAdminPanel channel={channel} onChange={setChannel} />}
    </div>
  );
}

function Composer({
  channelId,
  onPosted,
}: {
  channelId: string;
  onPosted: (post: ChannelPost) => void;
}) {
  const client = useClient();
  const [text, setText] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [withPoll, setWithPoll] = useState(false);
  const [question, setQuestion] = useState("");
  const [options, setOptions] = useState(["", ""]);
  const [multiple, setMultiple] = useState(false);
  const [held, setHeld] = useState(false);
  const { busy, error, run } = useAction();

  const pollOptions = options.map((o) => o.trim()).filter(Boolean);
  const ready = withPoll ? question.trim() && pollOptions.length >= 2 : text.trim() || image;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setHeld(false);
    void run(async () => {
      const media = image ? [new Uint8Array(await image.arrayBuffer())] : undefined;
      const post = await client.postToChannel(channelId, {
        ...(text.trim() ? { text: text.trim() } : {}),
        ...(media ? { media } : {}),
        ...(withPoll
          ? { poll: { question: question.trim(), options: pollOptions, multiple } }
          : {}),
      });
      if (isHeld(post)) setHeld(true);
      else onPosted(post);
      setText("");
      setImage(null);
      // The file input is not controlled: clear the name it shows as well.
      if (fileInput.current) fileInput.current.value = "";
      setWithPoll(false);
      setQuestion("");
      setOptions(["", ""]);
      setMultiple(false);
    });
  };

  return (
    <form className="card" onSubmit={submit} aria-label="New post">
      <label>
        Post to the channel
        <textarea
          rows={3}
          maxLength={4096}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <label>
        Image or file <span className="hint">(JPEG, PNG, WebP, MP4, MP3 or PDF)</span>
        <input
          ref={fileInput}
          type="file"
          onChange={(e) => setImage(e.target.files?.[0] ?? null)}
        />
      </label>
      <label className="check">
        <input type="checkbox" checked={withPoll} onChange={(e) => setWithPoll(e.target.checked)} />
        Add a poll
      </label>
      {withPoll && (
        <fieldset className="card">
          <legend>Poll</legend>
          <label>
            Question
            <input maxLength={300} value={question} onChange={(e) => setQuestion(e.target.value)} />
          </label>
          {options.map((option, i) => (
            // Options are positions in the poll: the index is their identity.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <label key={i}>
              Option {i + 1}
              <input
                maxLength={100}
                value={option}
                onChange={(e) =>
                  setOptions((old) => old.map((o, j) => (j === i ? e.target.value : o)))
                }
              />
            </label>
          ))}
          {options.length < 12 && (
            <button type="button" onClick={() => setOptions((old) => [...old, ""])}>
              Add an option
            </button>
          )}
          <label className="check">
            <input
              type="checkbox"
              checked={multiple}
              onChange={(e) => setMultiple(e.target.checked)}
            />
            Allow several answers
          </label>
        </fieldset>
      )}
      <ErrorNote error={error} />
      <p className={held ? "notice" : "visually-hidden"} role="status">
        {held && (
          <>
            {heldNote} <a href={href("channels", channelId, "moderation")}>See what is held</a>
          </>
        )}
      </p>
      <button type="submit" className="primary" disabled={busy || !ready}>
        Post
      </button>
    </form>
  );
}
