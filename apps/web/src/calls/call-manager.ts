import type {
  CallEvent,
  CallMedia,
  IceServer,
  Member,
  MembershipEvent,
  VeilClient,
} from "@veil/sdk";
import { CallCrypto, type FrameProbe, type HeldKeys, probeOpens } from "./call-crypto.js";
import type { FrameStats } from "./frame-worker.js";
import { PeerLink } from "./peer-link.js";

export type CallPhase = "ringing" | "connecting" | "active" | "ended";

/** One other device in the call, as the screen shows it. */
export interface PeerView {
  deviceId: string;
  userId: string | null;
  stream: MediaStream;
  /** Bytes of media received from it so far (WebRTC stats). */
  bytesReceived: number;
  /** Its DTLS certificate matched the fingerprint it sent inside the encrypted chat. */
  verified: boolean;
  /** Media frames from it opened with the call's keys, and those no key opened (dropped). */
  framesOpened: number;
  framesDropped: number;
}

/** The one call this browser is in, or rings for, as the screen shows it. */
export interface CallView {
  callId: string;
  groupId: string;
  /** The other person of a 1:1 call; the caller of a group call. */
  peerUserId: string | null;
  group: boolean;
  direction: "outgoing" | "incoming";
  media: CallMedia;
  phase: CallPhase;
  /** Why it ended, or what went wrong, in words. */
  note: string | null;
  local: MediaStream | null;
  peers: PeerView[];
  /** The MLS epoch whose key seals this call's media frames now. */
  keyEpoch: number | null;
  muted: boolean;
  cameraOff: boolean;
}

/**
 * Calls over WebRTC, 1:1 or a group mesh of up to 8, signalled through the
 * SDK inside the chat's MLS group: the server relays ciphertext only. Each
 * pair of devices has its own connection (PeerLink), checked against the
 * DTLS fingerprints sent end to end, and every media frame is sealed with a
 * key from the chat's MLS exporter (CallCrypto), renewed whenever the chat's
 * members change: a removed member cannot open what is sent after.
 */
