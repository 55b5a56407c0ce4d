import type { CallHistoryEntry } from "@veil/sdk";
import { useCallback, useEffect, useState } from "react";
import { useClient, useClientEvent } from "../device/context.js";
import { callManager } from "./use-calls.js";

/** A chat's calls, from the call actions stored in its log, kept up to date. */
export function useCallHistory(groupId: string, enabled: boolean): CallHistoryEntry[] {
  const client = useClient();
  const [history, setHistory] = useState<CallHistoryEntry[]>([]);
  const load = useCallback(async () => {
    setHistory(await client.callHistory(groupId).catch(() => []));
  }, [client, groupId]);
  useEffect(() => {
    if (enabled) void load();
  }, [enabled, load]);
  useClientEvent("call", (e) => {
    if (enabled && e.groupId === groupId && e.action !== "ice") void load();
  });
  // This device's own actions (placing, answering, hanging up) raise no event here.
  useEffect(() => {
    if (!enabled) return;
    const calls = callManager(client);
    let phase = calls.current?.phase;
    return calls.subscribe(() => {
      if (calls.current?.phase === phase) return; // a stats tick, not a step of the call
      phase = calls.current?.phase;
      void load();
    });
  }, [client, enabled, load]);
  return history;
}

/** One call in the chat's timeline: "Missed video call", "Voice call · 1:05". */
export function CallLine({ entry }: { entry: CallHistoryEntry }) {
  const kind = `${entry.group ? "group " : ""}${entry.media === "video" ? "video call" : "voice call"}`;
  const incoming = entry.direction === "incoming";
  const text =
    entry.outcome === "answered"
      ? `${incoming ? "Incoming" : "Outgoing"} ${kind}${entry.durationMs === undefined ? "" : ` · ${duration(entry.durationMs)}`}`
      : entry.outcome === "missed" || (incoming && entry.outcome === "cancelled")
        ? `Missed ${kind}`
        : entry.outcome === "declined"
          ? `${capital(kind)} declined`
          : entry.outcome === "busy"
            ? `${capital(kind)}: busy`
            : `${capital(kind)} cancelled`;
  return (
    <li className="call-line" data-call-id={entry.callId}>
      <span aria-hidden="true">{entry.media === "video" ? "🎥" : "📞"}</span> {text}{" "}
      <time className="muted" dateTime={new Date(entry.startedAt).toISOString()}>
        {new Date(entry.startedAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
      </time>
    </li>
  );
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
