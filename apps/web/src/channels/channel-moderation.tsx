import type { ChannelDecision, ChannelModeration, ChannelView, HeldItem } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { ErrorNote } from "../ui/components.js";
import { formatDate } from "../ui/format.js";
import { guidelineTitle } from "../ui/guidelines.js";
import { HeldContent } from "../ui/held-content.js";
import { href } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";

const heldKinds: Record<HeldItem["kind"], string> = {
  post: "New post",
  edit: "Edit of a post",
  profile: "New name or description",
  photo: "New photo",
};

/**
 * A channel's standing with the moderators, for its owner and admins: what is
 * held for review, the decisions and their strikes, a suspension's reason,
 * and (the owner) an appeal against a violation.
 */
export function ChannelModerationPage({ channelId }: { channelId: string }) {
  const client = useClient();
  const [channel, setChannel] = useState<ChannelView | null>(null);
  const [state, setState] = useState<ChannelModeration | null>(null);
  const { busy, error, run } = useAction();

  const load = useCallback(async () => {
    const [c, m] = await Promise.all([
      client.channel(channelId),
      client.channelModeration(channelId),
    ]);
    setChannel(c);
    setState(m);
  }, [client, channelId]);
  useEffect(() => {
    void run(load);
  }, [load, run]);

  const isOwner = channel?.role === "owner";
  return (
    <div className="page channel-moderation">
      <a href={href("channels", channelId)}>← {channel ? channel.name : "Back to the channel"}</a>
      <h1>Moderation{channel ? ` of ${channel.name}` : ""}</h1>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => void run(load)}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      {state === null ? (
        !error && <p aria-live="polite">Loading…</p>
      ) : (
        <>
          <section className="item" aria-labelledby="standing-heading">
            <h2 id="standing-heading">Standing</h2>
            <p className={state.strikes.active > 0 ? "strikes has-strikes" : "strikes"}>
              Strikes: {state.strikes.active} of {state.strikes.threshold} in{" "}
              {state.strikes.windowDays} days
            </p>
            <p className="muted">
              A confirmed violation is a strike. {state.strikes.threshold} strikes within{" "}
              {state.strikes.windowDays} days suspend the channel. A reinstated appeal lifts its
              strike.
            </p>
            {state.suspension ? (
              <p className="notice" role="alert">
                Suspended since {formatDate(state.suspension.at)}. Reason: {state.suspension.reason}
                {isOwner ? " You can appeal a violation below, once each." : ""}
              </p>
            ) : (
              <p>The channel is in good standing: it is not suspended.</p>
            )}
          </section>

          <section className="item" aria-labelledby="held-heading">
            <h2 id="held-heading">Held for review</h2>
            {state.held.length === 0 ? (
              <p className="muted">Nothing is waiting for a moderator.</p>
            ) : (
              <>
                <p className="muted">
                  Followers will see these once a moderator releases them; a moderator may also
                  remove them.
                </p>
                <ul className="list" aria-label="Held for review">
                  {state.held.map((item) => (
                    <HeldRow key={item.id} item={item} />
                  ))}
                </ul>
              </>
            )}
          </section>

          <section className="item" aria-labelledby="decisions-heading">
            <h2 id="decisions-heading">Decisions</h2>
            {state.decisions.length === 0 ? (
              <p className="muted">No moderator has decided anything about this channel.</p>
            ) : (
              <ul className="list" aria-label="Decisions">
                {state.decisions.map((d) => (
                  <DecisionRow key={d.id} decision={d} canAppeal={isOwner} onAppealed={load} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function HeldRow({ item }: { item: HeldItem }) {
  return (
    <li className="card held-item">
      <p>
        <strong>{heldKinds[item.kind]}</strong>
        {item.seq !== null ? ` (post #${item.seq})` : ""}{" "}
        <span className="muted">· {formatDate(item.createdAt)}</span>
      </p>
      <HeldContent item={item} />
      <p className="muted">
        Suspected: {item.category ? guidelineTitle(item.category) : "no guideline in particular"}
        {item.reasons.length > 0 ? ` (${item.reasons.join("; ")})` : ""}
      </p>
    </li>
  );
}

const subjects: Record<ChannelDecision["subject"], string> = {
  channel: "The channel",
  post: "A post",
  held: "Held content",
};

const appealStates = {
  open: "Appeal sent: a moderator will look at it.",
  upheld: "Appeal decided: the decision stands.",
  reinstated: "Appeal decided: reinstated, the strike is lifted.",
} as const;

function DecisionRow(props: {
  decision: ChannelDecision;
  canAppeal: boolean;
  onAppealed: () => Promise<void>;
}) {
  const { decision } = props;
  const client = useClient();
  const [writing, setWriting] = useState(false);
  const [text, setText] = useState("");
  const { busy, error, run } = useAction();
  const violation = decision.outcome === "violation";

  const appeal = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await client.appealDecision(decision.id, text.trim());
      setWriting(false);
      await props.onAppealed();
    });
  };

  return (
    <li className="card decision" data-decision-id={decision.id}>
      <p>
        <strong>{violation ? "Violation" : "No violation"}</strong>
        {violation && decision.category ? `: ${guidelineTitle(decision.category)}` : ""}
        <span className="muted">
          {" "}
          · {subjects[decision.subject]}
          {decision.seq !== null ? ` #${decision.seq}` : ""} · {formatDate(decision.decidedAt)}
        </span>
      </p>
      <p className="muted">
        {decision.strike
          ? "This is a strike."
          : violation
            ? "No strike counts for it any more."
            : "No strike."}
      </p>
      {decision.appeal && <p role="status">{appealStates[decision.appeal.status]}</p>}
      {props.canAppeal && decision.canAppeal && !writing && (
        <button type="button" onClick={() => setWriting(true)}>
          Appeal
        </button>
      )}
      {writing && (
        <form onSubmit={appeal} aria-label="Appeal this decision" className="card">
          <label>
            Why should a moderator look again?
            <textarea
              rows={3}
              maxLength={1000}
              required
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </label>
          <p className="hint">Each decision can be appealed once.</p>
          <div className="row">
            <button type="submit" className="primary" disabled={busy || !text.trim()}>
              Send appeal
            </button>
            <button type="button" onClick={() => setWriting(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorNote error={error} />
    </li>
  );
}
