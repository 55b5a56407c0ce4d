import type {
  ClientState,
  MLSMessage,
  PrivateMessage,
  Proposal,
  PublicMessage,
  RatchetTree,
} from "ts-mls";
import {
  createApplicationMessage,
  createCommit,
  decodeGroupState,
  decodeMlsMessage,
  emptyPskIndex,
  encodeMlsMessage,
  makePskIndex,
  createGroup as mlsCreateGroup,
  mlsExporter,
  joinGroup as mlsJoinGroup,
  processPrivateMessage,
  processPublicMessage,
} from "ts-mls";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { unprotectPublicMessage } from "ts-mls/messageProtectionPublic.js";
import { CryptoError, CryptoVerificationError, DependencyError } from "ts-mls/mlsError.js";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { credentialIdOf } from "./credentials.js";
import { MlsError, type MlsErrorCode } from "./errors.js";
import { encodeGroupStateFlat } from "./group-state-codec.js";
import {
  decodeKeyPackage,
  decodePrivateKeyPackage,
  generateKeyPackage,
  type KeyPackageBundle,
  keyPackageCredentialId,
} from "./key-package.js";
import { type MlsSuite, suiteInternals } from "./suites.js";

/** One member of a group: its leaf and the opaque credential id it carries. */
export interface Member {
  leafIndex: number;
  credentialId: string;
}

/** What `Group.process` found in a message, with the group state after it. */
export type ProcessResult =
  | {
      kind: "application";
      plaintext: Uint8Array;
      senderCredentialId: string;
      /** The sender's authenticated, unencrypted data (empty when none was given). */
      authenticatedData: Uint8Array;
      next: Group;
    }
  | {
      kind: "commit";
      senderCredentialId: string;
      added: string[];
      /** Includes this device's own id when the commit removed it (`next.active` is false). */
      removed: string[];
      next: Group;
    };

export interface CommitResult {
  /** An MLSMessage (PublicMessage) for the delivery service to order and fan out. */
  commit: Uint8Array;
  /**
   * The group once the commit is applied. Keep it (persisted) while the commit is in flight:
   * adopt it when the server accepts the commit, drop it when the server refuses it.
   */
  next: Group;
}

/**
 * An MLS group as one device sees it. Immutable: every operation returns a new Group and
 * leaves this one as it was, so a failed operation never costs the caller its state.
 */
