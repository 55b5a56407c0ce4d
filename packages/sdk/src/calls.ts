import { Value } from "@sinclair/typebox/value";
import { type ClientContext, reportError } from "./context.js";
import { newMessageId, randomBytes, toBase64Url } from "./encoding.js";
import {
  CallEnvelope,
  type CallFingerprint,
  type Envelope,
  encodeEnvelope,
  parseEnvelope,
  storedCallActions,
} from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import type { CallEvent, CallHistoryEntry, CallMedia, CallPayload, CallState } from "./events.js";
import type { ApplicationInput, Effects, Groups } from "./groups.js";
import { asJson, HistoryRecord, ns, put } from "./local-state.js";
import type { Messaging } from "./messaging.js";

/** What `sendCallSignal` sends: an SDP offer or answer with its fingerprints, or an ICE candidate. */
export type CallSignal =
  | { action: "offer" | "answer"; sdp: string; fingerprints: CallFingerprint[] }
  | { action: "ice"; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

type StoredCallEnvelope = Extract<CallEnvelope, { action: (typeof storedCallActions)[number] }>;
type SignalEnvelope = Exclude<CallEnvelope, StoredCallEnvelope>;
type CallRecord = HistoryRecord & { envelope: StoredCallEnvelope };

const maxSignalAttempts = 3;
const isStored = (e: CallEnvelope): e is StoredCallEnvelope =>
  (storedCallActions as readonly string[]).includes(e.action);
const newCallId = (): string => `c_${toBase64Url(randomBytes(16))}`;
const callKey = (groupId: string, callId: string, messageId: string): string =>
  `${groupId}/${callId}/${messageId}`;

/** A call as derived from its stored actions. */
interface Summary {
  groupId: string;
  media: CallMedia;
  direction: "outgoing" | "incoming";
  ring: CallRecord;
  outcome: CallHistoryEntry["outcome"] | null;
  state: CallState;
  durationMs?: number;
}

/**
 * Call signalling over the chat's MLS group: ring, accept, decline, busy,
 * cancel and hangup are stored log messages (every device of the callee
 * rings; an offline one finds the call in its history), while offer, answer
 * and ICE candidates are ephemeral signals. The server sees ciphertext only.
 * Call actions are kept in their own namespace, never as chat messages.
 */
export class Calls {
  /** callId to groupId, for calls seen since this client started. */
  private readonly groupOf = new Map<string, string>();
  /** The last state derived per call (signals carry it without a store read). */
  private readonly states = new Map<string, CallState>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly context: ClientContext,
    private readonly groups: Groups,
    private readonly messaging: Messaging,
    private readonly ringTimeoutMs: number,
  ) {}

  // --- sending -------------------------------------------------------------------

  /** Rings every other device in the chat; resolves with the new call's id. */
  async start(groupId: string, media: CallMedia): Promise<string> {
    if (media !== "audio" && media !== "video") throw new VeilError("invalid_argument");
    const callId = newCallId();
    this.groupOf.set(callId, groupId);
    await this.sendStored(groupId, callId, { action: "ring", media });
    this.armTimer(groupId, callId, Date.now());
    return callId;
  }

  async accept(callId: string): Promise<void> {
    const call = await this.expect(callId, "incoming", "ringing");
    await this.sendStored(call.groupId, callId, { action: "accept" });
  }

  /** Declines a ringing call; `busy` says so instead (the caller sees `busy`). */
  async decline(callId: string, busy = false): Promise<void> {
    const call = await this.expect(callId, "incoming", "ringing");
    await this.sendStored(call.groupId, callId, { action: busy ? "busy" : "decline" });
  }

  async cancel(callId: string): Promise<void> {
    const call = await this.expect(callId, "outgoing", "ringing");
    await this.sendStored(call.groupId, callId, { action: "cancel" });
  }

  async hangUp(callId: string): Promise<void> {
    const call = await this.expect(callId, null, "active");
    await this.sendStored(call.groupId, callId, { action: "hangup" });
  }

  /** Sends an offer, answer or ICE candidate as an ephemeral MLS signal (never stored). */
  async signal(callId: string, signal: CallSignal): Promise<void> {
    const call = await this.find(callId);
    if (!call || call.state === "ended") {
      throw new VeilError("invalid_argument", "No ringing or active call with this id");
    }
    const envelope = { v: 1, type: "call", id: newMessageId(), ts: Date.now(), callId, ...signal };
    if (!Value.Check(CallEnvelope, envelope)) throw new VeilError("invalid_argument");
    const groupId = call.groupId;
    await this.groups.lock.run(groupId, async () => {
      for (let attempt = 1; ; attempt++) {
        const loaded = await this.groups.load(groupId);
        if (!loaded) throw new VeilError("group_unknown");
        if (!loaded.meta.active) throw new VeilError("group_left");
        const { message, next } = await loaded.group.encrypt(encodeEnvelope(envelope as Envelope));
        loaded.group = next;
        await this.groups.save(loaded, []); // a key is never used twice, even for a signal
        try {
          await this.context.api.sendSignal(groupId, toBase64Url(message));
          return;
        } catch (err) {
          // Unlike typing, a lost offer breaks the call: catch up and send it again.
          if (!isVeilError(err, "stale_epoch") || attempt >= maxSignalAttempts) throw err;
          await this.groups.syncLocked(groupId);
        }
      }
    });
  }

  /** The calls of a chat, oldest first; calls still ringing are left out until they settle. */
  async history(groupId: string): Promise<CallHistoryEntry[]> {
    const byCall = new Map<string, CallRecord[]>();
    for (const record of await this.records(`${groupId}/`)) {
      const list = byCall.get(record.envelope.callId) ?? [];
      list.push(record);
      byCall.set(record.envelope.callId, list);
    }
    const out: CallHistoryEntry[] = [];
    for (const [callId, records] of byCall) {
      const summary = this.summarize(records);
      if (!summary?.outcome) continue;
      out.push({
        callId,
        media: summary.media,
        direction: summary.direction,
        outcome: summary.outcome,
        startedAt: summary.ring.envelope.ts,
        ...(summary.durationMs !== undefined ? { durationMs: summary.durationMs } : {}),
      });
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  // --- receiving ------------------------------------------------------------------

  /** A stored call action from the log (under the group's lock); null when not a call. */
  async application(input: ApplicationInput): Promise<Effects | null> {
    const parsed = parseEnvelope(input.plaintext);
    if (parsed.kind !== "envelope" || parsed.envelope.type !== "call") return null;
    const envelope = parsed.envelope;
    // A signal action in the log is not how signals travel: drop it.
    if (!isStored(envelope)) return { ops: [] };
    const { groupId, entry } = input;
    const key = callKey(groupId, envelope.callId, envelope.id);
    if ((await this.context.state.store.get(ns.calls, key)) !== undefined) return { ops: [] };
    const record: CallRecord = {
      groupId,
      seq: entry.seq,
      senderUserId: input.senderUserId,
      senderDeviceId: input.senderDeviceId,
      fromMe: input.senderUserId === this.context.userId,
      storedAt: Date.parse(entry.createdAt),
      envelope,
    };
    this.groupOf.set(envelope.callId, groupId);
    const earlier = await this.records(`${groupId}/${envelope.callId}/`);
    const before = this.summarize(earlier);
    const summary = this.summarize([...earlier, record]);
    const state = summary?.state ?? null;
    if (state) this.states.set(envelope.callId, state);
    const { v: _v, type: _type, id: _id, ts, callId, ...payload } = envelope;
    const event = {
      groupId,
      callId,
      fromUserId: record.senderUserId,
      fromDeviceId: record.senderDeviceId,
      fromMe: record.fromMe,
      at: ts,
      state,
      ...payload,
    } as CallEvent;
    return {
      ops: [put(ns.calls, key, asJson(record))],
      after: () => {
        this.context.events.emit("call", event);
        if (!summary) return;
        if (state === "ringing" && envelope.action === "ring") {
          this.armTimer(groupId, callId, record.storedAt);
        } else if (state !== "ringing") {
          this.clearTimer(callId);
        }
        // A ring found after its timeout (this device was offline): missed at once.
        if (
          envelope.action === "ring" &&
          summary.outcome === "missed" &&
          before?.outcome !== "missed"
        ) {
          this.emitMissed(summary);
        }
      },
    };
  }

  /** A live signal; false when it is not a call envelope (typing goes elsewhere). */
  signalReceived(input: Omit<ApplicationInput, "entry">): boolean {
    const parsed = parseEnvelope(input.plaintext);
    if (parsed.kind !== "envelope" || parsed.envelope.type !== "call") return false;
    const envelope = parsed.envelope;
    if (isStored(envelope) || input.senderDeviceId === this.context.deviceId) return true;
    const { v: _v, type: _type, id: _id, ts, callId, ...payload } = envelope as SignalEnvelope;
    this.context.events.emit("call", {
      groupId: input.groupId,
      callId,
      fromUserId: input.senderUserId,
      fromDeviceId: input.senderDeviceId,
      fromMe: input.senderUserId === this.context.userId,
      at: ts,
      state: this.states.get(callId) ?? null,
      ...payload,
    } as CallEvent);
    return true;
  }

  // --- internals ------------------------------------------------------------------

  private async sendStored(
    groupId: string,
    callId: string,
    payload: Exclude<CallPayload, { action: "missed" | "offer" | "answer" | "ice" }>,
  ): Promise<void> {
    let sent: StoredCallEnvelope | undefined;
    const result = await this.messaging.send(groupId, (id, ts) => {
      sent = { v: 1, type: "call", id, ts, callId, ...payload } as StoredCallEnvelope;
      return sent;
    });
    if (!sent) return;
    const record: CallRecord = {
      groupId,
      seq: result.seq ?? -1,
      senderUserId: this.context.userId,
      senderDeviceId: this.context.deviceId,
      fromMe: true,
      storedAt: Date.now(),
      envelope: sent,
    };
    await this.context.state.write([
      put(ns.calls, callKey(groupId, callId, sent.id), asJson(record)),
    ]);
    const summary = this.summarize(await this.records(`${groupId}/${callId}/`));
    if (summary) this.states.set(callId, summary.state);
    if (summary?.state !== "ringing") this.clearTimer(callId);
  }

  private async expect(
    callId: string,
    direction: "incoming" | "outgoing" | null,
    state: CallState,
  ): Promise<Summary> {
    const call = await this.find(callId);
    if (!call || call.state !== state || (direction && call.direction !== direction)) {
      throw new VeilError("invalid_argument", `No ${state} call with this id`);
    }
    return call;
  }

  private async find(callId: string): Promise<Summary | null> {
    let groupId = this.groupOf.get(callId);
    if (!groupId) {
      const key = (await this.context.state.keys(ns.calls)).find((k) => k.split("/")[1] === callId);
      groupId = key?.split("/")[0];
      if (!groupId) return null;
      this.groupOf.set(callId, groupId);
    }
    return this.summarize(await this.records(`${groupId}/${callId}/`));
  }

  private async records(prefix: string): Promise<CallRecord[]> {
    const out: CallRecord[] = [];
    for (const { value } of await this.context.state.listJson(HistoryRecord, ns.calls, prefix)) {
      const envelope = value.envelope;
      if (Value.Check(CallEnvelope, envelope) && isStored(envelope)) {
        out.push({ ...value, envelope });
      }
    }
    return out;
  }

  /** Derives a call's outcome and this device's state from its stored actions. */
  private summarize(records: CallRecord[]): Summary | null {
    const sorted = [...records].sort(
      (a, b) => a.envelope.ts - b.envelope.ts || a.storedAt - b.storedAt,
    );
    const ring = sorted.find((r) => r.envelope.action === "ring");
    if (ring?.envelope.action !== "ring") return null;
    const accept = sorted.find((r) => r.envelope.action === "accept");
    const refusal = sorted.find((r) => ["decline", "busy", "cancel"].includes(r.envelope.action));
    const hangup = accept
      ? sorted.find((r) => r.envelope.action === "hangup" && r.envelope.ts >= accept.envelope.ts)
      : undefined;
    const direction = ring.fromMe ? "outgoing" : "incoming";
    const expired = Date.now() - ring.storedAt >= this.ringTimeoutMs;
    const me = this.context.deviceId;
    let outcome: Summary["outcome"] = null;
    if (accept) outcome = "answered";
    else if (refusal?.envelope.action === "decline") outcome = "declined";
    else if (refusal?.envelope.action === "busy") outcome = "busy";
    else if (refusal?.envelope.action === "cancel") outcome = "cancelled";
    else if (expired) outcome = "missed";
    let state: CallState;
    if (outcome && outcome !== "answered") state = "ended";
    else if (hangup) state = "ended";
    // Placed, accepted or declined on another device of this user: no part of this one.
    else if (direction === "outgoing" && ring.senderDeviceId !== me) state = "ended";
    else if (accept?.fromMe && accept.senderDeviceId !== me) state = "ended";
    else state = accept ? "active" : "ringing";
    const summary: Summary = {
      groupId: ring.groupId,
      media: ring.envelope.media,
      direction,
      ring,
      outcome,
      state,
    };
    if (accept && hangup) {
      summary.durationMs = Math.max(0, hangup.envelope.ts - accept.envelope.ts);
    }
    return summary;
  }

  private armTimer(groupId: string, callId: string, ringStoredAt: number): void {
    this.clearTimer(callId);
    const delay = Math.max(0, ringStoredAt + this.ringTimeoutMs - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(callId);
      this.context.track(
        this.records(`${groupId}/${callId}/`)
          .then((records) => {
            const summary = this.summarize(records);
            // A timer may fire a little early: still unsettled, wait for the rest.
            if (summary && summary.outcome === null && !this.context.closed()) {
              this.armTimer(groupId, callId, summary.ring.storedAt);
            }
            if (summary?.outcome !== "missed") return;
            this.states.set(callId, "ended");
            this.emitMissed(summary);
          })
          .catch((err: unknown) => reportError(this.context, err, { groupId })),
      );
    }, delay);
    this.timers.set(callId, timer);
  }

  private clearTimer(callId: string): void {
    const timer = this.timers.get(callId);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(callId);
  }

  private emitMissed(summary: Summary): void {
    const ring = summary.ring;
    this.context.events.emit("call", {
      groupId: summary.groupId,
      callId: ring.envelope.callId,
      fromUserId: ring.senderUserId,
      fromDeviceId: ring.senderDeviceId,
      fromMe: ring.fromMe,
      at: ring.envelope.ts,
      state: "ended",
      action: "missed",
      media: summary.media,
    });
  }
}
