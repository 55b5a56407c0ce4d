import {
  createGroup,
  generateKeyPackage,
  inspectMessage,
  loadSuite,
  MlsError,
  type MlsSuite,
} from "@veil/crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { groupOf, text } from "./helpers/groups.js";

describe("inspectMessage: public framing without keys", () => {
  let suite: MlsSuite;
  beforeAll(async () => {
    suite = await loadSuite();
  });

  it("reads commits, welcomes, key packages and private messages", async () => {
    const alice = await createGroup(suite, "g_wire", "d_alice");
    const bob = await generateKeyPackage(suite, "d_bob", { lastResort: true });
    const carol = await generateKeyPackage(suite, "d_carol");
    const { commit, welcome, next } = await alice.add([
      bob.publicKeyPackage,
      carol.publicKeyPackage,
    ]);

    expect(inspectMessage(commit)).toEqual({
      wireformat: "mls_public_message",
      groupId: "g_wire",
      epoch: 0n,
      contentType: "commit",
      senderLeafIndex: 0,
      addedCredentialIds: ["d_bob", "d_carol"],
      removedLeafIndices: [],
    });

    const kp = inspectMessage(bob.publicKeyPackage);
    expect(kp).toMatchObject({
      wireformat: "mls_key_package",
      cipherSuite: suite.name,
      keyPackageCredentialId: "d_bob",
      lastResort: true,
    });
    const now = BigInt(Math.floor(Date.now() / 1000));
    expect(kp?.notBefore).toBeLessThanOrEqual(now);
    expect(kp?.notAfter).toBeGreaterThan(now + 80n * 86400n);
    const carolRef = inspectMessage(carol.publicKeyPackage)?.keyPackageRef;
    expect(kp?.keyPackageRef).toMatch(/^[0-9a-f]{64}$/);

    const w = inspectMessage(welcome);
    expect(w?.wireformat).toBe("mls_welcome");
    expect(w?.cipherSuite).toBe(suite.name);
    expect(w?.welcomeKeyPackageRefs).toEqual([kp?.keyPackageRef, carolRef]);

    const { message } = await next.encrypt(text("secret"));
    expect(inspectMessage(message)).toEqual({
      wireformat: "mls_private_message",
      groupId: "g_wire",
      epoch: 1n,
      contentType: "application",
    });

    const removal = await next.remove(["d_carol"]);
    expect(inspectMessage(removal.commit)).toMatchObject({
      contentType: "commit",
      epoch: 1n,
      removedLeafIndices: [2],
      addedCredentialIds: [],
      committerCredentialId: "d_alice",
    });
  });

  it("names the X-Wing suite's key package refs with SHA-512 refs", async () => {
    const pq = await loadSuite("MLS_256_XWING_AES256GCM_SHA512_Ed25519");
    const bob = await generateKeyPackage(pq, "d_bob");
    const alice = await createGroup(pq, "g_pq", "d_alice");
    const { welcome } = await alice.add([bob.publicKeyPackage]);
    const ref = inspectMessage(bob.publicKeyPackage)?.keyPackageRef;
    expect(ref).toMatch(/^[0-9a-f]{128}$/);
    expect(inspectMessage(welcome)?.welcomeKeyPackageRefs).toEqual([ref]);
  });

  it("answers undefined for anything that is not exactly one MLS message", async () => {
    const bob = await generateKeyPackage(suite, "d_bob");
    const bytes = bob.publicKeyPackage;
    expect(inspectMessage(new Uint8Array())).toBeUndefined();
    expect(inspectMessage(new Uint8Array([0, 1, 0, 1]))).toBeUndefined();
    expect(inspectMessage(Uint8Array.of(...bytes, 0))).toBeUndefined();
    expect(inspectMessage(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(inspectMessage(Uint8Array.of(0, 2, ...bytes.subarray(2)))).toBeUndefined();
    expect(inspectMessage("not bytes" as unknown as Uint8Array)).toBeUndefined();
  });

  it("property: never throws, on random bytes or mutated real messages", async () => {
    const [alice] = await groupOf(suite, "g_fuzz", ["d_alice", "d_bob"]);
    if (!alice) throw new Error("group");
    const samples = [(await alice.update()).commit, (await alice.encrypt(text("x"))).message];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        inspectMessage(bytes);
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (sample, flips) => {
          const copy = sample.slice();
          for (const [at, x] of flips) copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ x;
          inspectMessage(copy);
        },
      ),
    );
  });
});

describe("Group.process on hostile bytes", () => {
  it("property: throws only MlsError, and the group still works afterwards", async () => {
    const suite = await loadSuite();
    const [alice, bob] = await groupOf(suite, "g_hostile", ["d_alice", "d_bob"]);
    if (!alice || !bob) throw new Error("group");
    const samples = [(await alice.update()).commit, (await alice.encrypt(text("x"))).message];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        async (sample, flips) => {
          const copy = sample.slice();
          for (const [at, x] of flips) copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ x;
          const outcome = await bob.process(copy).then(
            () => "accepted",
            (e: unknown) => e,
          );
          if (outcome !== "accepted") expect(outcome).toBeInstanceOf(MlsError);
        },
      ),
      { numRuns: 60 },
    );
    const ok = await bob.process(samples[1] as Uint8Array);
    expect(ok.kind).toBe("application");
  });
});
