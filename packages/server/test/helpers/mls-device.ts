import type { LogEntry, MailboxItem } from "@veil/protocol";
import {
  acceptAll,
  type CiphersuiteImpl,
  type ClientState,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
  processMessage,
} from "ts-mls";
import { http, type Reply } from "./client.js";

const suite = getCiphersuiteImpl(
  getCiphersuiteFromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"),
);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A test MLS client for one device, straight on ts-mls: just enough to drive
 * the delivery service with real MLS bytes (the SDK replaces it for apps).
 */
export class MlsDevice {
  readonly groups = new Map<string, ClientState>();
  readonly received: Array<{ groupId: string; seq: number; text: string }> = [];
  private readonly keyPackages: Array<{
    publicPackage: KeyPackage;
    privatePackage: PrivateKeyPackage;
  }> = [];
  private cs!: CiphersuiteImpl;

  constructor(
    readonly base: string,
    readonly userId: string,
    readonly deviceId: string,
    readonly token: string,
  ) {}

  request<T = any>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return http<T>(this.base, method, path, { token: this.token, body });
  }

  private async impl(): Promise<CiphersuiteImpl> {
    this.cs ??= await suite;
    return this.cs;
  }

  async newKeyPackage() {
    const credential = { credentialType: "basic" as const, identity: enc.encode(this.deviceId) };
    const kp = await generateKeyPackage(
      credential,
      defaultCapabilities(),
      defaultLifetime,
      [],
      await this.impl(),
    );
    this.keyPackages.push(kp);
    return kp;
  }

  /** Uploads `count` one-time key packages. */
  async uploadKeyPackages(count: number): Promise<Reply> {
    const packages: string[] = [];
    for (let i = 0; i < count; i++) {
      const kp = await this.newKeyPackage();
      packages.push(
        b64(
          encodeMlsMessage({
            version: "mls10",
            wireformat: "mls_key_package",
            keyPackage: kp.publicPackage,
          }),
        ),
      );
    }
    return this.request("POST", "/v1/key-packages", { keyPackages: packages });
  }

  /** Creates the group on the server, then the MLS group under its id. */
  async createGroup(
    body: { kind: "group" } | { kind: "direct"; peerUserId: string },
  ): Promise<string> {
    const r = await this.request("POST", "/v1/groups", body);
    if (r.status !== 201) throw new Error(`create failed: ${JSON.stringify(r.body)}`);
    return this.adopt(r.body.id);
  }

  /** Creates the MLS group for a group the server created with this device in it (epoch 0). */
  async adopt(groupId: string): Promise<string> {
    const kp = await this.newKeyPackage();
    this.groups.set(
      groupId,
      await createGroup(
        enc.encode(groupId),
        kp.publicPackage,
        kp.privatePackage,
        [],
        await this.impl(),
      ),
    );
    return groupId;
  }

  /** Claims key packages of `userIds` and commits adding all their devices. */
  async add(groupId: string, userIds: string[]): Promise<Reply> {
    const claimed = await this.request("POST", "/v1/key-packages/claim", { userIds });
    if (claimed.status !== 200) return claimed;
    const proposals: Proposal[] = claimed.body.devices.map((d: { keyPackage: string }) => {
      const decoded = decodeMlsMessage(Buffer.from(d.keyPackage, "base64url"), 0)?.[0];
      if (decoded?.wireformat !== "mls_key_package") throw new Error("not a key package");
      return { proposalType: "add", add: { keyPackage: decoded.keyPackage } };
    });
    return this.commit(
      groupId,
      proposals,
      claimed.body.devices.map((d: { deviceId: string }) => d.deviceId),
      [],
    );
  }

  /** Commits removing these devices. */
  async remove(groupId: string, deviceIds: string[]): Promise<Reply> {
    const state = this.state(groupId);
    const proposals: Proposal[] = deviceIds.map((id) => ({
      proposalType: "remove",
      remove: { removed: this.leafOf(state, id) },
    }));
    return this.commit(groupId, proposals, [], deviceIds);
  }

  /** Builds a commit on the current state; adopts it only when the server accepts it. */
  async commit(
    groupId: string,
    proposals: Proposal[],
    addDevices: string[],
    removeDevices: string[],
    epochOverride?: number,
  ): Promise<Reply> {
    const state = this.state(groupId);
    const result = await createCommit(
      { state, cipherSuite: await this.impl() },
      { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true },
    );
    const body: Record<string, unknown> = {
      epoch: epochOverride ?? Number(state.groupContext.epoch),
      commit: b64(encodeMlsMessage(result.commit)),
      addDevices,
      removeDevices,
    };
    if (result.welcome)
      body.welcome = b64(
        encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome }),
      );
    const r = await this.request("POST", `/v1/groups/${groupId}/commits`, body);
    if (r.status === 201) {
      this.groups.set(groupId, result.newState);
      this.ownCommits.add(`${groupId}:${r.body.seq}`);
    }
    return r;
  }

  private readonly ownCommits = new Set<string>();

  /** Encrypts without sending (for signals); returns the MLS message as base64url. */
  async encryptOnly(groupId: string, text: string): Promise<string> {
    const { newState, privateMessage } = await createApplicationMessage(
      this.state(groupId),
      enc.encode(text),
      await this.impl(),
    );
    this.groups.set(groupId, newState);
    return b64(
      encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage }),
    );
  }

  /** Encrypts and sends a text message; returns the server's answer. */
  async send(
    groupId: string,
    text: string,
    id = `m_${Math.random().toString(36).slice(2, 12)}`,
  ): Promise<Reply & { ciphertext: string }> {
    const { newState, privateMessage } = await createApplicationMessage(
      this.state(groupId),
      enc.encode(text),
      await this.impl(),
    );
    this.groups.set(groupId, newState);
    const ciphertext = b64(
      encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage }),
    );
    const r = await this.request("POST", `/v1/groups/${groupId}/messages`, {
      id,
      message: ciphertext,
    });
    return Object.assign(r, { ciphertext });
  }

  /** Joins from a welcome in the mailbox (trying this device's key packages). */
  async join(item: MailboxItem): Promise<void> {
    const decoded = decodeMlsMessage(Buffer.from(item.data as string, "base64url"), 0)?.[0];
    if (decoded?.wireformat !== "mls_welcome") throw new Error("not a welcome");
    for (const kp of this.keyPackages) {
      try {
        const state = await joinGroup(
          decoded.welcome,
          kp.publicPackage,
          kp.privatePackage,
          emptyPskIndex,
          await this.impl(),
        );
        this.groups.set(item.groupId as string, state);
        this.cursors.set(item.groupId as string, item.joinedSeq as number);
        return;
      } catch {
        // not this key package
      }
    }
    throw new Error("no key package matches the welcome");
  }

  readonly cursors = new Map<string, number>();

  /** Reads the mailbox and joins every group it welcomes this device to. */
  async syncMailbox(): Promise<void> {
    const r = await this.request("GET", "/v1/mailbox");
    let upTo = 0;
    for (const item of r.body.items as MailboxItem[]) {
      if (item.kind === "welcome" && !this.groups.has(item.groupId as string))
        await this.join(item);
      upTo = item.seq;
    }
    if (upTo > 0) await this.request("POST", "/v1/mailbox/ack", { upTo });
  }

  /** Processes one log entry in order; returns the plaintext of an application message. */
  async process(entry: LogEntry): Promise<string | null> {
    const cursor = this.cursors.get(entry.groupId) ?? 0;
    if (entry.seq <= cursor) return null; // already seen: shown once
    this.cursors.set(entry.groupId, entry.seq);
    if (
      this.ownCommits.has(`${entry.groupId}:${entry.seq}`) ||
      entry.senderDeviceId === this.deviceId
    )
      return null;
    const decoded = decodeMlsMessage(Buffer.from(entry.data, "base64url"), 0)?.[0];
    if (
      !decoded ||
      (decoded.wireformat !== "mls_private_message" && decoded.wireformat !== "mls_public_message")
    ) {
      throw new Error("not a group message");
    }
    const result = await processMessage(
      decoded,
      this.state(entry.groupId),
      emptyPskIndex,
      acceptAll,
      await this.impl(),
    );
    this.groups.set(entry.groupId, result.newState);
    if (result.kind !== "applicationMessage") return null;
    const text = dec.decode(result.message);
    this.received.push({ groupId: entry.groupId, seq: entry.seq, text });
    return text;
  }

  /** Catches up on a group's log from this device's cursor. */
  async catchUp(groupId: string): Promise<string[]> {
    const r = await this.request(
      "GET",
      `/v1/groups/${groupId}/log?after=${this.cursors.get(groupId) ?? 0}`,
    );
    if (r.status !== 200)
      throw Object.assign(new Error(`log: ${JSON.stringify(r.body)}`), { reply: r });
    const texts: string[] = [];
    for (const entry of r.body.entries as LogEntry[]) {
      const text = await this.process(entry);
      if (text !== null) texts.push(text);
    }
    return texts;
  }

  state(groupId: string): ClientState {
    const state = this.groups.get(groupId);
    if (!state) throw new Error(`not in group ${groupId}`);
    return state;
  }

  private leafOf(state: ClientState, deviceId: string): number {
    for (let i = 0; i < state.ratchetTree.length; i += 2) {
      const node = state.ratchetTree[i];
      if (
        node?.nodeType === "leaf" &&
        node.leaf.credential.credentialType === "basic" &&
        dec.decode(node.leaf.credential.identity) === deviceId
      ) {
        return i / 2;
      }
    }
    throw new Error(`no leaf for ${deviceId}`);
  }

  /** The credential ids in this device's copy of the tree. */
  credentials(groupId: string): string[] {
    return this.state(groupId).ratchetTree.flatMap((node) =>
      node?.nodeType === "leaf" && node.leaf.credential.credentialType === "basic"
        ? [dec.decode(node.leaf.credential.identity)]
        : [],
    );
  }
}
