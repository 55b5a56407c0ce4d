import {
  createGroup,
  type Group,
  inspectMessage,
  joinGroup,
  MlsError,
  restoreGroup,
} from "@veil/crypto";
import type { GroupKind, GroupSummary, LogEntry, MailboxItem, Signal } from "@veil/protocol";
import { type ClientContext, reportError } from "./context.js";
import type { DeviceKeyRegistry } from "./device-keys.js";
import { fromBase64Url, toBase64Url } from "./encoding.js";
import { isVeilError, VeilError } from "./errors.js";
import type { Member, MembershipEvent } from "./events.js";
import type { KeyPackages } from "./key-packages.js";
import { asJson, del, GroupMeta, ns, put } from "./local-state.js";
import { KeyedMutex, sleep } from "./mutex.js";
import type { StoreOp } from "./store/store.js";

/** Store writes that go with a processed entry, and what to do once they are durable. */
export interface Effects {
  ops: StoreOp[];
  after?: () => void;
}

export interface ApplicationInput {
  groupId: string;
  /** A key channel's messages go to the announcements, never to the chats. */
  kind: GroupKind;
  entry: LogEntry;
  senderDeviceId: string;
  senderUserId: string | null;
  plaintext: Uint8Array;
}

/** How messages reach the messaging layer (which knows envelopes; this module does not). */
export interface GroupHooks {
  application(input: ApplicationInput): Promise<Effects>;
  /** This device's own message came back in the log (it cannot decrypt it). */
  ownApplication(groupId: string, entry: LogEntry, kind: GroupKind): Promise<Effects>;
  signal(input: Omit<ApplicationInput, "entry">): void;
  /** A group changed outside any lock: flush what waits on it (receipts). */
  settled(groupId: string): void;
  /** A frame named a group this device holds no state for (a welcome may be on its way). */
  unknownGroup(groupId: string): void;
}

/** A commit to make: what `Group.add`/`remove`/`update` returned, and what to tell the server. */
export interface PlannedCommit {
  commit: Uint8Array;
  next: Group;
  welcome?: Uint8Array;
  addDevices: Member[];
  removeDevices: Member[];
}

export interface LoadedGroup {
  group: Group;
  meta: GroupMeta;
}

const maxCommitAttempts = 8;
const logPage = 200;

/**
 * Every group this device is in: its MLS state and cursor, kept in step in the
 * store; the log processed in order from the cursor; commits built on the
 * current epoch and rebuilt after `stale_epoch`.
 */
