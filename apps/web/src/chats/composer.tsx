import type { ChatMessage } from "@veil/sdk";
import { type FormEvent, useRef, useState } from "react";
import { useClient } from "../device/context.js";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";

export function Composer(props: {
  groupId: string;
  replyTo: ChatMessage | null;
  onCancelReply: () => void;
  onSent: () => void;
}) {
  const client = useClient();
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const typingSent = useRef(false);
  const file = useRef<HTMLInputElement>(null);

  const typingTo = (value: boolean) => {
    if (typingSent.current === value) return;
    typingSent.current = value;
    client.setTyping(props.groupId, value).catch(() => undefined);
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    setBusy(true);
    setError(null);
    try {
      await client.sendText(
        props.groupId,
        body,
        props.replyTo ? { replyTo: props.replyTo.id } : {},
      );
      setText("");
      typingTo(false);
      props.onSent();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const attach = async (files: FileList | null) => {
    const picked = files?.[0];
    if (!picked) return;
    setBusy(true);
    setError(null);
    try {
      const bytes = new Uint8Array(await picked.arrayBuffer());
      await client.sendAttachment(props.groupId, bytes, {
        name: picked.name,
        mime: picked.type || "application/octet-stream",
        ...(props.replyTo ? { replyTo: props.replyTo.id } : {}),
      });
      props.onSent();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      if (file.current) file.current.value = "";
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void send(e)} aria-label="Send a message">
      {props.replyTo && (
        <p className="replying">
          Replying to:{" "}
          {props.replyTo.content.type === "text" ? props.replyTo.content.text : "a file"}
          <button type="button" onClick={props.onCancelReply} aria-label="Cancel reply">
            ✕
          </button>
        </p>
      )}
      <ErrorNote error={error} />
      <div className="composer-row">
        <label className="attach">
          <span className="visually-hidden">Attach a file</span>
          <input ref={file} type="file" onChange={(e) => void attach(e.target.files)} />📎
        </label>
        <label className="grow">
          <span className="visually-hidden">Message</span>
          <textarea
            name="message"
            rows={1}
            placeholder="Message"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              typingTo(e.target.value.length > 0);
            }}
            onBlur={() => typingTo(false)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}
