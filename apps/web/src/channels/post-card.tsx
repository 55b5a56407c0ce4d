import { defaultChannelReactions } from "@veil/protocol";
import { type ChannelPost, type ChannelView, isHeld } from "@veil/sdk";
import { useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { Avatar, ErrorNote } from "../ui/components.js";
import { heldNote } from "../ui/guidelines.js";
import { ReportDialog } from "../ui/report-dialog.js";
import { useAction } from "../ui/use-action.js";
import { useImage } from "../ui/use-image.js";

type Follower = { handle: string; name: string; photo?: string };
type Interactions = {
  reactions: Array<{ follower: Follower; emoji: string }>;
  votes: Array<{ follower: Follower; options: number[] }>;
};

/** A follower's photo where their setting lets this admin see it (R8), else initials. */
function FollowerAvatar({ follower }: { follower: Follower }) {
  const client = useClient();
  const photo = follower.photo;
  const src = useImage(photo, () => client.channelFollowerPhoto(photo ?? ""));
  return <Avatar name={follower.name} size={24} src={src} />;
}

/** One post, as the channel: its content, counts for everyone, and the admins' tools. */
export function PostCard(props: {
  channel: ChannelView;
  post: ChannelPost;
  onChange: (post: ChannelPost) => void;
  onDeleted: () => void;
}) {
  const { channel, post } = props;
  const client = useClient();
  const isAdmin = channel.role !== null;
  const [forwarded, setForwarded] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [who, setWho] = useState<Interactions | null>(null);
  const [held, setHeld] = useState(false);
  const [reporting, setReporting] = useState(false);
  const { busy, error, run } = useAction();
  const change = (work: () => Promise<ChannelPost>) =>
    void run(async () => props.onChange(await work()));

  const canReact = channel.following && channel.reactionPolicy !== "none";
  const choices =
    channel.reactionPolicy === "default"
      ? [...defaultChannelReactions]
      : ["👍", "❤️", "😂", "🔥", "🙏"];
  const counts = Object.entries(post.reactions).filter(([, n]) => n > 0);

  return (
    <li className="item post" data-seq={post.seq}>
      <header className="row">
        <Avatar name={channel.name} size={28} />
        <strong className="grow">{channel.name}</strong>
        <time className="muted" dateTime={post.createdAt}>
          {new Date(post.createdAt).toLocaleString()}
          {post.editedAt ? " · edited" : ""}
        </time>
      </header>
      {editing !== null ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setHeld(false);
            void run(async () => {
              const edited = await client.editChannelPost(channel.id, post.seq, editing);
              setEditing(null);
              // A held edit leaves the post as it was until a moderator releases the new text.
              if (isHeld(edited)) setHeld(true);
              else props.onChange(edited);
            });
          }}
          aria-label="Edit post"
        >
          <label>
            Text
            <textarea value={editing} onChange={(e) => setEditing(e.target.value)} />
          </label>
          <button type="submit" disabled={busy || !editing.trim()}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </form>
      ) : (
        post.text && <p className="text">{post.text}</p>
      )}
      {post.media.map((m) => (
        <Media key={m.id} channelId={channel.id} media={m} />
      ))}
      {post.preview && (
        <a
          className="preview"
          href={post.preview.url}
          rel="noopener noreferrer nofollow"
          target="_blank"
        >
          <strong>{post.preview.title ?? post.preview.url}</strong>
          {post.preview.description && <span className="muted"> {post.preview.description}</span>}
        </a>
      )}
      {post.poll && <Poll channel={channel} post={post} onChange={change} busy={busy} />}

      {counts.length > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {counts.map(([emoji, n]) => (
            <li key={emoji} className={post.myReaction === emoji ? "reaction mine" : "reaction"}>
              {emoji} {n}
            </li>
          ))}
        </ul>
      )}
      <div className="row post-actions">
        {canReact &&
          choices.map((emoji) => (
            <button
              key={emoji}
              type="button"
              disabled={busy}
              aria-pressed={post.myReaction === emoji}
              aria-label={`React ${emoji}`}
              onClick={() =>
                change(() =>
                  post.myReaction === emoji
                    ? client.removeChannelReaction(channel.id, post.seq)
                    : client.reactToChannelPost(channel.id, post.seq, emoji),
                )
              }
            >
              {emoji}
            </button>
          ))}
        <button type="button" onClick={() => setForwarded(client.forwardChannelPost(post))}>
          Forward
        </button>
        {!isAdmin && (
          <button type="button" onClick={() => setReporting(true)}>
            Report post
          </button>
        )}
        {isAdmin && (
          <>
            <button
              type="button"
              onClick={() =>
                void run(async () => {
                  const [reactions, votes] = await Promise.all([
                    client.channelReactions(channel.id, post.seq),
                    post.poll ? client.channelVotes(channel.id, post.seq) : Promise.resolve([]),
                  ]);
                  setWho({ reactions, votes });
                })
              }
            >
              Who reacted{post.poll ? " and voted" : ""}
            </button>
            <button type="button" onClick={() => setEditing(post.text)}>
              Edit
            </button>
            <button
              type="button"
              onClick={() =>
                window.confirm("Delete this post for everyone?") &&
                void run(async () => {
                  await client.deleteChannelPost(channel.id, post.seq);
                  props.onDeleted();
                })
              }
            >
              Delete
            </button>
          </>
        )}
      </div>
      {forwarded && (
        <label>
          Copy to forward (it links back to {channel.name})
          <textarea readOnly value={forwarded} onFocus={(e) => e.target.select()} />
        </label>
      )}
      {who && <InteractionList who={who} post={post} />}
      {held && (
        <p className="notice" role="status">
          Your edit: {heldNote} Until then they see the text as it was.
        </p>
      )}
      <ErrorNote error={error} />
      {reporting && (
        <ReportDialog
          title="Report post"
          intro={`A post of ${channel.name}. Moderators get your reason and note with the post; they never see who reported it.`}
          onSend={(form) =>
            client.reportChannel(channel.id, {
              reason: form.reason,
              seq: post.seq,
              ...(form.note ? { note: form.note } : {}),
            })
          }
          onClose={() => setReporting(false)}
        />
      )}
    </li>
  );
}

