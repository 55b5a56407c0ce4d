import { useEffect, useRef, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import type { PeerView } from "./call-manager.js";
import { useCall } from "./use-calls.js";

/** The call in progress, or ringing: over every screen, so a call is never missed for a route. */
export function CallOverlay() {
  const client = useClient();
  const { call, calls } = useCall(client);
  const peer = usePerson(client, call?.peerUserId ?? null);
  const [error, setError] = useState<string | null>(null);
  const [folded, setFolded] = useState(false);
  const act = (work: () => Promise<void> | void) => {
    setError(null);
    Promise.resolve()
      .then(work)
      .catch((e: unknown) => setError(describeError(e)));
  };
  if (!call) return null;
  const name = personName(peer);
  const kind = `${call.group ? "group " : ""}${call.media === "video" ? "video call" : "voice call"}`;
  const status =
    call.phase === "ringing"
      ? call.direction === "incoming"
        ? `${name} is calling you (${kind})`
        : call.group
          ? "Calling the group…"
          : `Calling ${name}…`
      : call.phase === "connecting"
        ? "Connecting…"
        : call.phase === "active"
          ? call.group
            ? `In a ${kind} · ${call.peers.length + 1} people`
            : `In a ${kind} with ${name}`
          : (call.note ?? "Call ended");
  const bytes = call.peers.reduce((n, p) => n + p.bytesReceived, 0);
  const checked = call.peers.length > 0 && call.peers.every((p) => p.verified);

  return (
    <section className="call-overlay" aria-label="Call" role="dialog" aria-live="polite">
      <p className="call-status">{status}</p>
      {call.phase === "active" && (
        <p className="muted call-security">
          {checked
            ? "🔒 End-to-end encrypted; the connection's key was checked."
            : "Checking the connection's key…"}{" "}
          <span className="call-key" data-epoch={call.keyEpoch ?? ""}>
            Media sealed with the chat's key {call.keyEpoch ?? "…"}.
          </span>{" "}
          <span className="call-bytes">{Math.round(bytes / 1024)} KiB received</span>
        </p>
      )}
      {call.phase !== "ended" && (
        <div
          className={call.group ? "call-media call-grid" : "call-media"}
          hidden={folded && call.phase !== "ringing"}
        >
          {call.peers.map((p) => (
            <PeerTile key={p.deviceId} peer={p} />
          ))}
          <Video stream={call.local} label="Your video" muted small />
        </div>
      )}
      <ErrorNote error={error} />
      <div className="row call-actions">
        {call.phase === "ringing" && call.direction === "incoming" && (
          <>
            <button type="button" className="primary" onClick={() => act(() => calls.accept())}>
              {call.group ? "Join" : "Accept"}
            </button>
            <button type="button" className="danger" onClick={() => act(() => calls.decline())}>
              Decline
            </button>
          </>
        )}
        {call.phase === "ringing" && call.direction === "outgoing" && (
          <button type="button" className="danger" onClick={() => act(() => calls.decline())}>
            Cancel
          </button>
        )}
        {(call.phase === "connecting" || call.phase === "active") && (
          <>
            <button type="button" aria-pressed={call.muted} onClick={() => calls.toggleMute()}>
              {call.muted ? "Unmute" : "Mute"}
            </button>
            {call.media === "video" && (
              <button
                type="button"
                aria-pressed={call.cameraOff}
                onClick={() => calls.toggleCamera()}
              >
                {call.cameraOff ? "Camera on" : "Camera off"}
              </button>
            )}
            <button type="button" className="danger" onClick={() => act(() => calls.hangUp())}>
              {call.group ? "Leave" : "Hang up"}
            </button>
            <button type="button" aria-pressed={folded} onClick={() => setFolded(!folded)}>
              {folded ? "Expand" : "Minimise"}
            </button>
          </>
        )}
        {(call.phase === "connecting" || call.phase === "active") && !folded && (
          <DevicePicker
            media={call.media}
            onPick={(kind, id) => act(() => calls.switchDevice(kind, id))}
          />
        )}
        {call.phase === "ended" && (
          <button type="button" onClick={() => calls.dismiss()}>
            Close
          </button>
        )}
      </div>
    </section>
  );
}

/** One other device in the call: its video, its person's name, and whether its key was checked. */
function PeerTile({ peer }: { peer: PeerView }) {
  const client = useClient();
  const name = personName(usePerson(client, peer.userId));
  return (
    <figure
      className="call-tile"
      aria-label={name}
      data-device={peer.deviceId}
      data-frames-opened={peer.framesOpened}
      data-frames-dropped={peer.framesDropped}
      data-bytes={peer.bytesReceived}
    >
      <Video stream={peer.stream} label={`${name}'s video`} muted={false} />
      <figcaption>
        {peer.verified ? "🔒 " : ""}
        {name}
      </figcaption>
    </figure>
  );
}

/** The microphones and cameras the browser offers, to switch to during a call. */
function DevicePicker(props: {
  media: "audio" | "video";
  onPick: (kind: "audioinput" | "videoinput", deviceId: string) => void;
}) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    void navigator.mediaDevices.enumerateDevices().then(setDevices, () => undefined);
  }, []);
  const kinds =
    props.media === "video" ? (["audioinput", "videoinput"] as const) : (["audioinput"] as const);
  return (
    <>
      {kinds.map((kind) => (
        <label key={kind} className="device-picker">
          {kind === "audioinput" ? "Microphone" : "Camera"}
          <select
            defaultValue=""
            onChange={(e) => e.target.value && props.onPick(kind, e.target.value)}
          >
            <option value="">Choose…</option>
            {devices
              .filter((d) => d.kind === kind)
              .map((d, i) => (
                <option key={d.deviceId} value={d.deviceId}>
                  {d.label || `${kind === "audioinput" ? "Microphone" : "Camera"} ${i + 1}`}
                </option>
              ))}
          </select>
        </label>
      ))}
    </>
  );
}

function Video(props: {
  stream: MediaStream | null;
  label: string;
  muted: boolean;
  small?: boolean;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = props.stream;
  }, [props.stream]);
  if (!props.stream) return null;
  return (
    <video
      ref={ref}
      className={props.small ? "call-video small" : "call-video"}
      aria-label={props.label}
      autoPlay
      playsInline
      muted={props.muted}
    />
  );
}
