import { Value } from "@sinclair/typebox/value";
import { type ClientContext, reportError } from "./context.js";
import { newMessageId, randomBytes, toBase64Url, utf8 } from "./encoding.js";
import {
  CallEnvelope,
  type Envelope,
  encodeEnvelope,
  parseEnvelope,
  storedCallActions,
} from "./envelope.js";
import { isVeilError, VeilError } from "./errors.js";
import type {
  CallEvent,
  CallHistoryEntry,
  CallMedia,
  CallMediaKey,
  CallPayload,
  CallState,
  Member,
} from "./events.js";
import type { ApplicationInput, Effects, Groups } from "./groups.js";
import { asJson, HistoryRecord, ns, put } from "./local-state.js";
import type { Messaging } from "./messaging.js";

/** What `sendCallSignal` sends to one device of the call: an SDP offer or answer with its fingerprints, or an ICE candidate. */
export type CallSignal = Extract<CallPayload, { action: "offer" | "answer" | "ice" }>;

type StoredCallEnvelope = Extract<CallEnvelope, { action: (typeof storedCallActions)[number] }>;
type SignalEnvelope = Exclude<CallEnvelope, StoredCallEnvelope>;
type CallRecord = HistoryRecord & { envelope: StoredCallEnvelope };

/** The most devices in one call: a mesh sends each frame once per other device. */
export const maxCallParticipants = 8;
/** The MLS exporter label of call media keys (the call id is the exporter's context). */
const mediaKeyLabel = "veil call media v1";
const maxSignalAttempts = 3;
const isStored = (e: CallEnvelope): e is StoredCallEnvelope =>
  (storedCallActions as readonly string[]).includes(e.action);
const newCallId = (): string => `c_${toBase64Url(randomBytes(16))}`;
const callKey = (groupId: string, callId: string, messageId: string): string =>
  `${groupId}/${callId}/${messageId}`;

/** A call as this device sees it, derived from its stored actions. */
interface Summary {
  groupId: string;
  media: CallMedia;
  group: boolean;
  direction: "outgoing" | "incoming";
  ring: CallRecord;
  outcome: CallHistoryEntry["outcome"] | null;
  state: CallState;
  participants: Member[];
  durationMs?: number;
}

/**
 * Call signalling over the chat's MLS group: ring, accept, decline, busy,
 * cancel and hangup are stored log messages (every device of the callee
 * rings; an offline one finds the call in its history), while offer, answer
 * and ICE candidates are ephemeral signals, each for one device. The server
 * sees ciphertext only. Call actions are kept in their own namespace, never
 * as chat messages.
 *
 * A group call is a mesh: the caller and every device that accepted (up to
 * 8) are its participants, and each pair negotiates its own connection.
 * Media keys come from the group's MLS exporter, so they change with every
 * commit: a removed member cannot derive the next one.
 */
