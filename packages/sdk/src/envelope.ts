import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { fromUtf8, utf8 } from "./encoding.js";

/**
 * The plaintext of every MLS application message Veil clients send: a small
 * versioned JSON object. `id` is also the message id the server de-duplicates
 * on; `ts` is the sender's clock in milliseconds. Unknown fields are ignored
 * and unknown types are skipped, so a newer client can add both.
 *
 *   {"v":1,"type":"text","id":"m_…","ts":…,"text":"hi","replyTo":"m_…"}
 *   {"v":1,"type":"attachment","id":"m_…","ts":…,"attachment":{…},"caption":"…"}
 *   {"v":1,"type":"reaction","id":"m_…","ts":…,"target":"m_…","emoji":"👍"}
 *   {"v":1,"type":"receipt","id":"m_…","ts":…,"status":"delivered","messageIds":["m_…"]}
 *   {"v":1,"type":"typing","id":"m_…","ts":…,"typing":true}
 *   {"v":1,"type":"call","id":"m_…","ts":…,"callId":"c_…","action":"ring","media":"video"}
 *   {"v":1,"type":"call","id":"m_…","ts":…,"callId":"c_…","action":"offer","sdp":"…","fingerprints":[…]}
 *
 * Call actions ring, accept, decline, busy, cancel and hangup are stored in
 * the chat's log; offer, answer and ice travel as ephemeral signals only.
 * Call envelopes are strict: an unknown field makes one invalid.
 *
 * In a key channel (admin and member of a community, never shown as a chat):
 *
 *   {"v":1,"type":"sender_key","id":"m_…","ts":…,"announcementGroupId":"g_…","distribution":"…"}
 *   {"v":1,"type":"reaction","id":"m_…","ts":…,"target":"m_…","emoji":"👍","announcementGroupId":"g_…"}
 *
 * In an announcement group (sender-key encrypted), besides text and attachments:
 *
 *   {"v":1,"type":"reaction_counts","id":"m_…","ts":…,"target":"m_…","counts":{"👍":3}}
 */
export const envelopeVersion = 1;

const MessageId = Type.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const B64 = (min: number, max: number) =>
  Type.String({ minLength: min, maxLength: max, pattern: "^[A-Za-z0-9_-]+$" });
const GroupId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Emoji = Type.String({ maxLength: 32 });
const Base = {
  v: Type.Literal(envelopeVersion),
  id: MessageId,
  ts: Type.Integer({ minimum: 0 }),
};

/** An encrypted attachment: where it is, and what opens and checks it. */
export const AttachmentRef = Type.Object({
  /** The server's blob id (base64url SHA-256 of the ciphertext). */
  blobId: B64(43, 43),
  /** AES-256-GCM key, base64url (32 bytes). */
  key: B64(43, 43),
  /** AES-GCM nonce, base64url (12 bytes). */
  nonce: B64(16, 16),
  /** Size of the ciphertext in bytes (the plaintext plus a 16-byte tag). */
  size: Type.Integer({ minimum: 16 }),
  /** base64url SHA-256 of the ciphertext: checked before decrypting. */
  sha256: B64(43, 43),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  mime: Type.Optional(Type.String({ maxLength: 255 })),
});
export type AttachmentRef = Static<typeof AttachmentRef>;

const maxText = 65_536;

const CallId = Type.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const CallBase = { ...Base, type: Type.Literal("call"), callId: CallId };
/** A DTLS certificate fingerprint of the sender, as in an SDP `a=fingerprint` line. */
export const CallFingerprint = Type.Object(
  {
    algorithm: Type.String({ minLength: 1, maxLength: 16, pattern: "^[a-z0-9-]+$" }),
    value: Type.String({ minLength: 1, maxLength: 256, pattern: "^[A-Fa-f0-9:]+$" }),
  },
  { additionalProperties: false },
);
export type CallFingerprint = Static<typeof CallFingerprint>;
const maxSdp = 32_768;
const Sdp = Type.String({ minLength: 1, maxLength: maxSdp });
const Fingerprints = Type.Array(CallFingerprint, { minItems: 1, maxItems: 8 });
/** The one device a signal is for: in a group call each pair of devices negotiates its own connection. */
const SignalTarget = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
/** The call actions that are stored in the chat's log (the rest are ephemeral signals). */
export const storedCallActions = ["ring", "accept", "decline", "busy", "cancel", "hangup"] as const;
export type StoredCallAction = (typeof storedCallActions)[number];
const callAction = <A extends string>(action: A) =>
  Type.Object({ ...CallBase, action: Type.Literal(action) }, { additionalProperties: false });
