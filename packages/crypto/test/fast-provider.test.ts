import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { fastProviderUsesNodeCrypto } from "@veil/crypto";
import fc from "fast-check";
import type { CiphersuiteImpl, CiphersuiteName } from "ts-mls";
import { defaultCryptoProvider, getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
import { decryptWithLabel, encryptWithLabel } from "ts-mls/crypto/hpke.js";
import { CryptoError } from "ts-mls/mlsError.js";
import { beforeAll, describe, expect, it } from "vitest";
import { fastCryptoProvider } from "../src/fast-provider.js";

// The fast provider must be a drop-in for ts-mls's own: what one side makes, the other reads.
const suites: CiphersuiteName[] = [
  "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
  "MLS_256_XWING_AES256GCM_SHA512_Ed25519",
];

const load = (name: CiphersuiteName) => ({
  fast: getCiphersuiteImpl(getCiphersuiteFromName(name), fastCryptoProvider),
  default: getCiphersuiteImpl(getCiphersuiteFromName(name), defaultCryptoProvider),
});

it("runs on node:crypto here", async () => {
  expect(await fastProviderUsesNodeCrypto()).toBe(true);
  const impl = await load(suites[0] as CiphersuiteName).fast;
  // Its HPKE keys are its own objects, not WebCrypto CryptoKeys: the node path is in use.
  const { privateKey } = await impl.hpke.generateKeyPair();
  expect(Object.prototype.toString.call(privateKey)).not.toContain("CryptoKey");
});

describe.each(suites)("fast and default providers agree [%s]", (name) => {
  let fast: CiphersuiteImpl;
  let base: CiphersuiteImpl;
  beforeAll(async () => {
    const impls = load(name);
    fast = await impls.fast;
    base = await impls.default;
  });

  const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 });
  // WebCrypto (the default provider) refuses empty HMAC keys; MLS never uses one.
  const keys = fc.uint8Array({ minLength: 1, maxLength: 100 });

  it("hash, MAC and KDF give the same bytes", async () => {
    await fc.assert(
      // The default HKDF only takes hash-sized salts, as MLS always passes.
      fc.asyncProperty(keys, bytes, fc.integer({ min: 1, max: 200 }), async (a, b, n) => {
        expect(await fast.hash.digest(a)).toEqual(await base.hash.digest(a));
        const mac = await fast.hash.mac(a, b);
        expect(mac).toEqual(await base.hash.mac(a, b));
        expect(await fast.hash.verifyMac(a, mac, b)).toBe(true);
        expect(await fast.hash.verifyMac(a, mac.slice(1), b)).toBe(false);
        const salt = await fast.hash.digest(a);
        const prk = await fast.kdf.extract(salt.subarray(0, fast.kdf.size), b);
        expect(prk).toEqual(await base.kdf.extract(salt.subarray(0, base.kdf.size), b));
        expect(await fast.kdf.expand(prk, a, n)).toEqual(await base.kdf.expand(prk, a, n));
      }),
      { numRuns: 50 },
    );
  });

  it("AEAD: each opens the other's, and refuses any change", async () => {
    const key = fast.rng.randomBytes(fast.hpke.keyLength);
    const nonce = fast.rng.randomBytes(fast.hpke.nonceLength);
    await fc.assert(
      fc.asyncProperty(bytes, bytes, async (aad, plaintext) => {
        const ct = await fast.hpke.encryptAead(key, nonce, aad, plaintext);
        expect(ct).toEqual(await base.hpke.encryptAead(key, nonce, aad, plaintext));
        expect(await base.hpke.decryptAead(key, nonce, aad, ct)).toEqual(plaintext);
        const tampered = ct.slice();
        tampered[0] = (tampered[0] ?? 0) ^ 1;
        await expect(fast.hpke.decryptAead(key, nonce, aad, tampered)).rejects.toThrow(CryptoError);
      }),
      { numRuns: 30 },
    );
    await expect(fast.hpke.decryptAead(key, nonce, undefined, new Uint8Array(5))).rejects.toThrow(
      CryptoError,
    );
  });

  it("HPKE: each opens what the other sealed, with the same derived keys", async () => {
    const info = new TextEncoder().encode("context");
    for (const [sealer, opener] of [
      [fast, base],
      [base, fast],
    ] as const) {
      const pair = await opener.hpke.generateKeyPair();
      const pub = await sealer.hpke.importPublicKey(
        await opener.hpke.exportPublicKey(pair.publicKey),
      );
      const sealed = await encryptWithLabel(pub, "UpdatePathNode", info, info, sealer.hpke);
      const opened = await decryptWithLabel(
        pair.privateKey,
        "UpdatePathNode",
        info,
        sealed.enc,
        sealed.ct,
        opener.hpke,
      );
      expect(opened).toEqual(info);
      const exported = await sealer.hpke.exportSecret(pub, info, 32, info);
      expect(await opener.hpke.importSecret(pair.privateKey, info, exported.enc, 32, info)).toEqual(
        exported.secret,
      );
    }
    const ikm = fast.rng.randomBytes(32);
    const a = await fast.hpke.deriveKeyPair(ikm);
    const b = await base.hpke.deriveKeyPair(ikm);
    expect(await fast.hpke.exportPrivateKey(a.privateKey)).toEqual(
      await base.hpke.exportPrivateKey(b.privateKey),
    );
    expect(await fast.hpke.exportPublicKey(a.publicKey)).toEqual(
      await base.hpke.exportPublicKey(b.publicKey),
    );
  });

  it("HPKE refuses tampered ciphertexts and foreign keys", async () => {
    const pair = await fast.hpke.generateKeyPair();
    const info = new Uint8Array([1, 2, 3]);
    const sealed = await fast.hpke.seal(pair.publicKey, info, info);
    const ct = sealed.ct.slice();
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
    await expect(fast.hpke.open(pair.privateKey, sealed.enc, ct, info)).rejects.toThrow(
      CryptoError,
    );
    await expect(fast.hpke.importPublicKey(new Uint8Array(31))).rejects.toThrow(CryptoError);
  });

  it("signatures verify across providers; bad ones are false, not exceptions", async () => {
    for (const [signer, verifier] of [
      [fast, base],
      [base, fast],
    ] as const) {
      const { signKey, publicKey } = await signer.signature.keygen();
      const message = new TextEncoder().encode("signed");
      const sig = await signer.signature.sign(signKey, message);
      expect(await verifier.signature.verify(publicKey, message, sig)).toBe(true);
      // A key made by the other provider signs here too (raw seed or PKCS#8).
      expect(
        await verifier.signature.verify(
          publicKey,
          message,
          await verifier.signature.sign(signKey, message),
        ),
      ).toBe(true);
      expect(await verifier.signature.verify(publicKey, message.slice(1), sig)).toBe(false);
    }
    expect(
      await fast.signature.verify(new Uint8Array(32), new Uint8Array(), new Uint8Array(64)),
    ).toBe(false);
    expect(
      await fast.signature.verify(new Uint8Array(3), new Uint8Array(), new Uint8Array(64)),
    ).toBe(false);
  });
});

it("X25519 refuses low-order points (the zero shared secret)", async () => {
  const impl = await load(suites[0] as CiphersuiteName).fast;
  const pair = await impl.hpke.generateKeyPair();
  const zero = new Uint8Array(32);
  await expect(impl.hpke.open(pair.privateKey, zero, new Uint8Array(32), zero)).rejects.toThrow(
    CryptoError,
  );
  const lowOrder = await impl.hpke.importPublicKey(zero);
  await expect(impl.hpke.seal(lowOrder, zero, zero)).rejects.toThrow(CryptoError);
});

// The provider imports raw private keys as JWK without `x`: Node derives the public half
// from `d` alone. This pins that behaviour, so a Node upgrade that changes it fails here.
it.each(["ed25519", "x25519"] as const)(
  "Node derives the %s public key from JWK d alone",
  (type) => {
    const pair = generateKeyPairSync(type as "ed25519");
    const jwk = pair.privateKey.export({ format: "jwk" });
    const crv = type === "ed25519" ? "Ed25519" : "X25519";
    const imported = createPrivateKey({ key: { kty: "OKP", crv, d: jwk.d, x: "" }, format: "jwk" });
    expect(createPublicKey(imported).export({ format: "jwk" }).x).toBe(jwk.x);
  },
);
