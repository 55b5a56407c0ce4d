import type { ReportReason } from "@veil/sdk";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { ErrorNote } from "./components.js";
import { reportReasons } from "./guidelines.js";
import { useAction } from "./use-action.js";

/** What a report form collects for every kind of report. */
export interface ReportForm {
  reason: ReportReason;
  note: string;
}

/**
 * A modal report form: a reason (each guideline, or "Something else"), an
 * optional note, and whatever the caller adds (`children`, e.g. messages to
 * attach). A native <dialog> keeps focus inside and closes on Escape.
 */
export function ReportDialog(props: {
  title: string;
  /** One line under the title: what is reported, and who sees the report. */
  intro: ReactNode;
  children?: ReactNode;
  onSend: (form: ReportForm) => Promise<void>;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [note, setNote] = useState("");
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useAction();
  const titleId = useId();
  const name = useId();
  const { onClose } = props;

  // No close() on unmount: a removed <dialog> leaves the top layer by itself, and
  // closing it would fire `close` (and onClose) once more.
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  useEffect(() => {
    if (sent) closeButton.current?.focus();
  }, [sent]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!reason) return;
    void run(async () => {
      await props.onSend({ reason, note: note.trim() });
      setSent(true);
    });
  };

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {sent ? (
        <>
          <p role="status">Thanks. A moderator will look at it.</p>
          <button ref={closeButton} type="button" className="primary" onClick={onClose}>
            Close
          </button>
        </>
      ) : (
        <form className="report-form" onSubmit={submit} aria-labelledby={titleId}>
          <p className="muted">{props.intro}</p>
          <fieldset>
            <legend>What is wrong?</legend>
            {reportReasons.map((r) => (
              <label key={r.value} className="check">
                <input
                  type="radio"
                  name={name}
                  value={r.value}
                  checked={reason === r.value}
                  onChange={() => setReason(r.value)}
                />
                {r.label}
              </label>
            ))}
          </fieldset>
          <label>
            Note <span className="hint">(optional: what moderators should know)</span>
            <textarea
              rows={3}
              maxLength={500}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
          </label>
          {props.children}
          <ErrorNote error={error} />
          <div className="row">
            <button type="submit" className="primary" disabled={busy || !reason}>
              Send report
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
