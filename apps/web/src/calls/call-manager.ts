import type { CallEvent, CallFingerprint, CallMedia, VeilClient } from "@veil/sdk";

export type CallPhase = "ringing" | "connecting" | "active" | "ended";

/** The one call this browser is in, or rings for, as the screen shows it. */
export interface CallView {
  callId: string;
  groupId: string;
  peerUserId: string | null;
  direction: "outgoing" | "incoming";
  media: CallMedia;
  phase: CallPhase;
  /** Why it ended, or what went wrong, in words. */
  note: string | null;
  local: MediaStream | null;
  remote: MediaStream | null;
  /** Bytes of media received so far (WebRTC stats). */
  bytesReceived: number;
  /** The peer's DTLS certificate matched the fingerprint sent inside the encrypted chat. */
  verified: boolean;
  muted: boolean;
  cameraOff: boolean;
}

/**
 * 1:1 calls over WebRTC, signalled through the SDK inside the chat's MLS group:
 * the server relays ciphertext only. Each side checks that the DTLS
 * certificate the media connection presents is the one whose fingerprint the
 * other side sent end to end, so a relay or the server cannot sit in the middle.
 */
export class CallManager {
  private view: CallView | null = null;
  private readonly listeners = new Set<() => void>();
  private pc: RTCPeerConnection | null = null;
  private expected: CallFingerprint[] = [];
  private pendingIce: RTCIceCandidateInit[] = [];
  private statsTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly client: VeilClient) {}

  /** Starts following the client's call events; returns the function that stops it. */
  listen(): () => void {
    return this.client.on("call", (event) => void this.onEvent(event).catch((e) => this.fail(e)));
  }

  get current(): CallView | null {
    return this.view;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(groupId: string, peerUserId: string | null, media: CallMedia): Promise<void> {
    if (this.view && this.view.phase !== "ended") throw new Error("You are already in a call.");
    const local = await this.localMedia(media);
    const callId = await this.client.startCall(groupId, { media });
    this.set({
      callId,
      groupId,
      peerUserId,
      direction: "outgoing",
      media,
      phase: "ringing",
      note: null,
      local,
      remote: null,
      bytesReceived: 0,
      verified: false,
      muted: false,
      cameraOff: false,
    });
  }

  async accept(): Promise<void> {
    const view = this.view;
    if (view?.direction !== "incoming" || view.phase !== "ringing") return;
    const local = await this.localMedia(view.media);
    this.set({ ...view, local, phase: "connecting" });
    await this.client.acceptCall(view.callId);
  }

  async decline(): Promise<void> {
    const view = this.view;
    if (view?.phase !== "ringing") return;
    if (view.direction === "incoming") await this.client.declineCall(view.callId);
    else await this.client.cancelCall(view.callId);
    this.end(view.direction === "incoming" ? "Declined" : "Cancelled");
  }

  async hangUp(): Promise<void> {
    const view = this.view;
    if (!view || view.phase === "ended") return;
    if (view.phase === "ringing") return this.decline();
    await this.client.hangUp(view.callId).catch(() => undefined);
    this.end("Call ended");
  }

  toggleMute(): void {
    const view = this.view;
    if (!view?.local) return;
    for (const track of view.local.getAudioTracks()) track.enabled = view.muted;
    this.set({ ...view, muted: !view.muted });
  }

  toggleCamera(): void {
    const view = this.view;
    if (!view?.local) return;
    for (const track of view.local.getVideoTracks()) track.enabled = view.cameraOff;
    this.set({ ...view, cameraOff: !view.cameraOff });
  }

  /**
   * Moves the call to another microphone or camera: a new track from it
   * replaces the old one on the connection, without renegotiating.
   */
  async switchDevice(kind: "audioinput" | "videoinput", deviceId: string): Promise<void> {
    const view = this.view;
    if (!view?.local) return;
    const constraint = { deviceId: { exact: deviceId } };
    const fresh = await navigator.mediaDevices.getUserMedia(
      kind === "audioinput" ? { audio: constraint } : { video: constraint },
    );
    const track = kind === "audioinput" ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
    if (!track) return;
    const old =
      kind === "audioinput" ? view.local.getAudioTracks()[0] : view.local.getVideoTracks()[0];
    track.enabled = kind === "audioinput" ? !view.muted : !view.cameraOff;
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === track.kind);
    await sender?.replaceTrack(track);
    const local = new MediaStream([...view.local.getTracks().filter((t) => t !== old), track]);
    old?.stop();
    this.set({ ...view, local });
  }

  dismiss(): void {
    if (this.view?.phase === "ended") this.set(null);
  }

  // --- events ------------------------------------------------------------------

  private async onEvent(event: CallEvent): Promise<void> {
    const view = this.view;
    if (event.action === "ring") {
      if (event.fromMe || event.state !== "ringing") return;
      if (view && view.phase !== "ended") {
        await this.client.declineCall(event.callId, { busy: true });
        return;
      }
      this.set({
        callId: event.callId,
        groupId: event.groupId,
        peerUserId: event.fromUserId,
        direction: "incoming",
        media: event.media,
        phase: "ringing",
        note: null,
        local: null,
        remote: null,
        bytesReceived: 0,
        verified: false,
        muted: false,
        cameraOff: false,
      });
      return;
    }
    if (!view || event.callId !== view.callId) return;
    switch (event.action) {
      case "accept":
        if (event.fromMe) {
          // Another device of this user answered: stop ringing here.
          if (view.phase === "ringing") this.end("Answered on another device");
          return;
        }
        if (view.direction === "outgoing") await this.offer(view);
        return;
      case "decline":
      case "busy":
      case "cancel":
      case "hangup":
      case "missed":
        if (event.fromMe && event.action === "decline" && view.phase === "ringing") {
          this.end("Declined on another device");
          return;
        }
        this.end(
          event.action === "busy"
            ? "Busy"
            : event.action === "decline"
              ? "Declined"
              : event.action === "hangup"
                ? "Call ended"
                : "Missed call",
        );
        return;
      case "offer":
        if (view.direction === "incoming" && view.phase === "connecting") {
          await this.answer(view, event.sdp, event.fingerprints);
        }
        return;
      case "answer":
        if (view.direction === "outgoing" && this.pc) {
          this.expected = event.fingerprints;
          await this.pc.setRemoteDescription({ type: "answer", sdp: event.sdp });
          await this.flushIce();
        }
        return;
      case "ice":
        if (!this.pc?.remoteDescription) {
          this.pendingIce.push(iceOf(event));
          return;
        }
        await this.pc.addIceCandidate(iceOf(event));
        return;
    }
  }

  private async offer(view: CallView): Promise<void> {
    this.set({ ...view, phase: "connecting" });
    const pc = await this.connection(view);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await this.client.sendCallSignal(view.callId, {
      action: "offer",
      sdp: offer.sdp ?? "",
      fingerprints: fingerprintsOf(offer.sdp ?? ""),
    });
  }

  private async answer(
    view: CallView,
    sdp: string,
    fingerprints: CallFingerprint[],
  ): Promise<void> {
    const pc = await this.connection(view);
    this.expected = fingerprints;
    await pc.setRemoteDescription({ type: "offer", sdp });
    await this.flushIce();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.client.sendCallSignal(view.callId, {
      action: "answer",
      sdp: answer.sdp ?? "",
      fingerprints: fingerprintsOf(answer.sdp ?? ""),
    });
  }

  private async connection(view: CallView): Promise<RTCPeerConnection> {
    // STUN and TURN as the server hands them out (none: direct connections only).
    const iceServers = await this.client.iceServers().catch(() => []);
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    for (const track of view.local?.getTracks() ?? [])
      pc.addTrack(track, view.local as MediaStream);
    const remote = new MediaStream();
    pc.ontrack = (e) => {
      remote.addTrack(e.track);
      if (this.view) this.set({ ...this.view, remote });
    };
    pc.onicecandidate = (e) => {
      if (!e.candidate || !this.view) return;
      void this.client
        .sendCallSignal(this.view.callId, {
          action: "ice",
          candidate: e.candidate.candidate,
          sdpMid: e.candidate.sdpMid,
          sdpMLineIndex: e.candidate.sdpMLineIndex,
        })
        .catch(() => undefined);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") void this.verify(pc).catch((e) => this.fail(e));
      if (pc.connectionState === "failed") this.fail(new Error("The connection failed."));
    };
    return pc;
  }

  /** The DTLS certificate the peer presents must be the one it announced inside MLS. */
  private async verify(pc: RTCPeerConnection): Promise<void> {
    const transport = pc.getSenders().find((s) => s.transport)?.transport;
    const certificates = transport?.getRemoteCertificates?.() ?? [];
    const seen = await Promise.all(
      certificates.map(async (der) => hex(await crypto.subtle.digest("SHA-256", der))),
    );
    const announced = this.expected
      .filter((f) => f.algorithm === "sha-256")
      .map((f) => f.value.toUpperCase());
    const ok = seen.length > 0 && seen.some((fp) => announced.includes(fp));
    if (!ok) {
      if (this.view) await this.client.hangUp(this.view.callId).catch(() => undefined);
      this.end("Hung up: the connection's security check failed (someone may be in the middle).");
      return;
    }
    if (this.view) this.set({ ...this.view, phase: "active", verified: true });
    this.statsTimer ??= setInterval(() => void this.readStats(pc), 1000);
  }

  private async readStats(pc: RTCPeerConnection): Promise<void> {
    let bytes = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp") bytes += Number(report.bytesReceived ?? 0);
    });
    if (this.view && this.view.phase === "active") this.set({ ...this.view, bytesReceived: bytes });
  }

  private async flushIce(): Promise<void> {
    const queued = this.pendingIce.splice(0);
    for (const candidate of queued) await this.pc?.addIceCandidate(candidate);
  }

  private async localMedia(media: CallMedia): Promise<MediaStream> {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: media === "video" });
    } catch (error) {
      const name = (error as { name?: string }).name;
      const what = media === "video" ? "microphone and camera" : "microphone";
      throw new Error(
        name === "NotAllowedError"
          ? `Veil may not use your ${what}. Allow it in the browser's settings for this site, then call again.`
          : name === "NotFoundError" || name === "OverconstrainedError"
            ? `No ${what} found. Connect one, then call again.`
            : `Your ${what} could not be started (${name ?? "unknown error"}).`,
      );
    }
  }

  private end(note: string): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.pc?.close();
    this.pc = null;
    this.pendingIce = [];
    this.expected = [];
    const view = this.view;
    for (const track of view?.local?.getTracks() ?? []) track.stop();
    if (view) this.set({ ...view, phase: "ended", note, local: null, remote: null });
  }

  private fail(error: unknown): void {
    this.end(error instanceof Error ? error.message : String(error));
  }

  private set(view: CallView | null): void {
    this.view = view;
    for (const listener of this.listeners) listener();
  }
}

function iceOf(event: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }) {
  return { candidate: event.candidate, sdpMid: event.sdpMid, sdpMLineIndex: event.sdpMLineIndex };
}

/** The `a=fingerprint:` lines of an SDP: this side's DTLS certificate fingerprints. */
export function fingerprintsOf(sdp: string): CallFingerprint[] {
  const found = new Map<string, CallFingerprint>();
  for (const match of sdp.matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) {
    const algorithm = (match[1] ?? "").toLowerCase();
    const value = (match[2] ?? "").toUpperCase();
    found.set(`${algorithm} ${value}`, { algorithm, value });
  }
  return [...found.values()].slice(0, 8);
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)]
    .map((b) => b.toString(16).padStart(2, "0").toUpperCase())
    .join(":");
}
