import type * as NodeCrypto from "node:crypto";
import { concatBytes } from "@noble/hashes/utils.js";
import type {
  AeadAlgorithm,
  Ciphersuite,
  CiphersuiteImpl,
  Hash,
  HashAlgorithm,
  Hpke,
  Kdf,
  KdfAlgorithm,
  PrivateKey,
  PublicKey,
  Rng,
  Signature,
} from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";

/**
 * ts-mls primitives on node:crypto: synchronous OpenSSL calls behind ts-mls's async interface.
 * Covers SHA-2, HMAC, HKDF, AES-GCM, ChaCha20-Poly1305, Ed25519 and HPKE with DHKEM(X25519)
 * (RFC 9180, base mode). Anything else (other KEMs and signature schemes) comes from `fallback`,
 * ts-mls's own implementation, with only its AEAD replaced.
 */
export async function nodeCiphersuiteImpl(
  c: typeof NodeCrypto,
  cs: Ciphersuite,
  fallback: () => Promise<CiphersuiteImpl>,
): Promise<CiphersuiteImpl> {
  const hashName = nodeHashName[cs.hash];
  const kdf = makeKdf(c, nodeHashName[kdfHash[cs.hpke.kdf]]);
  const aead = makeAead(c, cs.hpke.aead);
  const needsFallback = cs.signature !== "Ed25519" || cs.hpke.kem !== "DHKEM-X25519-HKDF-SHA256";
  const base = needsFallback ? await fallback() : undefined;
  const signature = cs.signature === "Ed25519" ? makeEd25519(c) : required(base).signature;
  const hpke =
    cs.hpke.kem === "DHKEM-X25519-HKDF-SHA256"
      ? makeX25519Hpke(c, cs.hpke.kdf, aead)
      : { ...required(base).hpke, encryptAead: aead.encrypt, decryptAead: aead.decrypt };
  return {
    hash: makeHash(c, hashName),
    kdf,
    signature,
    hpke,
    rng: makeRng(c),
    name: cs.name,
  };
}

function required(impl: CiphersuiteImpl | undefined): CiphersuiteImpl {
  if (impl === undefined) throw new CryptoError("No fallback implementation");
  return impl;
}

const nodeHashName: Record<HashAlgorithm, string> = {
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};
const kdfHash: Record<KdfAlgorithm, HashAlgorithm> = {
  "HKDF-SHA256": "SHA-256",
  "HKDF-SHA384": "SHA-384",
  "HKDF-SHA512": "SHA-512",
};
const hashLength: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** A Uint8Array view of a Buffer, so nothing downstream meets Buffer's own `slice` semantics. */
const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const empty = new Uint8Array(0);

function makeHash(c: typeof NodeCrypto, name: string): Hash {
  const mac = (key: Uint8Array, data: Uint8Array) =>
    bytes(c.createHmac(name, key).update(data).digest());
  return {
    digest: async (data) => bytes(c.createHash(name).update(data).digest()),
    mac: async (key, data) => mac(key, data),
    verifyMac: async (key, tag, data) => {
      const expected = mac(key, data);
      return tag.length === expected.length && c.timingSafeEqual(tag, expected);
    },
  };
}

interface SyncKdf {
  /** HKDF-Extract over the concatenation of `ikm`, without copying it together. */
  extract(salt: Uint8Array, ...ikm: Uint8Array[]): Uint8Array;
  /** HKDF-Expand over the concatenation of `info`. */
  expand(prk: Uint8Array, length: number, ...info: Uint8Array[]): Uint8Array;
  size: number;
}

function makeSyncKdf(c: typeof NodeCrypto, name: string): SyncKdf {
  const size = hashLength[name] ?? 0;
  return {
    size,
    extract(salt, ...ikm) {
      const h = c.createHmac(name, salt);
      for (const part of ikm) h.update(part);
      return bytes(h.digest());
    },
    expand(prk, length, ...info) {
      const blocks = Math.ceil(length / size);
      if (blocks > 255) throw new CryptoError("HKDF output too long");
      const out = blocks <= 1 ? undefined : new Uint8Array(blocks * size);
      let previous: Uint8Array = empty;
      for (let i = 1; i <= Math.max(blocks, 1); i++) {
        const h = c.createHmac(name, prk).update(previous);
        for (const part of info) h.update(part);
        previous = bytes(h.update(counter[i] as Uint8Array).digest());
        // The common case, one block (MLS secrets, keys and nonces), is one HMAC and no copy.
        if (out === undefined) return previous.subarray(0, length);
        out.set(previous, (i - 1) * size);
      }
      return (out ?? previous).subarray(0, length);
    },
  };
}
const counter = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));