/** The `call` envelope family (strict: no unknown fields). */
export const CallEnvelope = Type.Union([
  Type.Object(
    {
      ...CallBase,
      action: Type.Literal("ring"),
      media: Type.Union([Type.Literal("audio"), Type.Literal("video")]),
      /** A group call: up to 8 join as a mesh, and one callee's decline ends only their ringing. */
      group: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  callAction("accept"),
  callAction("decline"),
  callAction("busy"),
  callAction("cancel"),
  callAction("hangup"),
  Type.Object(
    {
      ...CallBase,
      action: Type.Union([Type.Literal("offer"), Type.Literal("answer")]),
      to: SignalTarget,
      sdp: Sdp,
      fingerprints: Fingerprints,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...CallBase,
      action: Type.Literal("ice"),
      to: SignalTarget,
      candidate: Type.String({ maxLength: 2048 }),
      sdpMid: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
      sdpMLineIndex: Type.Union([Type.Integer({ minimum: 0, maximum: 1023 }), Type.Null()]),
    },
    { additionalProperties: false },
  ),
]);
export type CallEnvelope = Static<typeof CallEnvelope>;
export const Envelope = Type.Union([
  Type.Object({
    ...Base,
    type: Type.Literal("text"),
    text: Type.String({ maxLength: maxText }),
    replyTo: Type.Optional(MessageId),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("attachment"),
    attachment: AttachmentRef,
    caption: Type.Optional(Type.String({ maxLength: maxText })),
    replyTo: Type.Optional(MessageId),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("reaction"),
    target: MessageId,
    emoji: Emoji,
    /** Set when the reaction travels over a key channel: the announcement it is about. */
    announcementGroupId: Type.Optional(GroupId),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("receipt"),
    status: Type.Union([Type.Literal("delivered"), Type.Literal("read")]),
    messageIds: Type.Array(MessageId, { minItems: 1, maxItems: 500 }),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("typing"),
    typing: Type.Boolean(),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("sender_key"),
    announcementGroupId: GroupId,
    /** `distributionOf` the sender's current key, base64url (about 90 bytes). */
    distribution: B64(16, 512),
  }),
  Type.Object({
    ...Base,
    type: Type.Literal("reaction_counts"),
    target: MessageId,
    counts: Type.Record(
      Type.String({ minLength: 1, maxLength: 32 }),
      Type.Integer({ minimum: 1 }),
      {
        maxProperties: 256,
      },
    ),
  }),
  CallEnvelope,
]);
export type Envelope = Static<typeof Envelope>;
export type EnvelopeType = Envelope["type"];
const knownTypes = new Set<string>([
  "text",
  "attachment",
  "reaction",
  "receipt",
  "typing",
  "sender_key",
  "reaction_counts",
  "call",
]);

export type ParsedEnvelope =
  | { kind: "envelope"; envelope: Envelope }
  /** Valid JSON of a version or type this client does not know: skip it quietly. */
  | { kind: "unknown" }
  | { kind: "invalid" };

/** Parses decrypted bytes into an envelope, without trusting them. */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    return { kind: "invalid" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid" };
  }
  const v = (value as { v?: unknown }).v;
  const type = (value as { type?: unknown }).type;
  if (typeof v !== "number" || typeof type !== "string") return { kind: "invalid" };
  if (v !== envelopeVersion || !knownTypes.has(type)) return { kind: "unknown" };
  if (!Value.Check(Envelope, value)) return { kind: "invalid" };
  return { kind: "envelope", envelope: value };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return utf8(JSON.stringify(envelope));
}

/** Whether an envelope is something a person sent (it gets delivery receipts). */
export const isChatContent = (e: Envelope): boolean =>
  e.type === "text" || e.type === "attachment" || e.type === "reaction";