function Poll(props: {
  channel: ChannelView;
  post: ChannelPost;
  busy: boolean;
  onChange: (work: () => Promise<ChannelPost>) => void;
}) {
  const { channel, post, onChange } = props;
  const client = useClient();
  const poll = post.poll;
  if (!poll) return null;
  const canVote = channel.following && !poll.closed;
  const vote = (index: number) => {
    const mine = new Set(poll.myVote);
    if (poll.multiple) {
      if (mine.has(index)) mine.delete(index);
      else mine.add(index);
    }
    const chosen = poll.multiple ? [...mine] : [index];
    onChange(() =>
      chosen.length === 0 || (!poll.multiple && poll.myVote[0] === index)
        ? client.withdrawChannelVote(channel.id, post.seq)
        : client.voteInChannelPoll(channel.id, post.seq, chosen),
    );
  };
  return (
    <fieldset className="poll">
      <legend>{poll.question}</legend>
      <ul className="list">
        {poll.options.map((option, i) => {
          const share = poll.voters > 0 ? Math.round((100 * option.votes) / poll.voters) : 0;
          return (
            <li key={option.text}>
              <button
                type="button"
                className="poll-option"
                disabled={!canVote || props.busy}
                aria-pressed={poll.myVote.includes(i)}
                onClick={() => vote(i)}
              >
                <span className="grow">
                  {poll.myVote.includes(i) ? "● " : "○ "}
                  {option.text}
                </span>
                <span>
                  {option.votes} {option.votes === 1 ? "vote" : "votes"}
                </span>
              </button>
              <span className="bar" style={{ width: `${share}%` }} />
            </li>
          );
        })}
      </ul>
      <p className="muted">
        {poll.voters} {poll.voters === 1 ? "voter" : "voters"}
        {poll.multiple ? " · several answers allowed" : ""}
        {poll.closed ? " · closed" : ""}
      </p>
      {channel.role !== null && !poll.closed && (
        <button
          type="button"
          onClick={() => onChange(() => client.closeChannelPoll(channel.id, post.seq))}
        >
          Close poll
        </button>
      )}
    </fieldset>
  );
}

/**
 * Who reacted and voted, as admins may see it: a name and a handle that is only
 * good inside this channel. Never a phone number or an id to contact them by.
 */
function InteractionList({ who, post }: { who: Interactions; post: ChannelPost }) {
  return (
    <section className="interactions" aria-label="Who reacted and voted">
      {who.reactions.length === 0 && who.votes.length === 0 && <p className="muted">Nobody yet.</p>}
      <ul className="list">
        {who.reactions.map((r) => (
          <li key={`r-${r.follower.handle}`} className="row">
            <FollowerAvatar follower={r.follower} />
            <span className="grow">
              {r.follower.name} <span className="muted">#{r.follower.handle}</span>
            </span>
            <span>{r.emoji}</span>
          </li>
        ))}
        {who.votes.map((v) => (
          <li key={`v-${v.follower.handle}`} className="row">
            <FollowerAvatar follower={v.follower} />
            <span className="grow">
              {v.follower.name} <span className="muted">#{v.follower.handle}</span>
            </span>
            <span>voted {v.options.map((i) => post.poll?.options[i]?.text ?? "?").join(", ")}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Media({ channelId, media }: { channelId: string; media: ChannelPost["media"][number] }) {
  const client = useClient();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let made: string | null = null;
    client.channelMedia(channelId, media.id).then(
      (bytes) => {
        if (!live) return;
        made = URL.createObjectURL(new Blob([bytes as BlobPart], { type: media.contentType }));
        setUrl(made);
      },
      () => undefined,
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client, channelId, media.id, media.contentType]);
  if (!url) return <p className="muted">Loading media…</p>;
  if (media.contentType.startsWith("image/"))
    return <img className="post-media" src={url} alt="" />;
  // Channel media carry no caption track; the post's text is what describes them.
  if (media.contentType.startsWith("video/"))
    // biome-ignore lint/a11y/useMediaCaption: see above
    return <video className="post-media" src={url} controls />;
  // biome-ignore lint/a11y/useMediaCaption: see above
  if (media.contentType.startsWith("audio/")) return <audio src={url} controls />;
  return (
    <a href={url} download>
      Download file
    </a>
  );
}