function makeKdf(c: typeof NodeCrypto, name: string): Kdf {
  const k = makeSyncKdf(c, name);
  return {
    size: k.size,
    extract: async (salt, ikm) => k.extract(salt, ikm),
    expand: async (prk, info, length) => k.expand(prk, length, info),
  };
}

interface SyncAead {
  keyLength: number;
  nonceLength: number;
  id: number;
  sealSync(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  openSync(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  encrypt: Hpke["encryptAead"];
  decrypt: Hpke["decryptAead"];
}

const aeads: Record<AeadAlgorithm, { cipher: string; keyLength: number; id: number }> = {
  AES128GCM: { cipher: "aes-128-gcm", keyLength: 16, id: 1 },
  AES256GCM: { cipher: "aes-256-gcm", keyLength: 32, id: 2 },
  CHACHA20POLY1305: { cipher: "chacha20-poly1305", keyLength: 32, id: 3 },
};
const tagLength = 16;

function makeAead(c: typeof NodeCrypto, alg: AeadAlgorithm): SyncAead {
  const { cipher, keyLength, id } = aeads[alg];
  const sealSync = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => {
    try {
      const e = c.createCipheriv(cipher as NodeCrypto.CipherGCMTypes, key, nonce, {
        authTagLength: tagLength,
      });
      if (aad.length > 0) e.setAAD(aad);
      const head = e.update(plaintext);
      const tail = e.final();
      const out = new Uint8Array(head.length + tail.length + tagLength);
      out.set(head, 0);
      out.set(tail, head.length);
      out.set(e.getAuthTag(), head.length + tail.length);
      return out;
    } catch (err) {
      throw new CryptoError(`AEAD seal failed: ${String(err)}`);
    }
  };
  const openSync = (
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ) => {
    if (ciphertext.length < tagLength) throw new CryptoError("AEAD ciphertext too short");
    try {
      const d = c.createDecipheriv(cipher as NodeCrypto.CipherGCMTypes, key, nonce, {
        authTagLength: tagLength,
      });
      d.setAuthTag(ciphertext.subarray(ciphertext.length - tagLength));
      if (aad.length > 0) d.setAAD(aad);
      const head = d.update(ciphertext.subarray(0, ciphertext.length - tagLength));
      const tail = d.final();
      if (tail.length === 0) return bytes(head);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head, 0);
      out.set(tail, head.length);
      return out;
    } catch (err) {
      throw new CryptoError(`AEAD open failed: ${String(err)}`);
    }
  };
  return {
    keyLength,
    nonceLength: 12,
    id,
    sealSync,
    openSync,
    encrypt: async (key, nonce, aad, plaintext) => sealSync(key, nonce, aad ?? empty, plaintext),
    decrypt: async (key, nonce, aad, ciphertext) => openSync(key, nonce, aad ?? empty, ciphertext),
  };
}

/**
 * Small requests (reuse guards, secrets) are served from a pool filled 4 KiB at a time: one
 * randomFillSync call costs about as much as the bytes of a hundred such requests. Every
 * caller gets its own copy.
 */
function makeRng(c: typeof NodeCrypto): Rng {
  const pool = new Uint8Array(4096);
  let used = pool.length;
  return {
    randomBytes(n) {
      if (n > 256) return c.randomFillSync(new Uint8Array(n));
      if (used + n > pool.length) {
        c.randomFillSync(pool);
        used = 0;
      }
      const out = pool.slice(used, used + n);
      pool.fill(0, used, used + n);
      used += n;
      return out;
    },
  };
}

const b64 = (raw: Uint8Array): string =>
  Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("base64url");
const fromB64 = (s: string | undefined): Uint8Array => bytes(Buffer.from(s ?? "", "base64url"));

/**
 * A KeyObject from a raw 32-byte private key. JWK import is about ten times faster than PKCS#8
 * DER in Node 20 (35 µs against 340 µs); Node derives the public half from `d` alone, so `x`
 * is left empty (a test pins that behaviour).
 */
function importRawPrivate(c: typeof NodeCrypto, crv: "Ed25519" | "X25519", raw: Uint8Array) {
  return c.createPrivateKey({ key: { kty: "OKP", crv, d: b64(raw), x: "" }, format: "jwk" });
}
function importRawPublic(c: typeof NodeCrypto, crv: "Ed25519" | "X25519", raw: Uint8Array) {
  return c.createPublicKey({ key: { kty: "OKP", crv, x: b64(raw) }, format: "jwk" });
}

// PKCS#8 wrapping of an Ed25519 seed, as ts-mls's WebCrypto provider stores signing keys.
const ed25519Pkcs8Prefix = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function ed25519Seed(signKey: Uint8Array): Uint8Array {
  if (signKey.length === 32) return signKey;
  if (signKey.length === 48 && ed25519Pkcs8Prefix.every((byte, i) => signKey[i] === byte)) {
    return signKey.subarray(16);
  }
  throw new CryptoError("Ed25519 signing key must be a 32-byte seed or its PKCS#8 form");
}

/**
 * Ed25519 with KeyObjects cached per key array: group states share their key arrays between
 * epochs, so a member's key is imported once, not once per signature.
 */
function makeEd25519(c: typeof NodeCrypto): Signature {
  const privateKeys = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  const publicKeys = new WeakMap<Uint8Array, NodeCrypto.KeyObject>();
  const privateKey = (signKey: Uint8Array) => {
    let k = privateKeys.get(signKey);
    if (k === undefined) {
      k = importRawPrivate(c, "Ed25519", ed25519Seed(signKey));
      privateKeys.set(signKey, k);
    }
    return k;
  };
  const publicKey = (raw: Uint8Array) => {
    let k = publicKeys.get(raw);
    if (k === undefined) {
      k = importRawPublic(c, "Ed25519", raw);
      publicKeys.set(raw, k);
    }
    return k;
  };
  return {
    sign: async (signKey, message) => bytes(c.sign(null, message, privateKey(signKey))),
    verify: async (raw, message, signature) => {
      if (raw.length !== 32 || signature.length !== 64) return false;
      try {
        return c.verify(null, message, publicKey(raw), signature);
      } catch {
        return false;
      }
    },
    keygen: async () => {
      const pair = c.generateKeyPairSync("ed25519");
      const jwk = pair.privateKey.export({ format: "jwk" });
      const signKey = fromB64(jwk.d);
      const pub = fromB64(jwk.x);
      privateKeys.set(signKey, pair.privateKey);
      publicKeys.set(pub, pair.publicKey);
      return { signKey, publicKey: pub };
    },
  };
}

/** An X25519 key as this HPKE holds it: raw bytes, with the KeyObject made on first use. */
class X25519Key {
  #object: NodeCrypto.KeyObject | undefined;
  #raw: Uint8Array | undefined;
  constructor(
    private readonly c: typeof NodeCrypto,
    readonly kind: "private" | "public",
    raw: Uint8Array | undefined,
    object?: NodeCrypto.KeyObject,
    private readonly privateHalf?: X25519Key,
  ) {
    this.#raw = raw;
    this.#object = object;
  }
  get raw(): Uint8Array {
    if (this.#raw === undefined) {
      // A public key derived from a private one: computed only when someone asks for it.
      const source = this.privateHalf?.object;
      if (source === undefined) throw new CryptoError("X25519 key without material");
      this.#raw = fromB64(this.c.createPublicKey(source).export({ format: "jwk" }).x);
    }
    return this.#raw;
  }
  get object(): NodeCrypto.KeyObject {
    if (this.#object === undefined) {
      this.#object =
        this.kind === "private"
          ? importRawPrivate(this.c, "X25519", this.raw)
          : importRawPublic(this.c, "X25519", this.raw);
    }
    return this.#object;
  }
}

const hpkeKdfIds: Record<KdfAlgorithm, number> = {
  "HKDF-SHA256": 1,
  "HKDF-SHA384": 2,
  "HKDF-SHA512": 3,
};
const text = new TextEncoder();
const hpkeV1 = text.encode("HPKE-v1");
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

/** RFC 9180 LabeledExtract and LabeledExpand for one suite_id. */
function labeled(kdf: SyncKdf, suiteId: Uint8Array) {
  const labels = new Map<string, Uint8Array>();
  const label = (l: string) => {
    let b = labels.get(l);
    if (b === undefined) {
      b = text.encode(l);
      labels.set(l, b);
    }
    return b;
  };
  return {
    extract: (salt: Uint8Array, l: string, ikm: Uint8Array) =>
      kdf.extract(salt, hpkeV1, suiteId, label(l), ikm),
    expand: (prk: Uint8Array, l: string, info: Uint8Array, length: number) =>
      kdf.expand(prk, length, u16(length), hpkeV1, suiteId, label(l), info),
  };
}

/** HPKE base mode with DHKEM(X25519, HKDF-SHA256), RFC 9180, one message per context. */
function makeX25519Hpke(c: typeof NodeCrypto, kdfAlg: KdfAlgorithm, aead: SyncAead): Hpke {
  const kemId = 0x0020;
  const kem = labeled(makeSyncKdf(c, "sha256"), concatBytes(text.encode("KEM"), u16(kemId)));
  const kdf = makeSyncKdf(c, nodeHashName[kdfHash[kdfAlg]]);
  const suite = labeled(
    kdf,
    concatBytes(text.encode("HPKE"), u16(kemId), u16(hpkeKdfIds[kdfAlg]), u16(aead.id)),
  );
  const pskIdHash = suite.extract(empty, "psk_id_hash", empty);
  // A Welcome seals the same info (the whole encrypted GroupInfo, ratchet tree included) to
  // every new member: hashing it once instead of once per member saves most of a large add.
  let lastInfo: Uint8Array = empty;
  let lastInfoHash = suite.extract(empty, "info_hash", empty);
  const infoHash = (info: Uint8Array) => {
    if (
      info.length === lastInfo.length &&
      (info.length === 0 || Buffer.compare(info, lastInfo) === 0)
    ) {
      return lastInfoHash;
    }
    const h = suite.extract(empty, "info_hash", info);
    if (info.length >= bigInfo) {
      lastInfo = info.slice();
      lastInfoHash = h;
    }
    return h;
  };
  // Tree nodes keep their key arrays between epochs: import each recipient key once.
  const publicKeys = new WeakMap<Uint8Array, X25519Key>();

  const asKey = (k: unknown, kind: "private" | "public"): X25519Key => {
    if (!(k instanceof X25519Key) || k.kind !== kind) {
      throw new CryptoError(`Not an X25519 ${kind} key of this provider`);
    }
    return k;
  };
  const dh = (priv: NodeCrypto.KeyObject, pub: X25519Key): Uint8Array => {
    let secret: Buffer;
    try {
      secret = c.diffieHellman({ privateKey: priv, publicKey: pub.object });
    } catch (err) {
      throw new CryptoError(`X25519 failed: ${String(err)}`);
    }
    if (secret.every((b) => b === 0)) throw new CryptoError("X25519 produced the zero secret");
    return bytes(secret);
  };
  const sharedSecret = (dhValue: Uint8Array, enc: Uint8Array, recipient: Uint8Array) => {
    const prk = kem.extract(empty, "eae_prk", dhValue);
    return kem.expand(prk, "shared_secret", concatBytes(enc, recipient), 32);
  };
  const secretAndContext = (shared: Uint8Array, info: Uint8Array) => ({
    secret: suite.extract(shared, "secret", empty),
    context: concatBytes(modeBase, pskIdHash, infoHash(info)),
  });
  const keyAndNonce = (shared: Uint8Array, info: Uint8Array) => {
    const { secret, context } = secretAndContext(shared, info);
    return {
      key: suite.expand(secret, "key", context, aead.keyLength),
      nonce: suite.expand(secret, "base_nonce", context, aead.nonceLength),
    };
  };
  const exporterSecret = (shared: Uint8Array, info: Uint8Array) => {
    const { secret, context } = secretAndContext(shared, info);
    return suite.expand(secret, "exp", context, kdf.size);
  };
  const encap = (publicKey: PublicKey) => {
    const recipient = asKey(publicKey, "public");
    const ephemeral = c.generateKeyPairSync("x25519");
    const enc = fromB64(ephemeral.publicKey.export({ format: "jwk" }).x);
    return { enc, shared: sharedSecret(dh(ephemeral.privateKey, recipient), enc, recipient.raw) };
  };
  const decap = (privateKey: PrivateKey, enc: Uint8Array) => {
    const recipient = asKey(privateKey, "private");
    const recipientPublic = new X25519Key(c, "public", undefined, undefined, recipient);
    return sharedSecret(dh(recipient.object, importPublic(enc)), enc, recipientPublic.raw);
  };
  const importPublic = (raw: Uint8Array) => {
    if (raw.length !== 32) throw new CryptoError("X25519 public key must be 32 bytes");
    let key = publicKeys.get(raw);
    if (key === undefined) {
      key = new X25519Key(c, "public", raw);
      publicKeys.set(raw, key);
    }
    return key;
  };
  const toPrivate = (k: X25519Key) => k as unknown as PrivateKey;
  const toPublic = (k: X25519Key) => k as unknown as PublicKey;

  return {
    keyLength: aead.keyLength,
    nonceLength: aead.nonceLength,
    async seal(publicKey, plaintext, info, aad) {
      const { enc, shared } = encap(publicKey);
      const { key, nonce } = keyAndNonce(shared, info);
      return { ct: aead.sealSync(key, nonce, aad ?? empty, plaintext), enc };
    },
    async open(privateKey, enc, ciphertext, info, aad) {
      const { key, nonce } = keyAndNonce(decap(privateKey, enc), info);
      return aead.openSync(key, nonce, aad ?? empty, ciphertext);
    },
    async exportSecret(publicKey, exporterContext, length, info) {
      const { enc, shared } = encap(publicKey);
      const exporter = exporterSecret(shared, info);
      return { enc, secret: suite.expand(exporter, "sec", exporterContext, length) };
    },
    async importSecret(privateKey, exporterContext, enc, length, info) {
      const exporter = exporterSecret(decap(privateKey, enc), info);
      return suite.expand(exporter, "sec", exporterContext, length);
    },
    async importPrivateKey(raw) {
      if (raw.length !== 32) throw new CryptoError("X25519 private key must be 32 bytes");
      return toPrivate(new X25519Key(c, "private", raw));
    },
    importPublicKey: async (raw) => toPublic(importPublic(raw)),
    exportPublicKey: async (k) => asKey(k, "public").raw,
    exportPrivateKey: async (k) => asKey(k, "private").raw,
    encryptAead: aead.encrypt,
    decryptAead: aead.decrypt,
    async deriveKeyPair(ikm) {
      const prk = kem.extract(empty, "dkp_prk", ikm);
      const priv = new X25519Key(c, "private", kem.expand(prk, "sk", empty, 32));
      // Most derived pairs only need their private half (private key paths): the public half
      // is computed only if asked for.
      return {
        privateKey: toPrivate(priv),
        publicKey: toPublic(new X25519Key(c, "public", undefined, undefined, priv)),
      };
    },
    async generateKeyPair() {
      const pair = c.generateKeyPairSync("x25519");
      const jwk = pair.privateKey.export({ format: "jwk" });
      return {
        privateKey: toPrivate(new X25519Key(c, "private", fromB64(jwk.d), pair.privateKey)),
        publicKey: toPublic(new X25519Key(c, "public", fromB64(jwk.x), pair.publicKey)),
      };
    },
  };
}

const modeBase = Uint8Array.of(0);
/** Infos at least this long are remembered for the next call (welcomes); short ones are cheap. */
const bigInfo = 1024;