export class CallManager {
  private view: CallView | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly links = new Map<string, PeerLink>();
  private frames = new Map<string, FrameStats["peers"][string]>();
  private crypto: CallCrypto | null = null;
  /** STUN and TURN as the server hands them out (none: direct connections only). */
  private iceServers: IceServer[] = [];
  private statsTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly client: VeilClient) {}

  /** Starts following the client's call and membership events; returns the function that stops it. */
  listen(): () => void {
    const offCall = this.client.on("call", (event) => this.guard(this.onCall(event)));
    const offMembers = this.client.on("membership", (event) =>
      this.guard(this.onMembership(event)),
    );
    return () => {
      offCall();
      offMembers();
    };
  }

  get current(): CallView | null {
    return this.view;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rings the chat: a 1:1 call with `peerUserId`, or a group call (`group`). */
  async start(
    groupId: string,
    peerUserId: string | null,
    media: CallMedia,
    group = false,
  ): Promise<void> {
    if (this.view && this.view.phase !== "ended") throw new Error("You are already in a call.");
    requireFrameEncryption();
    const local = await localMedia(media);
    try {
      const callId = await this.client.startCall(groupId, { media });
      this.set({
        ...blank(callId, groupId, media),
        peerUserId,
        group,
        direction: "outgoing",
        local,
      });
      await this.join(callId);
    } catch (error) {
      for (const track of local.getTracks()) track.stop();
      throw error;
    }
  }

  async accept(): Promise<void> {
    const view = this.view;
    if (view?.direction !== "incoming" || view.phase !== "ringing") return;
    requireFrameEncryption();
    const local = await localMedia(view.media);
    this.set({ ...view, local, phase: "connecting" });
    try {
      // Keys before the answer: offers may follow it at once.
      await this.join(view.callId);
      await this.client.acceptCall(view.callId);
    } catch (error) {
      this.end(view.group ? "You could not join the call." : "The call could not be answered.");
      throw error;
    }
    await this.reconcile(await this.client.callParticipants(view.callId));
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
    this.end(view.group ? "You left the call" : "Call ended");
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
   * replaces the old one on every connection, without renegotiating.
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
    for (const link of this.links.values()) await link.replaceTrack(track);
    const local = new MediaStream([...view.local.getTracks().filter((t) => t !== old), track]);
    old?.stop();
    this.set({ ...view, local });
  }

  dismiss(): void {
    if (this.view?.phase === "ended") this.set(null);
  }

  // --- for tests (see debugCalls in use-calls.ts) ----------------------------

  probe(): Promise<FrameProbe> {
    if (!this.crypto) throw new Error("Not in a call");
    return this.crypto.probe();
  }

  heldKeys(): HeldKeys {
    return this.crypto?.keys() ?? [];
  }

  /** Whether these keys (by default, the ones this call holds now) open a probe. */
  opens(probe: FrameProbe, keys: HeldKeys = this.heldKeys()): Promise<boolean> {
    return probeOpens(probe, keys);
  }

  // --- events ------------------------------------------------------------------

  private async onCall(event: CallEvent): Promise<void> {
    const view = this.view;
    if (event.action === "ring") {
      if (event.fromMe || event.state !== "ringing") return;
      if (view && view.phase !== "ended") {
        await this.client.declineCall(event.callId, { busy: true });
        return;
      }
      this.set({
        ...blank(event.callId, event.groupId, event.media),
        peerUserId: event.fromUserId,
        group: event.group === true,
        direction: "incoming",
      });
      return;
    }
    if (!view || event.callId !== view.callId || view.phase === "ended") return;
    switch (event.action) {
      case "accept":
        if (event.fromMe && view.phase === "ringing" && view.direction === "incoming") {
          // Another device of this user answered: stop ringing here.
          this.end("Answered on another device");
          return;
        }
        if (view.phase !== "ringing" || view.direction === "outgoing") {
          await this.reconcile(event.participants);
        }
        return;
      case "decline":
      case "busy":
      case "cancel":
      case "missed":
        if (event.state !== "ended") return; // in a group, one callee's "no" ends nothing
        if (event.fromMe && event.action === "decline") this.end("Declined on another device");
        else if (event.action === "busy") this.end("Busy");
        else if (event.action === "decline") this.end("Declined");
        else this.end("Missed call");
        return;
      case "hangup":
        if (event.state === "ended")
          this.end(view.phase === "ringing" ? "Missed call" : "Call ended");
        else if (view.phase !== "ringing") await this.reconcile(event.participants);
        return;
      case "offer":
        if (view.phase === "ringing" || !this.crypto) return;
        await this.link(event.fromDeviceId, event.fromUserId).takeOffer(
          event.sdp,
          event.fingerprints,
        );
        return;
      case "answer":
        await this.links.get(event.fromDeviceId)?.takeAnswer(event.sdp, event.fingerprints);
        return;
      case "ice":
        await this.links.get(event.fromDeviceId)?.takeIce({
          candidate: event.candidate,
          sdpMid: event.sdpMid,
          sdpMLineIndex: event.sdpMLineIndex,
        });
        return;
    }
  }

  /** A commit changed the chat's members: a new key, and the removed devices dropped. */
  private async onMembership(event: MembershipEvent): Promise<void> {
    const view = this.view;
    if (!view || view.groupId !== event.groupId || view.phase === "ended") return;
    if (event.change === "left") {
      this.end("You are no longer in this group, so you left the call.");
      return;
    }
    if (event.change === "members-removed") {
      for (const member of event.members) this.drop(member.deviceId);
    }
    if (this.crypto) await this.crypto.refresh();
    this.refreshView();
  }

  // --- the mesh ------------------------------------------------------------------

  /** Takes part in a call: frame keys first, so no frame ever leaves unsealed. */
  private async join(callId: string): Promise<void> {
    const crypto = new CallCrypto(this.client, callId, (stats) => {
      this.frames = new Map(Object.entries(stats.peers));
      this.refreshView();
    });
    this.crypto = crypto;
    this.iceServers = await this.client.iceServers().catch(() => []);
    await crypto.refresh();
    this.statsTimer ??= setInterval(() => void this.readStats(), 1000);
    this.refreshView();
  }

  /**
   * Brings the connections in line with the call's participants: a link to
   * each (the lower device id of a pair offers, so two never cross), none to
   * those who left. Alone after others had come, the call is over.
   */
  private async reconcile(participants: Member[]): Promise<void> {
    const view = this.view;
    if (!view || view.phase === "ended" || !this.crypto) return;
    const me = this.client.deviceId as string;
    const others = participants.filter((p) => p.deviceId !== me);
    for (const deviceId of this.links.keys()) {
      if (!others.some((p) => p.deviceId === deviceId)) this.drop(deviceId);
    }
    const fresh = others.filter((p) => !this.links.has(p.deviceId));
    for (const other of fresh) {
      const link = this.link(other.deviceId, other.userId);
      if (me < other.deviceId) await link.offer();
    }
    if (view.phase === "ringing" && others.length > 0) this.set({ ...view, phase: "connecting" });
    this.refreshView();
  }

  private link(deviceId: string, userId: string | null): PeerLink {
    let link = this.links.get(deviceId);
    if (!link) {
      const view = this.view as CallView;
      link = new PeerLink(
        {
          client: this.client,
          callId: view.callId,
          crypto: this.crypto as CallCrypto,
          iceServers: this.iceServers,
          local: view.local,
          changed: () => this.refreshView(),
          gone: (gone, reason) => {
            if (reason === "mismatch") {
              this.fail(
                "Hung up: the connection's security check failed (someone may be in the middle).",
              );
              void this.client.hangUp(view.callId).catch(() => undefined);
              return;
            }
            this.drop(gone.deviceId);
            // Every connection lost: leave, so the others stop waiting for this device.
            if (this.links.size === 0 && this.view?.phase === "active") void this.hangUp();
          },
        },
        deviceId,
        userId,
      );
      this.links.set(deviceId, link);
    }
    return link;
  }

  private drop(deviceId: string): void {
    this.links.get(deviceId)?.close();
    this.links.delete(deviceId);
    this.refreshView();
  }

  private async readStats(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.readStats().catch(() => undefined)));
    this.refreshView();
  }

  /** Recomputes the peers' part of the view from the links and the frame counts. */
  private refreshView(): void {
    const view = this.view;
    if (!view || view.phase === "ended") return;
    const peers = [...this.links.values()].map((link) => {
      const frames = this.frames.get(link.deviceId);
      return {
        deviceId: link.deviceId,
        userId: link.userId,
        stream: link.stream,
        bytesReceived: link.bytesReceived,
        verified: link.verified,
        framesOpened: frames?.opened ?? 0,
        framesDropped: frames?.dropped ?? 0,
      };
    });
    const phase = peers.some((p) => p.verified) ? "active" : view.phase;
    this.set({ ...view, peers, phase, keyEpoch: this.crypto?.epoch ?? null });
  }

  private end(note: string): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.crypto?.close();
    this.crypto = null;
    this.frames = new Map();
    const view = this.view;
    for (const track of view?.local?.getTracks() ?? []) track.stop();
    if (view) this.set({ ...view, phase: "ended", note, local: null, peers: [] });
  }

  private fail(error: unknown): void {
    this.end(error instanceof Error ? error.message : String(error));
  }

  private guard(work: Promise<void>): void {
    work.catch((error: unknown) => this.fail(error));
  }

  private set(view: CallView | null): void {
    this.view = view;
    for (const listener of this.listeners) listener();
  }
}

function blank(callId: string, groupId: string, media: CallMedia): CallView {
  return {
    callId,
    groupId,
    peerUserId: null,
    group: false,
    direction: "outgoing",
    media,
    phase: "ringing",
    note: null,
    local: null,
    peers: [],
    keyEpoch: null,
    muted: false,
    cameraOff: false,
  };
}

function requireFrameEncryption(): void {
  if (!CallCrypto.supported()) {
    throw new Error(
      "This browser cannot encrypt call media end to end. Use a recent Chrome, Edge, Firefox or Safari.",
    );
  }
}

async function localMedia(media: CallMedia): Promise<MediaStream> {
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