export interface Group {
  /** Our server's group id (the UTF-8 MLS group_id). */
  readonly groupId: string;
  readonly epoch: bigint;
  readonly myCredentialId: string;
  readonly suite: MlsSuite;
  /** False once a commit removed this device: nothing more can be sent or read. */
  readonly active: boolean;
  members(): Member[];
  /** Adds the devices of these key packages (encoded MLSMessages, as the server hands them out). */
  add(publicKeyPackages: Uint8Array[]): Promise<CommitResult & { welcome: Uint8Array }>;
  remove(credentialIds: string[]): Promise<CommitResult>;
  /** Fresh keys for this device's path: post-compromise security. */
  update(): Promise<CommitResult>;
  encrypt(
    plaintext: Uint8Array,
    authenticatedData?: Uint8Array,
  ): Promise<{ message: Uint8Array; next: Group }>;
  /** Applies a commit or decrypts an application message; throws MlsError otherwise. */
  process(message: Uint8Array): Promise<ProcessResult>;
  /** MLS-Exporter: a secret bound to this epoch, for media and call keys. */
  exportSecret(label: string, context: Uint8Array, length: number): Promise<Uint8Array>;
  /** The whole state, private keys included: store it encrypted at rest, like any key. */
  serialize(): Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
const maxGroupIdBytes = 255;

/**
 * Creates a group with this device as its only member, at epoch 0.
 * @example
 * const group = await createGroup(suite, "g_abc", "d_xyz");
 */
export async function createGroup(
  suite: MlsSuite,
  groupId: string,
  credentialId: string,
  keyPackage?: KeyPackageBundle,
): Promise<Group> {
  const { impl, config, id } = suiteInternals(suite);
  const groupIdBytes = groupIdentity(groupId);
  const bundle = keyPackage ?? (await generateKeyPackage(suite, credentialId));
  const publicPackage = decodeKeyPackage(bundle.publicKeyPackage);
  const privatePackage = decodePrivateKeyPackage(id, bundle.privateKeyPackage);
  if (publicPackage === undefined || privatePackage === undefined) {
    throw new MlsError("invalid_argument", "Not a key package of this suite");
  }
  if (publicPackage.cipherSuite !== suite.name) {
    throw new MlsError("invalid_argument", "The key package is for another suite");
  }
  if (keyPackageCredentialId(publicPackage) !== credentialId) {
    throw new MlsError("invalid_argument", "The key package carries another credential id");
  }
  const state = await mlsCreateGroup(groupIdBytes, publicPackage, privatePackage, [], impl, config);
  return new MlsGroup(suite, state);
}

/**
 * Joins a group from a welcome addressed to one of this device's key packages.
 * @example
 * const group = await joinGroup(suite, welcome, bundle.privateKeyPackage, bundle.publicKeyPackage);
 */
export async function joinGroup(
  suite: MlsSuite,
  welcome: Uint8Array,
  privateKeyPackage: Uint8Array,
  publicKeyPackage: Uint8Array,
): Promise<Group> {
  const { impl, config, id } = suiteInternals(suite);
  const message = decodeMessage(welcome);
  if (message.wireformat !== "mls_welcome") throw new MlsError("malformed", "Not a welcome");
  const keyPackage = decodeKeyPackage(publicKeyPackage);
  const privateKeys = decodePrivateKeyPackage(id, privateKeyPackage);
  if (keyPackage === undefined || privateKeys === undefined) {
    throw new MlsError("invalid_argument", "Not a key package of this suite");
  }
  if (message.welcome.cipherSuite !== suite.name || keyPackage.cipherSuite !== suite.name) {
    throw new MlsError("not_for_this_group", "The welcome is for another suite");
  }
  const ref = await makeKeyPackageRef(keyPackage, impl.hash);
  if (!message.welcome.secrets.some((s) => equalBytes(s.newMember, ref))) {
    throw new MlsError("not_for_this_group", "The welcome is not for this key package");
  }
  let state: ClientState;
  try {
    state = await mlsJoinGroup(
      message.welcome,
      keyPackage,
      privateKeys,
      emptyPskIndex,
      impl,
      undefined,
      undefined,
      config,
    );
  } catch (err) {
    throw libraryError(err, "malformed");
  }
  if (groupIdOf(state) === undefined) throw new MlsError("malformed", "The group id is not ours");
  const duplicate = duplicateCredentialId(state.ratchetTree);
  if (duplicate !== undefined) {
    throw new MlsError("malformed", "Two members of the group carry the same credential id");
  }
  return new MlsGroup(suite, state);
}

/** Reads a group written by `Group.serialize()`. */
export function restoreGroup(suite: MlsSuite, bytes: Uint8Array): Group {
  const { config, id } = suiteInternals(suite);
  if (bytes.length < 3 || bytes[0] !== stateFormatVersion) {
    throw new MlsError("malformed", "Not a serialised group");
  }
  if (((bytes[1] ?? 0) << 8) + (bytes[2] ?? 0) !== id) {
    throw new MlsError("invalid_argument", "The group was serialised with another suite");
  }
  let decoded: ReturnType<typeof decodeGroupState>;
  try {
    decoded = decodeGroupState(bytes, 3);
  } catch (err) {
    throw new MlsError("malformed", "Not a serialised group", { cause: err });
  }
  if (decoded === undefined || decoded[1] !== bytes.length - 3) {
    throw new MlsError("malformed", "Not a serialised group");
  }
  const state: ClientState = { ...decoded[0], clientConfig: config };
  if (state.groupContext.cipherSuite !== suite.name || groupIdOf(state) === undefined) {
    throw new MlsError("malformed", "Not a serialised group of this suite");
  }
  return new MlsGroup(suite, state);
}

// Serialised group format, version 1: 0x01, suite id (uint16), then ts-mls's GroupState
// encoding (written by encodeGroupStateFlat, read by ts-mls's decodeGroupState).
const stateFormatVersion = 1;

class MlsGroup implements Group {
  readonly #state: ClientState;
  readonly suite: MlsSuite;

  constructor(suite: MlsSuite, state: ClientState) {
    this.suite = suite;
    this.#state = state;
  }

