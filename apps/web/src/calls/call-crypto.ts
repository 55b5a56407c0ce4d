import type { CallMediaKey, VeilClient } from "@veil/sdk";
import { FrameCipher } from "./frame-crypto.js";
import type { FrameStats, ToFrameWorker, TransformOptions } from "./frame-worker.js";

/** A frame sealed on the page (never sent): lets a test check who can open what. */
export interface FrameProbe {
  sender: string;
  frame: number[];
}

/** Frame keys held, as raw secrets: what a device keeps if it is removed from the chat. */
export type HeldKeys = { epoch: number; secret: number[] }[];

const probeBytes = new TextEncoder().encode("veil frame probe: a media frame stand-in");

/**
 * How frames reach the worker. Chromium's encoded streams (`createEncodedStreams`)
 * where they exist: its RTCRtpScriptTransform skips the receiver of a sendrecv
 * transceiver (w3c/webrtc-encoded-transform#314), and an unopened frame must
 * never reach the decoder. Elsewhere (Firefox, Safari) the standard transform.
 */
type FramePath = "encoded-streams" | "script-transform";

function framePath(): FramePath | null {
  if (typeof RTCRtpSender !== "undefined" && "createEncodedStreams" in RTCRtpSender.prototype) {
    return "encoded-streams";
  }
  return typeof RTCRtpScriptTransform !== "undefined" ? "script-transform" : null;
}

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}

/**
 * The end-to-end encryption of one call's media frames: a worker seals and
 * opens every frame, with keys from the chat's MLS exporter. `refresh` after
 * any change of the chat's members: the epoch moves on, and so does the key.
 */
export class CallCrypto {
  private readonly worker: Worker;
  private readonly held: CallMediaKey[] = [];
  /** Mirrors the worker's keys for probes, as another sender id so IVs never collide. */
  private readonly probes: FrameCipher;

  /** Browsers without encoded transforms cannot keep media sealed end to end. */
  static supported(): boolean {
    return framePath() !== null;
  }

  private readonly path = framePath();

  /** What each RTCPeerConnection of the call needs to hand its frames over. */
  connectionOptions(): RTCConfiguration {
    return this.path === "encoded-streams"
      ? ({ encodedInsertableStreams: true } as RTCConfiguration)
      : {};
  }

  constructor(
    private readonly client: VeilClient,
    private readonly callId: string,
    onStats: (stats: FrameStats) => void,
  ) {
    this.worker = new Worker(new URL("./frame-worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (event: MessageEvent<FrameStats>) => onStats(event.data);
    this.post({ type: "init", me: client.deviceId as string });
    this.probes = new FrameCipher(probeSender(client.deviceId as string));
  }

  get epoch(): number | null {
    return this.held.at(-1)?.epoch ?? null;
  }

  /** Takes the chat's key at its current epoch; frames are sealed with it from now on. */
  async refresh(): Promise<void> {
    const key = await this.client.callMediaKey(this.callId);
    if (this.epoch !== null && key.epoch <= this.epoch) return;
    this.held.push(key);
    this.held.splice(0, Math.max(0, this.held.length - 3));
    this.post({ type: "key", epoch: key.epoch, secret: key.secret });
    await this.probes.setKey(key.epoch, key.secret);
  }

  protect(
    endpoint: RTCRtpSender | RTCRtpReceiver,
    side: TransformOptions["side"],
    peer: string,
    kind: string,
  ): void {
    const options: TransformOptions = { side, peer, kind: kind === "video" ? "video" : "audio" };
    if (this.path === "script-transform") {
      endpoint.transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const { readable, writable } = (
      endpoint as unknown as { createEncodedStreams(): EncodedStreams }
    ).createEncodedStreams();
    this.post({ type: "streams", readable, writable, options }, [readable, writable]);
  }

  close(): void {
    this.worker.terminate();
    this.held.length = 0;
    this.probes.clear();
  }

  // --- for tests: sealed probes and the keys held -----------------------------

  async probe(): Promise<FrameProbe> {
    const sealed = await this.probes.seal(probeBytes.slice().buffer, 1);
    if (!sealed) throw new Error("No frame key yet");
    return {
      sender: probeSender(this.client.deviceId as string),
      frame: [...new Uint8Array(sealed)],
    };
  }

  keys(): HeldKeys {
    return this.held.map((k) => ({ epoch: k.epoch, secret: [...k.secret] }));
  }

  private post(message: ToFrameWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}

const probeSender = (deviceId: string) => `${deviceId}#probe`;

/** Whether these keys open a probe: what a device could read of frames sealed like it. */
export async function probeOpens(probe: FrameProbe, keys: HeldKeys): Promise<boolean> {
  const cipher = new FrameCipher("reader");
  for (const key of keys) await cipher.setKey(key.epoch, new Uint8Array(key.secret));
  const opened = await cipher.open(new Uint8Array(probe.frame).buffer, 1, probe.sender);
  return opened !== null && new Uint8Array(opened).every((b, i) => b === probeBytes[i]);
}
