// Real MLS bytes for the delivery-service scenarios, straight on ts-mls (as
// packages/server/test/helpers/mls-device.ts does): the server reads the
// public framing (group id, epoch, content type), so nothing here is fake.
// Only the sender keeps MLS state: receivers count frames, they never join.
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";

export const ciphersuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";

let suite = null;
const impl = () => {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(ciphersuite));
  return suite;
};
const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
const utf8 = new TextEncoder();

/** A fresh key package whose basic credential is the device id, as the server requires. */
async function newKeyPackage(deviceId) {
  return generateKeyPackage(
    { credentialType: "basic", identity: utf8.encode(deviceId) },
    defaultCapabilities(),
    defaultLifetime,
    [],
    await impl(),
  );
}

/**
 * A one-time key package for `deviceId`, encoded for `POST /v1/key-packages`.
 * The private half is dropped: the bench's receivers never join the group.
 */
export async function encodedKeyPackage(deviceId) {
  const { publicPackage } = await newKeyPackage(deviceId);
  return b64(
    encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_key_package",
      keyPackage: publicPackage,
    }),
  );
}

/** The creator's (and only sender's) side of an MLS group created under the server's id. */
export class GroupSender {
  static async create(groupId, deviceId) {
    const kp = await newKeyPackage(deviceId);
    const state = await createGroup(
      utf8.encode(groupId),
      kp.publicPackage,
      kp.privatePackage,
      [],
      await impl(),
    );
    return new GroupSender(state);
  }

  constructor(state) {
    this.state = state;
  }

  get epoch() {
    return Number(this.state.groupContext.epoch);
  }

  /**
   * A public commit adding the devices of the claimed key packages, with the
   * ratchet tree in the welcome. Resolves to the request body of
   * `POST /v1/groups/:id/commits` and `adopt()`, to call once the server accepted it.
   */
  async commitAdds(claimed) {
    const proposals = claimed.map((device) => {
      const decoded = decodeMlsMessage(Buffer.from(device.keyPackage, "base64url"), 0)?.[0];
      if (decoded?.wireformat !== "mls_key_package") throw new Error("not a key package");
      return { proposalType: "add", add: { keyPackage: decoded.keyPackage } };
    });
    const result = await createCommit(
      { state: this.state, cipherSuite: await impl() },
      { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true },
    );
    const body = {
      epoch: this.epoch,
      commit: b64(encodeMlsMessage(result.commit)),
      welcome: b64(
        encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome: result.welcome }),
      ),
      addDevices: claimed.map((device) => device.deviceId),
    };
    return {
      body,
      adopt: () => {
        this.state = result.newState;
      },
    };
  }

  /**
   * `count` application messages of `bytes` plaintext bytes each, in sending
   * order (the sender's ratchet moves on with each), encoded for
   * `POST /v1/groups/:id/messages`. Every one has the same length.
   */
  async messages(count, bytes) {
    const cs = await impl();
    const out = [];
    for (let i = 0; i < count; i++) {
      const text = `${i} `.padEnd(bytes, "x").slice(0, bytes);
      const { newState, privateMessage } = await createApplicationMessage(
        this.state,
        utf8.encode(text),
        cs,
      );
      this.state = newState;
      out.push(
        b64(
          encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage }),
        ),
      );
    }
    if (new Set(out.map((m) => m.length)).size > 1) throw new Error("message sizes differ");
    return out;
  }
}