  get groupId(): string {
    return groupIdOf(this.#state) ?? "";
  }

  get epoch(): bigint {
    return this.#state.groupContext.epoch;
  }

  get myCredentialId(): string {
    return credentialIdAt(this.#state.ratchetTree, this.#state.privatePath.leafIndex) ?? "";
  }

  get active(): boolean {
    return this.#state.groupActiveState.kind === "active";
  }

  members(): Member[] {
    const members: Member[] = [];
    const tree = this.#state.ratchetTree;
    for (let node = 0; node < tree.length; node += 2) {
      const credentialId = credentialIdAt(tree, node / 2);
      if (credentialId !== undefined) members.push({ leafIndex: node / 2, credentialId });
    }
    return members;
  }

  async add(publicKeyPackages: Uint8Array[]) {
    this.#assertActive();
    if (publicKeyPackages.length === 0) {
      throw new MlsError("invalid_argument", "Nothing to add");
    }
    const present = new Set(this.members().map((m) => m.credentialId));
    const signatureKeys = leafSignatureKeys(this.#state.ratchetTree, new Set());
    const proposals: Proposal[] = publicKeyPackages.map((bytes) => {
      const keyPackage = decodeKeyPackage(bytes);
      if (keyPackage === undefined) throw new MlsError("invalid_key_package", "Not a key package");
      if (keyPackage.cipherSuite !== this.suite.name) {
        throw new MlsError("invalid_key_package", "The key package is for another suite");
      }
      const credentialId = keyPackageCredentialId(keyPackage);
      if (credentialId === undefined) {
        throw new MlsError("invalid_key_package", "The credential is not an opaque credential id");
      }
      const signatureKey = toHex(keyPackage.leafNode.signaturePublicKey);
      if (present.has(credentialId) || signatureKeys.has(signatureKey)) {
        throw new MlsError("invalid_key_package", "That device is already a member");
      }
      present.add(credentialId);
      signatureKeys.add(signatureKey);
      return { proposalType: "add", add: { keyPackage } };
    });
    const { commit, next, welcome } = await this.#commit(proposals, "invalid_key_package");
    if (welcome === undefined) throw new MlsError("invalid_key_package", "No welcome was made");
    return { commit, next, welcome };
  }

  async remove(credentialIds: string[]) {
    this.#assertActive();
    if (credentialIds.length === 0) throw new MlsError("invalid_argument", "Nothing to remove");
    const byId = new Map(this.members().map((m) => [m.credentialId, m.leafIndex]));
    const leaves = new Set<number>();
    for (const id of credentialIds) {
      const leaf = byId.get(id);
      if (leaf === undefined) throw new MlsError("unknown_member");
      if (leaf === this.#state.privatePath.leafIndex) {
        throw new MlsError("invalid_argument", "A device cannot remove itself by commit");
      }
      leaves.add(leaf);
    }
    const proposals: Proposal[] = [...leaves].map((removed) => ({
      proposalType: "remove",
      remove: { removed },
    }));
    const { commit, next } = await this.#commit(proposals, "invalid_argument");
    return { commit, next };
  }

  async update() {
    this.#assertActive();
    const { commit, next } = await this.#commit([], "invalid_argument");
    return { commit, next };
  }

  async encrypt(plaintext: Uint8Array, authenticatedData: Uint8Array = new Uint8Array()) {
    this.#assertActive();
    const { impl } = suiteInternals(this.suite);
    try {
      const { newState, privateMessage } = await createApplicationMessage(
        this.#state,
        plaintext,
        impl,
        authenticatedData,
      );
      const message = encodeMlsMessage({
        version: "mls10",
        wireformat: "mls_private_message",
        privateMessage,
      });
      return { message, next: new MlsGroup(this.suite, newState) };
    } catch (err) {
      throw libraryError(err, "invalid_argument");
    }
  }

  async process(bytes: Uint8Array): Promise<ProcessResult> {
    const message = decodeMessage(bytes);
    if (message.wireformat === "mls_public_message")
      return this.#processPublic(message.publicMessage);
    if (message.wireformat === "mls_private_message") {
      return this.#processPrivate(message.privateMessage);
    }
    throw new MlsError("malformed", `A ${message.wireformat} is not a group message`);
  }

  async exportSecret(label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
    const { impl } = suiteInternals(this.suite);
    const max = 255 * impl.kdf.size;
    if (typeof label !== "string" || label.length === 0 || !Number.isInteger(length)) {
      throw new MlsError("invalid_argument", "An exporter needs a label and a length");
    }
    if (length < 1 || length > max) {
      throw new MlsError("invalid_argument", `An exporter gives 1 to ${max} bytes`);
    }
    return mlsExporter(this.#state.keySchedule.exporterSecret, label, context, length, impl);
  }

  serialize(): Uint8Array {
    const { id } = suiteInternals(this.suite);
    const state = encodeGroupStateFlat(this.#state);
    const out = new Uint8Array(3 + state.length);
    out[0] = stateFormatVersion;
    out[1] = id >> 8;
    out[2] = id & 0xff;
    out.set(state, 3);
    return out;
  }

  #assertActive(): void {
    if (!this.active) throw new MlsError("removed");
  }

  async #commit(proposals: Proposal[], refused: MlsErrorCode) {
    const { impl } = suiteInternals(this.suite);
    try {
      const result = await createCommit(
        { state: this.#state, cipherSuite: impl },
        { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true },
      );
      return {
        commit: encodeMlsMessage(result.commit),
        next: new MlsGroup(this.suite, result.newState),
        welcome:
          result.welcome &&
          encodeMlsMessage({
            version: "mls10",
            wireformat: "mls_welcome",
            welcome: result.welcome,
          }),
      };
    } catch (err) {
      throw libraryError(err, refused);
    }
  }

  #checkGroupAndState(groupId: Uint8Array): void {
    if (!equalBytes(groupId, this.#state.groupContext.groupId)) {
      throw new MlsError("not_for_this_group");
    }
    this.#assertActive();
  }

  async #processPublic(pm: PublicMessage): Promise<ProcessResult> {
    const state = this.#state;
    const { content } = pm;
    this.#checkGroupAndState(content.groupId);
    if (content.contentType === "application") {
      throw new MlsError("malformed", "Application messages are never public");
    }
    if (content.sender.senderType !== "member" || content.contentType !== "commit") {
      throw new MlsError("unsupported", "Only commits by members are used");
    }
    const current = state.groupContext.epoch;
    if (content.sender.leafIndex === state.privatePath.leafIndex) {
      if (content.epoch < current) throw new MlsError("duplicate");
      if (content.epoch === current) {
        // Only a commit that authenticates as this device's own is called so.
        const { impl } = suiteInternals(this.suite);
        try {
          await unprotectPublicMessage(
            state.keySchedule.membershipKey,
            state.groupContext,
            state.ratchetTree,
            pm,
            impl,
          );
        } catch (err) {
          throw libraryError(err, "malformed");
        }
        throw new MlsError("own_commit");
      }
    }
    if (content.epoch !== current) throw new MlsError("wrong_epoch");
    const added: string[] = [];
    const removed: string[] = [];
    const removedLeaves = new Set<number>();
    for (const p of content.commit.proposals) {
      if (p.proposalOrRefType !== "proposal") {
        throw new MlsError("unsupported", "Proposals by reference are not used");
      }
      const { proposal } = p;
      if (proposal.proposalType === "add") {
        const id = keyPackageCredentialId(proposal.add.keyPackage);
        // Refused again by the credential check inside ts-mls; kept here for a clear code.
        if (id === undefined) throw new MlsError("malformed", "An added credential is not ours");
        added.push(id);
      } else if (proposal.proposalType === "remove") {
        const id = credentialIdAt(state.ratchetTree, proposal.remove.removed);
        if (id === undefined) throw new MlsError("malformed", "Removes an empty leaf");
        removed.push(id);
        removedLeaves.add(proposal.remove.removed);
      } else {
        throw new MlsError(
          "unsupported",
          `${String(proposal.proposalType)} proposals are not used`,
        );
      }
    }
    // One leaf per credential id: a commit may not add a second leaf claiming a member's id.
    const remaining = new Set(
      this.members()
        .filter((m) => !removedLeaves.has(m.leafIndex))
        .map((m) => m.credentialId),
    );
    for (const id of added) {
      if (remaining.has(id))
        throw new MlsError("malformed", "Adds a credential id already present");
      remaining.add(id);
    }
    const senderCredentialId = credentialIdAt(state.ratchetTree, content.sender.leafIndex);
    if (senderCredentialId === undefined) throw new MlsError("malformed", "Unknown committer");
    const { impl } = suiteInternals(this.suite);
    let newState: ClientState;
    try {
      ({ newState } = await processPublicMessage(state, pm, makePskIndex(state, {}), impl));
    } catch (err) {
      throw libraryError(err, "malformed");
    }
    return {
      kind: "commit",
      senderCredentialId,
      added,
      removed,
      next: new MlsGroup(this.suite, newState),
    };
  }

  async #processPrivate(pm: PrivateMessage): Promise<ProcessResult> {
    const state = this.#state;
    this.#checkGroupAndState(pm.groupId);
    if (pm.contentType !== "application") {
      throw new MlsError("unsupported", "Commits and proposals travel as public messages");
    }
    const current = state.groupContext.epoch;
    const epochData =
      pm.epoch === current
        ? {
            senderDataSecret: state.keySchedule.senderDataSecret,
            ratchetTree: state.ratchetTree,
            secretTree: state.secretTree,
          }
        : pm.epoch < current
          ? state.historicalReceiverData.get(pm.epoch)
          : undefined;
    if (epochData === undefined) throw new MlsError("wrong_epoch");
    const { impl } = suiteInternals(this.suite);
    // The sender data is read first so that a replay, or this device's own message echoed
    // back by the server, is told apart from tampering without parsing error messages.
    let sender: Awaited<ReturnType<typeof decryptSenderData>>;
    try {
      sender = await decryptSenderData(pm, epochData.senderDataSecret, impl);
    } catch (err) {
      throw libraryError(err, "decrypt_failed");
    }
    if (sender === undefined) throw new MlsError("malformed", "Unreadable sender data");
    const senderCredentialId = credentialIdAt(epochData.ratchetTree, sender.leafIndex);
    if (senderCredentialId === undefined) throw new MlsError("malformed", "No such sender");
    if (sender.leafIndex === state.privatePath.leafIndex) throw new MlsError("duplicate");
    const ratchet = epochData.secretTree[2 * sender.leafIndex]?.application;
    if (ratchet === undefined) throw new MlsError("malformed", "No such sender");
    if (
      sender.generation < ratchet.generation &&
      ratchet.unusedGenerations[sender.generation] === undefined
    ) {
      throw new MlsError("duplicate");
    }
    let result: Awaited<ReturnType<typeof processPrivateMessage>>;
    try {
      result = await processPrivateMessage(state, pm, emptyPskIndex, impl);
    } catch (err) {
      throw libraryError(err, "malformed");
    }
    if (result.kind !== "applicationMessage") {
      throw new MlsError("unsupported", "Expected an application message");
    }
    return {
      kind: "application",
      plaintext: result.message,
      senderCredentialId,
      authenticatedData: pm.authenticatedData,
      next: new MlsGroup(this.suite, result.newState),
    };
  }
}

function decodeMessage(bytes: Uint8Array): MLSMessage {
  if (!(bytes instanceof Uint8Array)) throw new MlsError("malformed", "Not bytes");
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw new MlsError("malformed", undefined, { cause: err });
  }
  if (decoded === undefined || decoded[1] !== bytes.length) throw new MlsError("malformed");
  if (decoded[0].version !== "mls10") throw new MlsError("unsupported", "Not MLS 1.0");
  return decoded[0];
}

/** ts-mls's error classes onto our codes; anything else (a TypeError on hostile input) too. */
function libraryError(err: unknown, fallback: MlsErrorCode): MlsError {
  if (err instanceof MlsError) return err;
  if (err instanceof CryptoError || err instanceof CryptoVerificationError) {
    return new MlsError(
      fallback === "invalid_key_package" ? fallback : "decrypt_failed",
      undefined,
      {
        cause: err,
      },
    );
  }
  if (err instanceof DependencyError) return new MlsError("unsupported", undefined, { cause: err });
  // CodecError, ValidationError, InternalError and anything thrown on hostile input.
  return new MlsError(fallback, undefined, { cause: err });
}

function groupIdentity(groupId: string): Uint8Array {
  const bytes = typeof groupId === "string" ? utf8.encode(groupId) : new Uint8Array();
  if (bytes.length === 0 || bytes.length > maxGroupIdBytes) {
    throw new MlsError("invalid_argument", "A group id is 1 to 255 bytes of UTF-8");
  }
  return bytes;
}

function groupIdOf(state: ClientState): string | undefined {
  try {
    return fromUtf8.decode(state.groupContext.groupId);
  } catch {
    return undefined;
  }
}

function credentialIdAt(tree: RatchetTree, leafIndex: number): string | undefined {
  const node = tree[2 * leafIndex];
  if (node?.nodeType !== "leaf") return undefined;
  const { credential } = node.leaf;
  return credential.credentialType === "basic" ? credentialIdOf(credential.identity) : undefined;
}

function duplicateCredentialId(tree: RatchetTree): string | undefined {
  const seen = new Set<string>();
  for (let node = 0; node < tree.length; node += 2) {
    const id = credentialIdAt(tree, node / 2);
    if (id === undefined) continue;
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** The signature keys (hex) of the tree's leaves, except `except`. */
function leafSignatureKeys(tree: RatchetTree, except: Set<number>): Set<string> {
  const keys = new Set<string>();
  for (let node = 0; node < tree.length; node += 2) {
    const n = tree[node];
    if (n?.nodeType === "leaf" && !except.has(node / 2)) keys.add(toHex(n.leaf.signaturePublicKey));
  }
  return keys;
}

const hexByte = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += hexByte[b];
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
