import type { AttachmentRef, ChatMessage } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import type { Receipt } from "./receipts.js";

const quickReactions = ["👍", "❤️", "😂", "😮", "🙏"];

/** Reaction counts on one message, and this user's own emoji. */
export interface ReactionSummary {
  counts: Map<string, number>;
  mine: string | null;
}

export function MessageBubble(props: {
  message: ChatMessage;
  groupKind: string;
  receipt: Receipt | null;
  reactions: ReactionSummary | undefined;
  quoted: ChatMessage | undefined;
  onReply: () => void;
  onReact: (emoji: string) => void;
  /** Reports who sent it (in a group; a 1:1 chat reports from its header). */
  onReportSender: (() => void) | null;
}) {
  const { message, receipt, reactions, quoted } = props;
  const client = useClient();
  const sender = usePerson(client, message.fromMe ? null : message.senderUserId);
  const time = new Date(message.storedAt || message.sentAt).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
  });
  const content = message.content;
  return (
    <li className={`bubble ${message.fromMe ? "mine" : "theirs"}`} data-message-id={message.id}>
      {!message.fromMe && props.groupKind !== "direct" && (
        <span className="sender">{personName(sender)}</span>
      )}
      {quoted && (
        <blockquote className="quote">
          {quoted.content.type === "text" ? quoted.content.text : "📎 File"}
        </blockquote>
      )}
      {content.type === "text" && <p className="text">{content.text}</p>}
      {content.type === "attachment" && (
        <Attachment attachment={content.attachment} caption={content.caption} />
      )}
      <span className="meta">
        <time dateTime={new Date(message.storedAt || message.sentAt).toISOString()}>{time}</time>
        {receipt && (
          <span className={`receipt receipt-${receipt}`}>
            <span aria-hidden="true">{receipt === "sent" ? "✓" : "✓✓"}</span>
            <span className="visually-hidden">{receipt}</span>
          </span>
        )}
      </span>
      {reactions && reactions.counts.size > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {[...reactions.counts].map(([emoji, count]) => (
            <li key={emoji} className={reactions.mine === emoji ? "reaction mine" : "reaction"}>
              {emoji} {count}
            </li>
          ))}
        </ul>
      )}
      <span className="actions">
        <button type="button" onClick={props.onReply} aria-label="Reply">
          ↩
        </button>
        {quickReactions.map((emoji) => (
          <button
            key={emoji}
            type="button"
            onClick={() => props.onReact(emoji)}
            aria-label={`React ${emoji}`}
            aria-pressed={reactions?.mine === emoji}
          >
            {emoji}
          </button>
        ))}
        {props.onReportSender && (
          <button
            type="button"
            onClick={props.onReportSender}
            aria-label={`Report ${personName(sender)}`}
          >
            Report
          </button>
        )}
      </span>
    </li>
  );
}

/** Decrypts an attachment on demand; images show inline, other files download. */
function Attachment({ attachment, caption }: { attachment: AttachmentRef; caption: string }) {
  const client = useClient();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const isImage = (attachment.mime ?? "").startsWith("image/");

  const open = useCallback(async () => {
    try {
      const bytes = await client.downloadAttachment(attachment);
      const blob = new Blob([bytes as BlobPart], {
        type: attachment.mime || "application/octet-stream",
      });
      setUrl(URL.createObjectURL(blob));
    } catch (e) {
      setError(describeError(e));
    }
  }, [client, attachment]);

  useEffect(() => {
    if (isImage) void open();
  }, [isImage, open]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);

  return (
    <figure className="attachment">
      {isImage && url ? (
        <img src={url} alt={caption || attachment.name || "Image"} />
      ) : url ? (
        <a href={url} download={attachment.name || "file"}>
          Save {attachment.name || "file"}
        </a>
      ) : (
        <button type="button" onClick={() => void open()}>
          📎 {attachment.name || "File"} ({Math.ceil(attachment.size / 1024)} KiB)
        </button>
      )}
      {caption && <figcaption>{caption}</figcaption>}
      <ErrorNote error={error} />
    </figure>
  );
}
