import QRCode from "qrcode";
import { useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import { href } from "../ui/router.js";
import type { ChatSummary } from "./chat-summaries.js";

/**
 * The 60-digit safety number of a direct chat, as digits and a QR code. "Verified"
 * is remembered with the number itself, so a change of keys clears it.
 */
export function SafetyNumber({ chat }: { chat: ChatSummary }) {
  const client = useClient();
  const peer = chat.info.peerUserId;
  const [digits, setDigits] = useState<string | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = `veil.verified.${client.userId}.${peer}`;
  const [verified, setVerified] = useState(false);

  useEffect(() => {
    if (!peer) return;
    let live = true;
    client
      .safetyNumber(peer)
      .then(async (number) => {
        if (!live) return;
        setDigits(number);
        setVerified(localStorage.getItem(key) === number);
        setQr(await QRCode.toDataURL(`veil-safety:${number}`, { margin: 1, width: 220 }));
      })
      .catch((e: unknown) => live && setError(describeError(e)));
    return () => {
      live = false;
    };
  }, [client, peer, key]);

  const groups = digits?.match(/\d{5}/g) ?? [];
  const blocks = groups.map((text, i) => ({ at: i * 5, text }));
  return (
    <div className="safety">
      <header className="conversation-header">
        <a className="back" href={href("chats", chat.info.groupId)} aria-label="Back to the chat">
          ←
        </a>
        <h2>Safety number with {chat.title}</h2>
      </header>
      <p>
        Compare these numbers with {chat.title}, in person or on a call. If they match, nobody is in
        the middle of your chat.
      </p>
      <ErrorNote error={error} />
      {digits && (
        <>
          <p className="safety-digits">
            <span className="visually-hidden">Safety number: </span>
            {blocks.map((block) => (
              <span key={block.at}>{block.text}</span>
            ))}
          </p>
          {qr && <img className="qr" src={qr} alt="QR code of the safety number" />}
          <label className="check">
            <input
              type="checkbox"
              checked={verified}
              onChange={(e) => {
                if (e.target.checked) localStorage.setItem(key, digits);
                else localStorage.removeItem(key);
                setVerified(e.target.checked);
              }}
            />
            Mark as verified
          </label>
          {verified && <p className="verified">✓ Verified</p>}
        </>
      )}
    </div>
  );
}
