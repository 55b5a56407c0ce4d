import type { CallFingerprint, IceServer, VeilClient } from "@veil/sdk";
import type { CallCrypto } from "./call-crypto.js";

/** What a link reports to its call. */
export interface PeerLinkHost {
  client: VeilClient;
  callId: string;
  crypto: CallCrypto;
  iceServers: IceServer[];
  local: MediaStream | null;
  changed(): void;
  /** The link is over: the peer left, the connection failed, or its check failed. */
  gone(link: PeerLink, reason: "closed" | "failed" | "mismatch"): void;
}

/**
 * The media connection to one other device of a call. Offer, answer and ICE
 * travel inside the chat's MLS group, addressed to that device; once
 * connected, the DTLS certificate it presents must be the one whose
 * fingerprint it sent end to end, or the link is dropped. Every frame is
 * sealed and opened by the call's frame keys on top.
 */
export class PeerLink {
  readonly stream = new MediaStream();
  bytesReceived = 0;
  verified = false;
  private readonly pc: RTCPeerConnection;
  private expected: CallFingerprint[] = [];
  private pendingIce: RTCIceCandidateInit[] = [];
  private closed = false;

  constructor(
    private readonly host: PeerLinkHost,
    readonly deviceId: string,
    readonly userId: string | null,
  ) {
    const pc = new RTCPeerConnection({
      iceServers: host.iceServers,
      ...host.crypto.connectionOptions(),
    });
    this.pc = pc;
    for (const track of host.local?.getTracks() ?? []) {
      const sender = pc.addTrack(track, host.local as MediaStream);
      host.crypto.protect(sender, "send", deviceId, track.kind);
    }
    pc.ontrack = (e) => {
      host.crypto.protect(e.receiver, "receive", deviceId, e.track.kind);
      this.stream.addTrack(e.track);
      host.changed();
    };
    pc.onicecandidate = (e) => {
      if (!e.candidate || this.closed) return;
      void host.client
        .sendCallSignal(host.callId, {
          action: "ice",
          to: deviceId,
          candidate: e.candidate.candidate,
          sdpMid: e.candidate.sdpMid,
          sdpMLineIndex: e.candidate.sdpMLineIndex,
        })
        .catch(() => undefined);
    };
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      const state = pc.connectionState;
      if (state === "connected") void this.verify();
      if (state === "failed" || state === "closed") host.gone(this, state);
    };
  }

  /** This side starts the negotiation (the lower device id of the pair does). */
  async offer(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    await this.host.client.sendCallSignal(this.host.callId, {
      action: "offer",
      to: this.deviceId,
      sdp: offer.sdp ?? "",
      fingerprints: fingerprintsOf(offer.sdp ?? ""),
    });
  }

  async takeOffer(sdp: string, fingerprints: CallFingerprint[]): Promise<void> {
    this.expected = fingerprints;
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    await this.flushIce();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await this.host.client.sendCallSignal(this.host.callId, {
      action: "answer",
      to: this.deviceId,
      sdp: answer.sdp ?? "",
      fingerprints: fingerprintsOf(answer.sdp ?? ""),
    });
  }

  async takeAnswer(sdp: string, fingerprints: CallFingerprint[]): Promise<void> {
    this.expected = fingerprints;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    await this.flushIce();
  }

  async takeIce(candidate: RTCIceCandidateInit): Promise<void> {
    if (!this.pc.remoteDescription) {
      this.pendingIce.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate);
  }

  /** Moves a new microphone or camera track onto the connection without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === track.kind);
    await sender?.replaceTrack(track);
  }

  async readStats(): Promise<void> {
    let bytes = 0;
    (await this.pc.getStats()).forEach((report) => {
      if (report.type === "inbound-rtp") bytes += Number(report.bytesReceived ?? 0);
    });
    this.bytesReceived = bytes;
  }

  close(): void {
    this.closed = true;
    this.pc.close();
    for (const track of this.stream.getTracks()) track.stop();
  }

  /** The DTLS certificate the peer presents must be the one it announced inside MLS. */
  private async verify(): Promise<void> {
    const transport = this.pc.getSenders().find((s) => s.transport)?.transport;
    const certificates = transport?.getRemoteCertificates?.() ?? [];
    const seen = await Promise.all(
      certificates.map(async (der) => hex(await crypto.subtle.digest("SHA-256", der))),
    );
    const announced = this.expected
      .filter((f) => f.algorithm === "sha-256")
      .map((f) => f.value.toUpperCase());
    if (this.closed) return;
    if (seen.length === 0 || !seen.some((fp) => announced.includes(fp))) {
      this.host.gone(this, "mismatch");
      return;
    }
    this.verified = true;
    this.host.changed();
  }

  private async flushIce(): Promise<void> {
    for (const candidate of this.pendingIce.splice(0)) await this.pc.addIceCandidate(candidate);
  }
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
