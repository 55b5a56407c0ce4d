import { decodeMlsMessage } from "ts-mls";
import { VeilError } from "../errors.js";

/**
 * What the delivery service may read of an MLS message without any key: its
 * wire format and public framing. Used to refuse malformed bytes, messages
 * for another group or epoch, and key packages that name another device.
 */
export type MlsFraming =
  | { wireformat: "mls_key_package"; credentialId: string | null }
  | { wireformat: "mls_welcome" }
  | {
      wireformat: "mls_private_message" | "mls_public_message";
      groupId: string;
      epoch: number;
      contentType: string;
      /** Public commits: the credential ids their Add proposals bring in. */
      addedCredentialIds: string[];
    }
  | { wireformat: "other" };

const utf8 = new TextDecoder("utf-8", { fatal: false });

export function inspectMls(bytes: Uint8Array): MlsFraming {
  let decoded: ReturnType<typeof decodeMlsMessage>;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    throw new VeilError("mls_malformed");
  }
  if (!decoded || decoded[1] !== bytes.length) throw new VeilError("mls_malformed");
  const message = decoded[0];
  switch (message.wireformat) {
    case "mls_key_package": {
      const credential = message.keyPackage.leafNode.credential;
      return {
        wireformat: "mls_key_package",
        credentialId:
          credential.credentialType === "basic" ? utf8.decode(credential.identity) : null,
      };
    }
    case "mls_welcome":
      return { wireformat: "mls_welcome" };
    case "mls_private_message":
      return {
        wireformat: "mls_private_message",
        groupId: utf8.decode(message.privateMessage.groupId),
        epoch: Number(message.privateMessage.epoch),
        contentType: message.privateMessage.contentType,
        addedCredentialIds: [],
      };
    case "mls_public_message": {
      const content = message.publicMessage.content;
      const added: string[] = [];
      if (content.contentType === "commit") {
        for (const p of content.commit.proposals) {
          if (p.proposalOrRefType !== "proposal" || p.proposal.proposalType !== "add") continue;
          const credential = p.proposal.add.keyPackage.leafNode.credential;
          if (credential.credentialType === "basic") added.push(utf8.decode(credential.identity));
        }
      }
      return {
        wireformat: "mls_public_message",
        groupId: utf8.decode(content.groupId),
        epoch: Number(content.epoch),
        contentType: content.contentType,
        addedCredentialIds: added,
      };
    }
    default:
      return { wireformat: "other" };
  }
}

/** base64url → bytes, refusing anything that does not round-trip. */
export function mlsBytes(encoded: string): Buffer {
  const bytes = Buffer.from(encoded, "base64url");
  if (bytes.length === 0 || bytes.toString("base64url") !== encoded)
    throw new VeilError("mls_malformed");
  return bytes;
}