export class Calls {
  /** callId to groupId, for calls seen since this client started. */
  private readonly groupOf = new Map<string, string>();
  /** The last state and participants derived per call (signals carry them without a store read). */
  private readonly states = new Map<string, { state: CallState; participants: Member[] }>();
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
    const loaded = await this.groups.load(groupId);
    if (!loaded) throw new VeilError("group_unknown");
    const callId = newCallId();
    this.groupOf.set(callId, groupId);
    const group = loaded.meta.kind !== "direct";
    await this.sendStored(groupId, callId, { action: "ring", media, ...(group ? { group } : {}) });
    this.armTimer(groupId, callId, Date.now());
    return callId;
  }

  /** Joins a ringing call; refused with `call_full` once it has 8 participants. */
  async accept(callId: string): Promise<void> {
    const call = await this.expect(callId, "incoming", "ringing");
    if (call.participants.length >= maxCallParticipants) throw new VeilError("call_full");
    await this.sendStored(call.groupId, callId, { action: "accept" });
  }

  /** The devices in a call now (this one included once it takes part). */
  async participants(callId: string): Promise<Member[]> {
    return (await this.find(callId))?.participants ?? [];
  }

  /**
   * The call's media key at the chat's current MLS epoch. Every participant
   * derives the same one; after a commit (someone added or removed) it is a
   * new one that only the members of the new epoch can derive.
   */
  async mediaKey(callId: string): Promise<CallMediaKey> {
    const call = await this.find(callId);
    if (!call) throw new VeilError("invalid_argument", "No call with this id");
    return this.groups.lock.run(call.groupId, async () => {
      const loaded = await this.groups.load(call.groupId);
      if (!loaded) throw new VeilError("group_unknown");
      if (!loaded.meta.active) throw new VeilError("group_left");
      const secret = await loaded.group.exportSecret(mediaKeyLabel, utf8(callId), 32);
      return { epoch: Number(loaded.group.epoch), secret };
    });
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

  /** Sends an offer, answer or ICE candidate for one device, as an ephemeral MLS signal (never stored). */
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
    const members = await this.membersOf(groupId);
    for (const [callId, records] of byCall) {
      const summary = this.summarize(records, members);
      if (!summary?.outcome) continue;
      out.push({
        callId,
        media: summary.media,
        group: summary.group,
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
    const members = await this.membersOf(groupId);
    const before = this.summarize(earlier, members);
    const summary = this.summarize([...earlier, record], members);
    const state = summary?.state ?? null;
    if (summary) this.remember(envelope.callId, summary);
    const { v: _v, type: _type, id: _id, ts, callId, ...payload } = envelope;
    const event = {
      groupId,
      callId,
      fromUserId: record.senderUserId,
      fromDeviceId: record.senderDeviceId,
      fromMe: record.fromMe,
      at: ts,
      state,
      participants: summary?.participants ?? [],
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
    // Every member decrypts a signal; only the device it names acts on it.
    if (envelope.to !== this.context.deviceId) return true;
    const { v: _v, type: _type, id: _id, ts, callId, ...payload } = envelope as SignalEnvelope;
    const known = this.states.get(callId);
    this.context.events.emit("call", {
      groupId: input.groupId,
      callId,
      fromUserId: input.senderUserId,
      fromDeviceId: input.senderDeviceId,
      fromMe: input.senderUserId === this.context.userId,
      at: ts,
      state: known?.state ?? null,
      participants: known?.participants ?? [],
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
    const records = await this.records(`${groupId}/${callId}/`);
    const summary = this.summarize(records, await this.membersOf(groupId));
    if (summary) this.remember(callId, summary);
    if (summary?.state !== "ringing") this.clearTimer(callId);
  }

  /** The devices in the chat's MLS group now (none once this one left): a removed device takes no more part. */
  private async membersOf(groupId: string): Promise<Set<string>> {
    const loaded = await this.groups.load(groupId);
    if (!loaded?.meta.active) return new Set();
    return new Set(loaded.group.members().map((m) => m.credentialId));
  }

  private remember(callId: string, summary: Summary): void {
    this.states.set(callId, { state: summary.state, participants: summary.participants });
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
    const records = await this.records(`${groupId}/${callId}/`);
    return this.summarize(records, await this.membersOf(groupId));
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

  /**
   * Derives a call's outcome (for this user) and this device's state and
   * participants from its stored actions, in log order, so that every device
   * agrees on who is in the call. A device no longer in the chat's MLS group
   * (`members`) is out of the call whatever it stored.
   */
  private summarize(records: CallRecord[], members: Set<string>): Summary | null {
    const order = (r: CallRecord) => (r.seq >= 0 ? r.seq : Number.MAX_SAFE_INTEGER);
    const sorted = [...records].sort(
      (a, b) => order(a) - order(b) || a.envelope.ts - b.envelope.ts || a.storedAt - b.storedAt,
    );
    const ring = sorted.find((r) => r.envelope.action === "ring");
    if (ring?.envelope.action !== "ring") return null;
    const group = ring.envelope.group === true;
    const me = this.context.deviceId;
    const member = (r: CallRecord): Member => ({
      userId: r.senderUserId,
      deviceId: r.senderDeviceId,
    });
    const joined = new Map<string, Member>([[ring.senderDeviceId, member(ring)]]);
    const present = () => [...joined.values()].filter((m) => members.has(m.deviceId));
    let firstAccept: CallRecord | undefined;
    let cancel: CallRecord | undefined;
    /** The device through which this user takes part, and since when it talks to someone. */
    let mine: { deviceId: string; since: number | null } | undefined = ring.fromMe
      ? { deviceId: ring.senderDeviceId, since: null }
      : undefined;
    let myRefusal: CallRecord | undefined;
    let theirRefusal: CallRecord | undefined;
    let over = false;
    let leftAt: number | undefined;
    for (const r of sorted) {
      if (over) break;
      const action = r.envelope.action;
      if (action === "accept") {
        if (cancel || joined.has(r.senderDeviceId) || joined.size >= maxCallParticipants) continue;
        joined.set(r.senderDeviceId, member(r));
        firstAccept ??= r;
        if (r.fromMe && !mine) mine = { deviceId: r.senderDeviceId, since: r.envelope.ts };
        // The caller talks to someone from the first answer on.
        if (mine && mine.since === null) mine.since = r.envelope.ts;
      } else if (action === "hangup") {
        if (!joined.delete(r.senderDeviceId)) continue;
        if (r.senderDeviceId === mine?.deviceId) leftAt ??= r.envelope.ts;
        // Once everyone else has gone, the call is over for the last one too.
        if (firstAccept && present().length <= 1) {
          over = true;
          leftAt ??= r.envelope.ts;
        }
      } else if (action === "cancel") {
        if (r.senderDeviceId === ring.senderDeviceId && !firstAccept) cancel = r;
      } else if (action === "decline" || action === "busy") {
        if (r.fromMe) myRefusal ??= r;
        else theirRefusal ??= r;
      }
    }
    // Those who stayed were removed from the chat: nobody is left to talk to.
    if (firstAccept && !over && present().length <= 1) over = true;
    const expired = Date.now() - ring.storedAt >= this.ringTimeoutMs;
    // Between two people the callee's "no" ends the call; in a group only their own ringing.
    const refusal = group || firstAccept ? undefined : ring.fromMe ? theirRefusal : myRefusal;
    const ended = over || cancel !== undefined || refusal !== undefined;
    const answered = mine?.since !== null && mine !== undefined && firstAccept !== undefined;

    let outcome: Summary["outcome"] = null;
    if (cancel) outcome = "cancelled";
    else if (answered) outcome = "answered";
    else if (refusal ?? (!ring.fromMe && myRefusal)) {
      const by = refusal ?? myRefusal;
      outcome = by?.envelope.action === "busy" ? "busy" : "declined";
    } else if (expired || over) outcome = "missed";

    let state: CallState;
    if (ended) state = "ended";
    else if (joined.has(me) && members.has(me)) {
      const unanswered = ring.senderDeviceId === me && !firstAccept;
      state = unanswered ? (expired ? "ended" : "ringing") : "active";
    } else if (ring.fromMe || mine || myRefusal || expired) {
      // Placed, joined or declined on another device of this user, or left: no part of this one.
      state = "ended";
    } else state = "ringing";

    const summary: Summary = {
      groupId: ring.groupId,
      media: ring.envelope.media,
      group,
      direction: ring.fromMe ? "outgoing" : "incoming",
      ring,
      outcome,
      state,
      participants: ended ? [] : present(),
    };
    if (answered && mine?.since != null && leftAt !== undefined) {
      summary.durationMs = Math.max(0, leftAt - mine.since);
    }
    return summary;
  }

  private armTimer(groupId: string, callId: string, ringStoredAt: number): void {
    this.clearTimer(callId);
    const delay = Math.max(0, ringStoredAt + this.ringTimeoutMs - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(callId);
      this.context.track(
        Promise.all([this.records(`${groupId}/${callId}/`), this.membersOf(groupId)])
          .then(([records, members]) => {
            const summary = this.summarize(records, members);
            // A timer may fire a little early: still unsettled, wait for the rest.
            if (summary && summary.outcome === null && !this.context.closed()) {
              this.armTimer(groupId, callId, summary.ring.storedAt);
            }
            if (summary?.outcome !== "missed") return;
            this.remember(callId, summary);
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
      participants: [],
      action: "missed",
      media: summary.media,
    });
  }
}
