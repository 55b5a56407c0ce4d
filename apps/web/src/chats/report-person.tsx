import { type ChatMessage, maxReportedMessages } from "@veil/sdk";
import { useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { ReportDialog } from "../ui/report-dialog.js";

/** How many of the person's latest messages the form offers to attach. */
const offered = 10;

/** The words of a message that a report can carry: its text, or a file's caption. */
function wordsOf(message: ChatMessage): string | null {
  if (message.content.type === "text") return message.content.text;
  if (message.content.type === "attachment" && message.content.caption) {
    return message.content.caption;
  }
  return null;
}

/**
 * Reports a person met in this chat. The chat is end-to-end encrypted, so the
 * moderators get only the messages ticked here, as this browser decrypted them.
 */
export function ReportPersonDialog(props: {
  groupId: string;
  userId: string;
  onClose: () => void;
}) {
  const { groupId, userId } = props;
  const client = useClient();
  const person = usePerson(client, userId);
  const name = personName(person, "this person");
  const [theirs, setTheirs] = useState<ChatMessage[] | null>(null);
  const [ticked, setTicked] = useState<string[]>([]);

  useEffect(() => {
    let live = true;
    void client.messages(groupId).then((all) => {
      if (!live) return;
      const mine = all.filter((m) => m.senderUserId === userId && !m.fromMe && wordsOf(m));
      setTheirs(mine.slice(-offered).reverse());
    });
    return () => {
      live = false;
    };
  }, [client, groupId, userId]);

  const toggle = (id: string, on: boolean) =>
    setTicked((old) => (on ? [...old, id] : old.filter((t) => t !== id)));
  const full = ticked.length >= maxReportedMessages;

  return (
    <ReportDialog
      title={`Report ${name}`}
      intro={`Moderators get your reason and note. ${name} is not told who reported them.`}
      onSend={(form) =>
        client.reportUser(groupId, userId, {
          reason: form.reason,
          ...(form.note ? { note: form.note } : {}),
          attach: ticked,
        })
      }
      onClose={props.onClose}
    >
      <fieldset className="attach-messages">
        <legend>
          Attach their messages <span className="hint">(up to {maxReportedMessages})</span>
        </legend>
        <p className="hint">
          Only the messages you tick are sent to the moderators; they cannot read this chat
          otherwise.
        </p>
        {theirs === null ? (
          <p className="muted">Loading their messages…</p>
        ) : theirs.length === 0 ? (
          <p className="muted">{name} has sent no text here.</p>
        ) : (
          <ul className="list" aria-label="Their latest messages">
            {theirs.map((m) => {
              const on = ticked.includes(m.id);
              return (
                <li key={m.id}>
                  <label className="check message-choice">
                    <input
                      type="checkbox"
                      checked={on}
                      disabled={!on && full}
                      onChange={(e) => toggle(m.id, e.target.checked)}
                    />
                    <span className="grow">
                      <span className="quoted-text">{wordsOf(m)}</span>{" "}
                      <time className="muted" dateTime={new Date(m.sentAt).toISOString()}>
                        {new Date(m.sentAt).toLocaleString([], {
                          dateStyle: "short",
                          timeStyle: "short",
                        })}
                      </time>
                    </span>
                  </label>
                </li>
              );
            })}
          </ul>
        )}
        <p className="hint" aria-live="polite">
          {ticked.length} of {maxReportedMessages} ticked
          {full ? ": that is the most a report carries." : "."}
        </p>
      </fieldset>
    </ReportDialog>
  );
}
