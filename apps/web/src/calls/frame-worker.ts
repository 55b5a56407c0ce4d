// The worker behind every RTCRtpScriptTransform of a call: it seals each
// outgoing media frame and opens each incoming one with the call's frame keys
// (frame-crypto.ts). Frames that no key opens are dropped, never played.

import { clearBytes, FrameCipher } from "./frame-crypto.js";

/** What the page tells the worker. */
export type ToFrameWorker =
  | { type: "init"; me: string }
  | { type: "key"; epoch: number; secret: Uint8Array }
  /** A sender's or receiver's frames, as Chromium's encoded streams hand them over. */
  | {
      type: "streams";
      readable: ReadableStream;
      writable: WritableStream;
      options: TransformOptions;
    };

/** What the worker tells the page, about once a second while media flows. */
export interface FrameStats {
  type: "stats";
  epoch: number | null;
  /** Per other device: frames sealed for it, and frames from it opened or dropped. */
  peers: Record<string, { sealed: number; opened: number; dropped: number }>;
}

/** What the page passes to each RTCRtpScriptTransform it makes. */
export interface TransformOptions {
  side: "send" | "receive";
  peer: string;
  kind: "audio" | "video";
}

// The worker-side shapes this file needs (lib.dom and lib.webworker do not mix).
interface EncodedFrame {
  data: ArrayBuffer;
  type?: "key" | "delta" | "empty";
}
interface Transformer {
  readable: ReadableStream<EncodedFrame>;
  writable: WritableStream<EncodedFrame>;
  options: TransformOptions;
}
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToFrameWorker>) => void) | null;
  onrtctransform: ((event: { transformer: Transformer }) => void) | null;
  postMessage(message: FrameStats): void;
}

const scope = self as unknown as WorkerScope;
let cipher: FrameCipher | null = null;
const peers = new Map<string, FrameStats["peers"][string]>();
let dirty = false;

const statsOf = (peer: string) => {
  let stats = peers.get(peer);
  if (!stats) {
    stats = { sealed: 0, opened: 0, dropped: 0 };
    peers.set(peer, stats);
  }
  return stats;
};

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "init") cipher = new FrameCipher(message.me);
  else if (message.type === "key") void cipher?.setKey(message.epoch, message.secret);
  else pipe(message);
};

// The standard path (RTCRtpScriptTransform), where the browser has it.
scope.onrtctransform = (event) => pipe(event.transformer);

/** Seals or opens every frame between a sender's or receiver's two streams. */
function pipe({ readable, writable, options }: Transformer): void {
  const stats = statsOf(options.peer);
  const transform = new TransformStream<EncodedFrame, EncodedFrame>({
    async transform(frame, controller) {
      if (!cipher) return;
      const clear = clearBytes(options.kind, frame.type === "key");
      const out =
        options.side === "send"
          ? await cipher.seal(frame.data, clear)
          : await cipher.open(frame.data, clear, options.peer);
      dirty = true;
      if (!out) {
        if (options.side === "receive") stats.dropped++;
        return;
      }
      if (options.side === "send") stats.sealed++;
      else stats.opened++;
      frame.data = out;
      controller.enqueue(frame);
    },
  });
  void readable.pipeThrough(transform).pipeTo(writable);
}

setInterval(() => {
  if (!dirty) return;
  dirty = false;
  scope.postMessage({
    type: "stats",
    epoch: cipher?.epoch ?? null,
    peers: Object.fromEntries(peers),
  });
}, 500);
