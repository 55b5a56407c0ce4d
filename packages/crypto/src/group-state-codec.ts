import { concatBytes } from "@noble/hashes/utils.js";
import type { GroupState, RatchetTree, SecretTree } from "ts-mls";
import { uint64Encoder } from "ts-mls/codec/number.js";
import { optionalEncoder } from "ts-mls/codec/optional.js";
import { type BufferEncoder, encode } from "ts-mls/codec/tlsEncoder.js";
import { lengthEncoder, varLenDataEncoder } from "ts-mls/codec/variableLength.js";
import { groupActiveStateEncoder } from "ts-mls/groupActiveState.js";
import { groupContextEncoder } from "ts-mls/groupContext.js";
import { keyScheduleEncoder } from "ts-mls/keySchedule.js";
import { privateKeyPathEncoder } from "ts-mls/privateKeyPath.js";
import { nodeEncoder, stripBlankNodes } from "ts-mls/ratchetTree.js";
import { secretTreeNodeEncoder } from "ts-mls/secretTree.js";
import { unappliedProposalsEncoder } from "ts-mls/unappliedProposals.js";

/**
 * ts-mls's encodeGroupState, byte for byte, without its recursion. ts-mls encodes a vector as
 * a chain of closures, one per element, called recursively: past about ten thousand elements
 * (the secret tree of a group of 5000 has 16383 nodes) it overflows the stack. Here the large
 * vectors (secret trees and ratchet trees, current and kept for past epochs) are encoded one
 * element at a time and joined; everything small still goes through ts-mls's encoders, and
 * decodeGroupState reads the result. A test holds the two encodings equal.
 */
export function encodeGroupStateFlat(state: GroupState): Uint8Array {
  const parts: Uint8Array[] = [
    encode(groupContextEncoder)(state.groupContext),
    encode(keyScheduleEncoder)(state.keySchedule),
    ...secretTreeParts(state.secretTree),
    ...ratchetTreeParts(state.ratchetTree),
    encode(privateKeyPathEncoder)(state.privatePath),
    encode(varLenDataEncoder)(state.signaturePrivateKey),
    encode(unappliedProposalsEncoder)(state.unappliedProposals),
    encode(varLenDataEncoder)(state.confirmationTag),
    ...historyParts(state),
    encode(groupActiveStateEncoder)(state.groupActiveState),
  ];
  return concatBytes(...parts);
}

const lengthPrefix = encode(lengthEncoder as BufferEncoder<number>);
const secretNode = encode(secretTreeNodeEncoder);
const optionalNode = encode(optionalEncoder(nodeEncoder));

/** A TLS vector<V>: its variable-length byte count, then its elements. */
function vector(elements: Uint8Array[]): Uint8Array[] {
  let length = 0;
  for (const e of elements) length += e.length;
  return [lengthPrefix(length), ...elements];
}

function secretTreeParts(tree: SecretTree): Uint8Array[] {
  return vector(tree.map((node) => secretNode(node)));
}

function ratchetTreeParts(tree: RatchetTree): Uint8Array[] {
  return vector(stripBlankNodes(tree).map((node) => optionalNode(node)));
}

function historyParts(state: GroupState): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (const [epoch, data] of state.historicalReceiverData) {
    entries.push(
      concatBytes(
        ...[
          encode(uint64Encoder)(epoch),
          encode(varLenDataEncoder)(data.resumptionPsk),
          ...secretTreeParts(data.secretTree),
          ...ratchetTreeParts(data.ratchetTree),
          encode(varLenDataEncoder)(data.senderDataSecret),
          encode(groupContextEncoder)(data.groupContext),
        ],
      ),
    );
  }
  return vector(entries);
}