export class Groups {
  private readonly cache = new Map<string, LoadedGroup>();
  /** Per group: one operation on a group's state at a time. */
  readonly lock = new KeyedMutex();
  /** MLS operations that meet credentials run one at a time (the key registry is shared). */
  private readonly mlsLock = new KeyedMutex();
  private readonly cursorTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly context: ClientContext,
    private readonly registry: DeviceKeyRegistry,
    private readonly keyPackages: KeyPackages,
    private readonly hooks: GroupHooks,
  ) {}

  async load(groupId: string): Promise<LoadedGroup | undefined> {
    const cached = this.cache.get(groupId);
    if (cached) return cached;
    const meta = await this.context.state.json(GroupMeta, ns.groups, groupId);
    const bytes = await this.context.state.bytes(ns.mls, groupId);
    if (!meta || !bytes) return undefined;
    const loaded = { group: restoreGroup(this.context.suite, bytes), meta };
    this.cache.set(groupId, loaded);
    return loaded;
  }

  async list(): Promise<GroupMeta[]> {
    return (await this.context.state.listJson(GroupMeta, ns.groups)).map((e) => e.value);
  }

  /** Creates the MLS group (epoch 0, this device alone) for a group the server just made. */
  async createLocal(summary: GroupSummary): Promise<LoadedGroup> {
    return this.lock.run(summary.id, async () => {
      const existing = await this.load(summary.id);
      if (existing) return existing;
      const bundle = await this.keyPackages.fresh();
      const group = await createGroup(
        this.context.suite,
        summary.id,
        this.context.deviceId,
        bundle,
      );
      const meta: GroupMeta = {
        groupId: summary.id,
        kind: summary.kind,
        peerUserId: summary.peerUserId ?? null,
        cursor: summary.lastSeq,
        joinedSeq: 0,
        active: true,
        members: { [this.context.deviceId]: this.context.userId },
        pendingCommitEpoch: null,
      };
      const loaded = { group, meta };
      await this.save(loaded, []);
      return loaded;
    });
  }

  /** Joins from a welcome in the mailbox; false when there was nothing to do. */
  async join(item: MailboxItem): Promise<boolean> {
    const groupId = item.groupId;
    const welcome = item.data === null ? undefined : fromBase64Url(item.data);
    if (!groupId || !welcome || item.joinedSeq === null) throw new VeilError("bad_response");
    return this.lock.run(groupId, async () => {
      const existing = await this.load(groupId);
      if (existing?.meta.active) return false;
      const refs = inspectMessage(welcome)?.welcomeKeyPackageRefs ?? [];
      const found = await this.keyPackages.forWelcome(refs);
      if (!found) throw new VeilError("key_package_missing");
      let summary: GroupSummary;
      try {
        summary = await this.context.api.group(groupId);
      } catch (err) {
        // Removed again before this device could join: nothing to join.
        if (isVeilError(err, "group_not_found")) return false;
        throw err;
      }
      const group = await this.mls(async () => {
        const joined = await joinGroup(
          this.context.suite,
          welcome,
          found.bundle.privateKeyPackage,
          found.bundle.publicKeyPackage,
        );
        return { next: joined };
      });
      const meta: GroupMeta = {
        groupId,
        kind: summary.kind,
        peerUserId: summary.peerUserId ?? null,
        cursor: item.joinedSeq as number,
        joinedSeq: item.joinedSeq as number,
        active: true,
        members: Object.fromEntries(summary.members.map((m) => [m.deviceId, m.userId])),
        pendingCommitEpoch: null,
      };
      const loaded = { group: group.next, meta };
      await this.save(loaded, found.consume ? [found.consume] : []);
      this.emitMembership(groupId, "joined", [
        { userId: this.context.userId, deviceId: this.context.deviceId },
      ]);
      return true;
    });
  }

  // --- the log -------------------------------------------------------------------

  /** Reads and processes the group's log from this device's cursor. */
  async sync(groupId: string): Promise<void> {
    await this.lock.run(groupId, () => this.syncLocked(groupId));
    this.hooks.settled(groupId);
  }

  /** `sync`, for a caller that already holds the group's lock. */
  async syncLocked(groupId: string): Promise<void> {
    const loaded = await this.load(groupId);
    if (!loaded?.meta.active) return;
    const start = loaded.meta.cursor;
    for (;;) {
      let page: Awaited<ReturnType<ClientContext["api"]["log"]>>;
      try {
        page = await this.context.api.log(groupId, loaded.meta.cursor, logPage);
      } catch (err) {
        if (isVeilError(err, "group_not_found")) {
          await this.markLeft(loaded);
          return;
        }
        throw err;
      }
      for (const entry of page.entries) {
        await this.process(loaded, entry);
        if (!loaded.meta.active) return;
      }
      if (page.entries.length < logPage || loaded.meta.cursor >= page.lastSeq) break;
    }
    if (loaded.meta.cursor !== start) this.reportCursor(groupId, 0);
  }

  /** A `group.entry` frame: processed in order, or a catch-up when there is a gap. */
  async onLiveEntry(entry: LogEntry): Promise<void> {
    const groupId = entry.groupId;
    const known = await this.lock.run(groupId, async () => {
      const loaded = await this.load(groupId);
      if (!loaded) return false;
      if (!loaded.meta.active || entry.seq <= loaded.meta.cursor) return true;
      if (entry.seq === loaded.meta.cursor + 1) await this.process(loaded, entry);
      else await this.syncLocked(groupId);
      this.reportCursor(groupId, 2000);
      return true;
    });
    if (known) this.hooks.settled(groupId);
    else this.hooks.unknownGroup(groupId);
  }

  /** A `group.signal` frame (typing): decrypted and handed on; failures are dropped quietly. */
  async onSignal(signal: Signal): Promise<void> {
    await this.lock.run(signal.groupId, async () => {
      const loaded = await this.load(signal.groupId);
      const bytes = fromBase64Url(signal.data);
      if (!loaded?.meta.active || !bytes || signal.senderDeviceId === this.context.deviceId) return;
      try {
        const result = await this.mls(() => loaded.group.process(bytes));
        if (result.kind !== "application") return;
        const senderUserId = await this.userOf(loaded, result.senderCredentialId);
        loaded.group = result.next;
        await this.save(loaded, []);
        this.hooks.signal({
          groupId: signal.groupId,
          kind: loaded.meta.kind,
          senderDeviceId: result.senderCredentialId,
          senderUserId,
          plaintext: result.plaintext,
        });
      } catch (err) {
        if (!(err instanceof MlsError)) throw err;
        this.context.logger.debug({ groupId: signal.groupId, code: err.code }, "signal dropped");
      }
    });
  }

  /** Processes one log entry in order and stores the state and cursor after it together. */
  private async process(loaded: LoadedGroup, entry: LogEntry): Promise<void> {
    const { groupId } = loaded.meta;
    if (entry.seq <= loaded.meta.cursor) return;
    const bytes = fromBase64Url(entry.data);
    let next = loaded.group;
    const meta: GroupMeta = { ...loaded.meta, cursor: entry.seq };
    const ops: StoreOp[] = [];
    let effects: Effects = { ops: [] };
    let membership: (() => void) | undefined;
    if (entry.senderDeviceId === this.context.deviceId && entry.kind === "application") {
      effects = await this.hooks.ownApplication(groupId, entry, meta.kind);
    } else if (!bytes) {
      effects = { ops: [], after: () => this.undecryptable(groupId, entry.seq) };
    } else {
      try {
        const result = await this.mls(() => loaded.group.process(bytes));
        next = result.next;
        if (result.kind === "application") {
          effects = await this.hooks.application({
            groupId,
            kind: meta.kind,
            entry,
            senderDeviceId: result.senderCredentialId,
            senderUserId: await this.userOf(loaded, result.senderCredentialId),
            plaintext: result.plaintext,
          });
        } else {
          if (meta.pendingCommitEpoch !== null) {
            // Another member's commit won the epoch: our pending one is void.
            meta.pendingCommitEpoch = null;
            ops.push(del(ns.pendingMls, groupId));
          }
          membership = await this.commitApplied(meta, result, next);
        }
      } catch (err) {
        if (!(err instanceof MlsError)) throw err;
        const outcome = await this.processFailed(loaded, meta, entry, err);
        if (outcome.next) next = outcome.next;
        ops.push(...outcome.ops);
        effects = { ops: [], ...(outcome.after ? { after: outcome.after } : {}) };
      }
    }
    // Members the server named while processing (a sender we did not know) are kept too.
    meta.members = { ...loaded.meta.members, ...meta.members };
    const updated = { group: next, meta };
    await this.save(updated, [...ops, ...effects.ops], next !== loaded.group);
    loaded.group = next;
    loaded.meta = meta;
    effects.after?.();
    membership?.();
  }

  private async processFailed(
    loaded: LoadedGroup,
    meta: GroupMeta,
    entry: LogEntry,
    err: MlsError,
  ): Promise<{ next?: Group; ops: StoreOp[]; after?: () => void }> {
    const { groupId } = meta;
    switch (err.code) {
      case "own_commit": {
        // Our commit was stored but its answer never reached us: adopt the state kept for it.
        const pending = await this.context.state.bytes(ns.pendingMls, groupId);
        if (meta.pendingCommitEpoch === entry.epoch && pending) {
          meta.pendingCommitEpoch = null;
          return {
            next: restoreGroup(this.context.suite, pending),
            ops: [del(ns.pendingMls, groupId)],
          };
        }
        return { ops: [], after: () => this.undecryptable(groupId, entry.seq, err) };
      }
      case "duplicate":
        // A replay, or our own commit seen after we adopted it: nothing new.
        return { ops: [] };
      case "wrong_epoch":
        if (entry.kind === "commit" && entry.epoch < Number(loaded.group.epoch)) return { ops: [] };
        return { ops: [], after: () => this.undecryptable(groupId, entry.seq, err) };
      default: {
        const mismatch = this.registry.conflict;
        return {
          ops: [],
          after: () =>
            mismatch
              ? reportError(this.context, new VeilError("device_key_mismatch"), {
                  groupId,
                  seq: entry.seq,
                })
              : this.undecryptable(groupId, entry.seq, err),
        };
      }
    }
  }

  private async commitApplied(
    meta: GroupMeta,
    result: { senderCredentialId: string; added: string[]; removed: string[] },
    next: Group,
  ): Promise<(() => void) | undefined> {
    const { groupId } = meta;
    if (result.removed.includes(this.context.deviceId) || !next.active) {
      meta.active = false;
      return () => this.emitMembership(groupId, "left", [this.me()], result.senderCredentialId);
    }
    if (result.added.some((d) => meta.members[d] === undefined)) {
      await this.refreshMembers(meta);
    }
    const by = result.senderCredentialId;
    const added = result.added.map((d) => ({ userId: meta.members[d] ?? null, deviceId: d }));
    const removed = result.removed.map((d) => ({ userId: meta.members[d] ?? null, deviceId: d }));
    return () => {
      if (added.length > 0) this.emitMembership(groupId, "members-added", added, by);
      if (removed.length > 0) this.emitMembership(groupId, "members-removed", removed, by);
    };
  }

  // --- commits ---------------------------------------------------------------------

  /**
   * Commits a change built by `plan` on the group's current state. On
   * `stale_epoch` it catches up and plans again; `plan` returns null when
   * nothing is left to do (another device made the change first). `fresh`:
   * the group was just created here, so the first attempt need not read its log.
   */
  async change(
    groupId: string,
    plan: (loaded: LoadedGroup) => Promise<PlannedCommit | null>,
    options: { fresh?: boolean } = {},
  ): Promise<PlannedCommit | null> {
    for (let attempt = 0; attempt < maxCommitAttempts; attempt++) {
      const catchUp = attempt > 0 || !options.fresh;
      const outcome = await this.lock.run(groupId, () => this.tryCommit(groupId, plan, catchUp));
      this.hooks.settled(groupId);
      if (outcome !== "retry") return outcome;
      await sleep(Math.random() * 50 * (attempt + 1));
    }
    throw new VeilError("commit_conflict");
  }

  private async tryCommit(
    groupId: string,
    plan: (loaded: LoadedGroup) => Promise<PlannedCommit | null>,
    catchUp: boolean,
  ): Promise<PlannedCommit | null | "retry"> {
    if (catchUp) await this.syncLocked(groupId);
    const loaded = await this.load(groupId);
    if (!loaded) throw new VeilError("group_unknown");
    if (!loaded.meta.active) throw new VeilError("group_left");
    const planned = await plan(loaded);
    if (!planned) return null;
    const epoch = Number(loaded.group.epoch);
    // Keep the state the commit leads to: if the answer is lost, the log shows
    // our commit and we adopt this (see `own_commit`).
    loaded.meta = { ...loaded.meta, pendingCommitEpoch: epoch };
    await this.context.state.write([
      put(ns.pendingMls, groupId, planned.next.serialize()),
      put(ns.groups, groupId, asJson(loaded.meta)),
    ]);
    let appended: { seq: number };
    try {
      appended = await this.context.api.commit(groupId, {
        epoch,
        commit: toBase64Url(planned.commit),
        ...(planned.welcome ? { welcome: toBase64Url(planned.welcome) } : {}),
        addDevices: planned.addDevices.map((m) => m.deviceId),
        removeDevices: planned.removeDevices.map((m) => m.deviceId),
      });
    } catch (err) {
      if (isVeilError(err, "stale_epoch") || isVeilError(err, "device_not_member")) {
        this.context.logger.debug({ groupId, code: err.code }, "commit refused; catching up");
        loaded.meta = { ...loaded.meta, pendingCommitEpoch: null };
        await this.save(loaded, [del(ns.pendingMls, groupId)], false);
        return "retry";
      }
      if (isVeilError(err) && err.retryable) throw err; // outcome unknown: the log will tell
      loaded.meta = { ...loaded.meta, pendingCommitEpoch: null };
      await this.save(loaded, [del(ns.pendingMls, groupId)], false);
      throw err;
    }
    const members = { ...loaded.meta.members };
    for (const m of planned.addDevices) if (m.userId) members[m.deviceId] = m.userId;
    // Nothing between our cursor and the commit: it is read (ours, of the old epoch).
    const next = appended.seq === loaded.meta.cursor + 1;
    loaded.group = planned.next;
    loaded.meta = {
      ...loaded.meta,
      members,
      pendingCommitEpoch: null,
      ...(next ? { cursor: appended.seq } : {}),
    };
    await this.save(loaded, [del(ns.pendingMls, groupId)]);
    // Otherwise: entries before our commit (messages of the old epoch) and the commit itself.
    if (!next) await this.syncLocked(groupId);
    if (planned.addDevices.length > 0)
      this.emitMembership(groupId, "members-added", planned.addDevices, this.context.deviceId);
    if (planned.removeDevices.length > 0)
      this.emitMembership(groupId, "members-removed", planned.removeDevices, this.context.deviceId);
    return planned;
  }

  /** Runs an MLS operation that may meet credentials, and keeps the keys it learnt. */
  async mls<T extends { next: Group }>(operation: () => Promise<T>): Promise<T> {
    return this.mlsLock.run("mls", async () => {
      this.registry.begin();
      try {
        const result = await operation();
        this.registry.accept(result.next.members().map((m) => m.credentialId));
        return result;
      } catch (err) {
        this.registry.discard();
        throw err;
      }
    });
  }

  // --- state ---------------------------------------------------------------------

  /** Writes a group's meta (and state) with `extra` in one batch. */
  async save(loaded: LoadedGroup, extra: StoreOp[], withState = true): Promise<void> {
    const { groupId } = loaded.meta;
    const ops: StoreOp[] = [put(ns.groups, groupId, asJson(loaded.meta)), ...extra];
    if (withState) ops.unshift(put(ns.mls, groupId, loaded.group.serialize()));
    ops.push(...this.registry.drain());
    await this.context.state.write(ops);
    this.cache.set(groupId, loaded);
  }

  /** The user of a device in this group: from the member list, asking the server if unknown. */
  async userOf(loaded: LoadedGroup, deviceId: string): Promise<string | null> {
    const known = loaded.meta.members[deviceId];
    if (known) return known;
    try {
      await this.refreshMembers(loaded.meta);
    } catch (err) {
      if (!isVeilError(err) || err.retryable) throw err;
    }
    return loaded.meta.members[deviceId] ?? null;
  }

  async refreshMembers(meta: GroupMeta): Promise<void> {
    const summary = await this.context.api.group(meta.groupId);
    meta.members = {
      ...meta.members,
      ...Object.fromEntries(summary.members.map((m) => [m.deviceId, m.userId])),
    };
    if (summary.peerUserId) meta.peerUserId = summary.peerUserId;
  }

  /** This user left the group (the server took its devices off): no more reading or sending. */
  async left(groupId: string): Promise<void> {
    await this.lock.run(groupId, async () => {
      const loaded = await this.load(groupId);
      if (loaded?.meta.active) await this.markLeft(loaded);
    });
  }

  private async markLeft(loaded: LoadedGroup): Promise<void> {
    loaded.meta = { ...loaded.meta, active: false };
    await this.save(loaded, [], false);
    this.emitMembership(loaded.meta.groupId, "left", [this.me()]);
  }

  private reportCursor(groupId: string, delayMs: number): void {
    const previous = this.cursorTimers.get(groupId);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => {
      this.cursorTimers.delete(groupId);
      const loaded = this.cache.get(groupId);
      if (!loaded?.meta.active || this.context.closed()) return;
      this.context.api.setCursor(groupId, loaded.meta.cursor).catch((err: unknown) => {
        this.context.logger.debug({ groupId, err: String(err) }, "cursor not recorded");
      });
    }, delayMs);
    this.cursorTimers.set(groupId, timer);
  }

  stopTimers(): void {
    for (const t of this.cursorTimers.values()) clearTimeout(t);
    this.cursorTimers.clear();
  }

  private me(): Member {
    return { userId: this.context.userId, deviceId: this.context.deviceId };
  }

  private emitMembership(
    groupId: string,
    change: MembershipEvent["change"],
    members: Member[],
    byDeviceId: string | null = null,
  ): void {
    // Key channels are plumbing of the announcements: never shown.
    if (this.cache.get(groupId)?.meta.kind === "keys") return;
    this.context.events.emit("membership", { groupId, change, members, byDeviceId });
  }

  private undecryptable(groupId: string, seq: number, cause?: unknown): void {
    reportError(this.context, new VeilError("message_undecryptable", undefined, { cause }), {
      groupId,
      seq,
    });
  }
}
