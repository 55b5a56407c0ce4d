import { useEffect, useRef, useState } from "react";
import { useClient } from "../device/context.js";
import { personName, usePerson } from "../device/people.js";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import { useCall } from "./use-calls.js";

/** The call in progress, or ringing: over every screen, so a call is never missed for a route. */
export function CallOverlay() {
  const client = useClient();
  const { call, calls } = useCall(client);
  const peer = usePerson(client, call?.peerUserId ?? null);
  const [error, setError] = useState<string | null>(null);
  const act = (work: () => Promise<void> | void) => {
    setError(null);
    Promise.resolve()
      .then(work)
      .catch((e: unknown) => setError(describeError(e)));
  };
  if (!call) return null;
  const name = personName(peer);
  const kind = call.media === "video" ? "video call" : "voice call";
  const status =
    call.phase === "ringing"
      ? call.direction === "incoming"
        ? `${name} is calling you (${kind})`
        : `Calling ${name}…`
      : call.phase === "connecting"
        ? "Connecting…"
        : call.phase === "active"
          ? `In a ${kind} with ${name}`
          : (call.note ?? "Call ended");

  return (
    <section className="call-overlay" aria-label="Call" role="dialog" aria-live="polite">
      <p className="call-status">{status}</p>
      {call.phase === "active" && (
        <p className="muted call-security">
          {call.verified ? "🔒 End-to-end encrypted; the connection's key was checked." : ""}{" "}
          <span className="call-bytes">{Math.round(call.bytesReceived / 1024)} KiB received</span>
        </p>
      )}
      {call.phase !== "ended" && (
        <div className="call-media">
          <Video stream={call.remote} label={`${name}'s video`} muted={false} />
          <Video stream={call.local} label="Your video" muted small />
        </div>
      )}
      <ErrorNote error={error} />
      <div className="row call-actions">
        {call.phase === "ringing" && call.direction === "incoming" && (
          <>
            <button type="button" className="primary" onClick={() => act(() => calls.accept())}>
              Accept
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
              Hang up
            </button>
          </>
        )}
        {(call.phase === "connecting" || call.phase === "active") && (
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
