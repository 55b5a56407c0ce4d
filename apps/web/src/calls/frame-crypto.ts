// Per-frame end-to-end encryption of call media, in the spirit of SFrame
// (RFC 9605): DTLS-SRTP protects each hop, but these frames stay sealed from
// sender to every receiver, keyed from the chat's MLS exporter. A frame is
//
//   [header left in the clear][AES-GCM ciphertext + tag][IV: 12][key id: 1]
//
// The clear header lets the codec's packetizer find what it needs; it is
// authenticated as associated data, with the IV and key id.

const encoder = new TextEncoder();
const keyLabel = "veil call frame key v1";
const trailerLength = 13;
/** How many epochs' keys a receiver keeps: frames sent just before a rekey still open. */
const keptEpochs = 3;

/** Bytes left in the clear at a frame's start (VP8 and Opus payload headers). */
export function clearBytes(kind: "audio" | "video", keyFrame: boolean): number {
  if (kind === "audio") return 1;
  return keyFrame ? 10 : 3;
}

/** The key id carried in each frame: the epoch's low byte (only the last few epochs are kept). */
const keyIdOf = (epoch: number): number => epoch & 0xff;

interface EpochKeys {
  epoch: number;
  base: CryptoKey;
  /** AES-GCM keys per sending device, derived on first use. */
  senders: Map<string, Promise<CryptoKey>>;
}

/**
 * One device's frame keys: the current epoch's for sending, the last few for
 * receiving. Each sending device has its own key (HKDF of the epoch's secret
 * and its device id), and each frame a fresh IV: a random prefix per key and
 * a counter, so IVs never repeat even across reloads.
 */
export class FrameCipher {
  private readonly epochs = new Map<number, EpochKeys>();
  private current: EpochKeys | null = null;
  private prefix = new Uint8Array(4);
  private counter = 0n;

  constructor(private readonly me: string) {}

  /** The epoch frames are sealed with now (null before the first key). */
  get epoch(): number | null {
    return this.current?.epoch ?? null;
  }

  /** Takes a new epoch's secret (32 bytes from the MLS exporter); sealing switches to it at once. */
  async setKey(epoch: number, secret: Uint8Array): Promise<void> {
    if (this.current && epoch <= this.current.epoch) return;
    const base = await crypto.subtle.importKey("raw", exact(secret), "HKDF", false, ["deriveKey"]);
    const keys: EpochKeys = { epoch, base, senders: new Map() };
    this.epochs.set(keyIdOf(epoch), keys);
    this.current = keys;
    this.prefix = crypto.getRandomValues(new Uint8Array(4));
    this.counter = 0n;
    const old = [...this.epochs.values()].sort((a, b) => b.epoch - a.epoch).slice(keptEpochs);
    for (const gone of old) this.epochs.delete(keyIdOf(gone.epoch));
  }

  /** Forgets every key (the call ended). */
  clear(): void {
    this.epochs.clear();
    this.current = null;
  }

  /** Seals a frame from this device; null before there is a key (nothing leaves unsealed). */
  async seal(data: ArrayBuffer, clear: number): Promise<ArrayBuffer | null> {
    const keys = this.current;
    if (!keys) return null;
    const bytes = new Uint8Array(data);
    const head = bytes.subarray(0, Math.min(clear, bytes.length));
    const trailer = new Uint8Array(trailerLength);
    trailer.set(this.prefix, 0);
    new DataView(trailer.buffer).setBigUint64(4, this.counter);
    this.counter += 1n;
    trailer[12] = keyIdOf(keys.epoch);
    const iv = trailer.subarray(0, 12);
    const key = await this.senderKey(keys, this.me);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: concat(head, trailer) },
      key,
      bytes.subarray(head.length),
    );
    return concat(head, new Uint8Array(sealed), trailer).buffer as ArrayBuffer;
  }

  /** Opens a frame from `sender`; null when no kept key opens it (removed, or never had it). */
  async open(data: ArrayBuffer, clear: number, sender: string): Promise<ArrayBuffer | null> {
    const bytes = new Uint8Array(data);
    const headLength = Math.min(clear, bytes.length - trailerLength - 16);
    if (headLength < 0) return null;
    const trailer = bytes.subarray(bytes.length - trailerLength);
    const keys = this.epochs.get(trailer[12] ?? -1);
    if (!keys) return null;
    const head = bytes.subarray(0, headLength);
    try {
      const opened = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: trailer.subarray(0, 12), additionalData: concat(head, trailer) },
        await this.senderKey(keys, sender),
        bytes.subarray(headLength, bytes.length - trailerLength),
      );
      return concat(head, new Uint8Array(opened)).buffer as ArrayBuffer;
    } catch {
      return null;
    }
  }

  private senderKey(keys: EpochKeys, sender: string): Promise<CryptoKey> {
    let key = keys.senders.get(sender);
    if (!key) {
      key = crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(0),
          info: encoder.encode(`${keyLabel}\u0000${sender}`),
        },
        keys.base,
        { name: "AES-GCM", length: 128 },
        false,
        ["encrypt", "decrypt"],
      );
      keys.senders.set(sender, key);
    }
    return key;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function exact(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
