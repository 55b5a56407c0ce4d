import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { decodeMlsMessage, getCiphersuiteFromName } from "ts-mls";

// A pure decoder of MLS framing, for the delivery service: no keys, no group state, and no
// import from the rest of this package, so a server can use it alone.

export type Wireformat =
  | "mls_public_message"
  | "mls_private_message"
  | "mls_welcome"
  | "mls_group_info"
  | "mls_key_package";
export type ContentType = "application" | "proposal" | "commit";

/** What anyone can read in an MLSMessage without keys. Fields appear where they apply. */
export interface MessageInfo {
  wireformat: Wireformat;
  /** Group messages and group infos: our group id (the UTF-8 MLS group_id). */
  groupId?: string;
  /** Group messages and group infos. */
  epoch?: bigint;
  /** Group messages (in clear even in a PrivateMessage). */
  contentType?: ContentType;
  /** Public messages sent by a member: its leaf index. */
  senderLeafIndex?: number;
  /** Public commits: the credential ids of the key packages added by value. */
  addedCredentialIds?: string[];
  /** Public commits: the leaves removed. */
  removedLeafIndices?: number[];
  /** Public commits with an update path: the credential id in the committer's new leaf. */
  committerCredentialId?: string;
  /** Key packages: the credential id of a basic credential (what the uploader must be). */
  keyPackageCredentialId?: string;
  /** Key packages: its KeyPackageRef (hex), as welcomes name their recipients. */
  keyPackageRef?: string;
  /** Key packages: carries the last_resort extension. */
  lastResort?: boolean;
  /** Key packages: validity, Unix seconds. */
  notBefore?: bigint;
  notAfter?: bigint;
  /** Welcomes: the KeyPackageRefs (hex) of the devices it is for. */
  welcomeKeyPackageRefs?: string[];
  /** Key packages and welcomes: the cipher suite name. */
  cipherSuite?: string;
}

const lastResortExtensionType = 0x000a;
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextEncoder();
const hashes = { "SHA-256": sha256, "SHA-384": sha384, "SHA-512": sha512 } as const;

/**
 * Reads the public framing of an encoded MLSMessage, or returns undefined when the bytes are
 * not exactly one well-formed MLSMessage (trailing bytes included) or a group id is not UTF-8.
 * It authenticates nothing: a signature or tag is only checked by group members.
 * @example
 * const info = inspectMessage(body);
 * if (info?.wireformat !== "mls_public_message" || info.contentType !== "commit") reject();
 */
export function inspectMessage(bytes: Uint8Array): MessageInfo | undefined {
  try {
    return inspect(bytes);
  } catch {
    return undefined;
  }
}

function inspect(bytes: Uint8Array): MessageInfo | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  const decoded = decodeMlsMessage(bytes, 0);
  if (decoded === undefined || decoded[1] !== bytes.length) return undefined;
  const [message] = decoded;
  if (message.version !== "mls10") return undefined;
  switch (message.wireformat) {
    case "mls_public_message": {
      const { content } = message.publicMessage;
      const info: MessageInfo = {
        wireformat: message.wireformat,
        groupId: fromUtf8.decode(content.groupId),
        epoch: content.epoch,
        contentType: content.contentType,
      };
      if (content.sender.senderType === "member") info.senderLeafIndex = content.sender.leafIndex;
      if (content.contentType === "commit") {
        const added: string[] = [];
        const removed: number[] = [];
        for (const p of content.commit.proposals) {
          if (p.proposalOrRefType !== "proposal") continue;
          if (p.proposal.proposalType === "add") {
            const id = basicIdentity(p.proposal.add.keyPackage.leafNode.credential);
            if (id !== undefined) added.push(id);
          } else if (p.proposal.proposalType === "remove") {
            removed.push(p.proposal.remove.removed);
          }
        }
        info.addedCredentialIds = added;
        info.removedLeafIndices = removed;
        const path = content.commit.path;
        if (path !== undefined)
          info.committerCredentialId = basicIdentity(path.leafNode.credential);
      }
      return info;
    }
    case "mls_private_message": {
      const pm = message.privateMessage;
      return {
        wireformat: message.wireformat,
        groupId: fromUtf8.decode(pm.groupId),
        epoch: pm.epoch,
        contentType: pm.contentType,
      };
    }
    case "mls_group_info": {
      const { groupContext } = message.groupInfo;
      return {
        wireformat: message.wireformat,
        groupId: fromUtf8.decode(groupContext.groupId),
        epoch: groupContext.epoch,
        cipherSuite: groupContext.cipherSuite,
      };
    }
    case "mls_welcome":
      return {
        wireformat: message.wireformat,
        cipherSuite: message.welcome.cipherSuite,
        welcomeKeyPackageRefs: message.welcome.secrets.map((s) => toHex(s.newMember)),
      };
    case "mls_key_package": {
      const kp = message.keyPackage;
      const info: MessageInfo = {
        wireformat: message.wireformat,
        cipherSuite: kp.cipherSuite,
        lastResort: kp.extensions.some((e) => e.extensionType === lastResortExtensionType),
        keyPackageRef: keyPackageRefHex(kp.cipherSuite, bytes.subarray(4)),
      };
      const id = basicIdentity(kp.leafNode.credential);
      if (id !== undefined) info.keyPackageCredentialId = id;
      if (kp.leafNode.leafNodeSource === "key_package") {
        info.notBefore = kp.leafNode.lifetime.notBefore;
        info.notAfter = kp.leafNode.lifetime.notAfter;
      }
      return info;
    }
    default:
      return undefined;
  }
}

function basicIdentity(credential: { credentialType: string; identity?: Uint8Array }) {
  if (credential.credentialType !== "basic" || credential.identity === undefined) return undefined;
  try {
    return fromUtf8.decode(credential.identity);
  } catch {
    return undefined;
  }
}

/** RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) with the suite's hash (RFC 9420 5.2). */
function keyPackageRefHex(cipherSuite: string, encodedKeyPackage: Uint8Array): string | undefined {
  const suite = getCiphersuiteFromName(cipherSuite as Parameters<typeof getCiphersuiteFromName>[0]);
  if (suite === undefined) return undefined;
  const label = utf8.encode("MLS 1.0 KeyPackage Reference");
  const input = concat(
    varLength(label.length),
    label,
    varLength(encodedKeyPackage.length),
    encodedKeyPackage,
  );
  return toHex(hashes[suite.hash](input));
}

/** The MLS variable-length integer prefix (RFC 9420 2.1.2). */
function varLength(n: number): Uint8Array {
  if (n < 0x40) return Uint8Array.of(n);
  if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  return Uint8Array.of(0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}
