import type * as NodeCrypto from "node:crypto";
import type { SenderKeyPrimitives } from "./sender-key-port.js";

const tagLength = 16;

/**
 * Sender-key primitives on node:crypto, with KeyObjects cached per key array: successive
 * sender-key states share their key arrays, so a key is imported once, not once per message.
 * Keys are imported as JWK, about ten times faster than PKCS#8 DER in Node 20.
 */
export function nodeSenderKeyPrimitives(c: typeof NodeCrypto): SenderKeyPrimitives {
  const privateKeys = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  const publicKeys = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  const b64 = (raw: Uint8Array) =>
    Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("base64url");
  const fromB64 = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? "", "base64url"));
  const privateKey = (seed: Uint8Array) => {
    let k = privateKeys.get(seed);
    if (k === undefined) {
      k = c.createPrivateKey({
        key: { kty: "OKP", crv: "Ed25519", d: b64(seed), x: "" },
        format: "jwk",
      });
      privateKeys.set(seed, k);
    }
    return k;
  };
  const publicKey = (raw: Uint8Array) => {
    let k = publicKeys.get(raw);
    if (k === undefined) {
      k = c.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64(raw) }, format: "jwk" });
      publicKeys.set(raw, k);
    }
    return k;
  };
  return {
    name: "node",
    generateSigningKey() {
      const pair = c.generateKeyPairSync("ed25519");
      const jwk = pair.privateKey.export({ format: "jwk" });
      const seed = fromB64(jwk.d);
      const pub = fromB64(jwk.x);
      privateKeys.set(seed, pair.privateKey);
      publicKeys.set(pub, pair.publicKey);
      return { seed, publicKey: pub };
    },
    sign: (seed, message) => new Uint8Array(c.sign(null, message, privateKey(seed))),
    verify(raw, message, signature) {
      if (raw.length !== 32 || signature.length !== 64) return false;
      try {
        return c.verify(null, message, publicKey(raw), signature);
      } catch {
        return false;
      }
    },
    seal(key, nonce, aad, plaintext) {
      const e = c.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: tagLength });
      e.setAAD(aad);
      const head = e.update(plaintext);
      const tail = e.final();
      const out = new Uint8Array(head.length + tail.length + tagLength);
      out.set(head, 0);
      out.set(tail, head.length);
      out.set(e.getAuthTag(), head.length + tail.length);
      return out;
    },
    open(key, nonce, aad, ciphertext) {
      if (ciphertext.length < tagLength) return undefined;
      try {
        const d = c.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: tagLength });
        d.setAuthTag(ciphertext.subarray(ciphertext.length - tagLength));
        d.setAAD(aad);
        const head = d.update(ciphertext.subarray(0, ciphertext.length - tagLength));
        const tail = d.final();
        // A copy, not a view: a small Buffer may sit in Node's shared pool.
        const out = new Uint8Array(head.length + tail.length);
        out.set(head, 0);
        out.set(tail, head.length);
        return out;
      } catch {
        return undefined;
      }
    },
  };
}
