import { generateKeyPairSync } from "node:crypto";
import {
  createGroup,
  type Group,
  generateKeyPackage,
  inspectMessage,
  joinGroup,
  loadSuite,
  MlsError,
  type MlsErrorCode,
  type MlsSuite,
  type ProviderName,
  restoreGroup,
} from "@veil/crypto";
import {
  createCommit,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  generateKeyPackage as mlsGenerateKeyPackage,
} from "ts-mls";
import { defaultClientConfig } from "ts-mls/clientConfig.js";
import { beforeAll, describe, expect, it } from "vitest";
import { deliver, deviceId, groupOf, str, text } from "./helpers/groups.js";

async function expectMlsError(work: Promise<unknown>, code: MlsErrorCode): Promise<void> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected MlsError ${code}`).toBeInstanceOf(MlsError);
  expect((err as MlsError).code).toBe(code);
}

const flip = (bytes: Uint8Array, at: number): Uint8Array => {
  const copy = bytes.slice();
  const i = at < 0 ? copy.length + at : at;
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  return copy;
};

const providers: ProviderName[] = ["default", "fast"];

describe.each(providers)("MLS groups [%s provider]", (provider) => {
  let suite: MlsSuite;
  const ids = ["alice", "bob", "carol", "dave", "erin"].map(deviceId);

  beforeAll(async () => {
    suite = await loadSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", provider);
  });

  it("creates a group at epoch 0 with only its creator", async () => {
    const group = await createGroup(suite, "g_solo", ids[0] as string);
    expect(group.groupId).toBe("g_solo");
    expect(group.epoch).toBe(0n);
    expect(group.active).toBe(true);
    expect(group.myCredentialId).toBe(ids[0]);
    expect(group.members()).toEqual([{ leafIndex: 0, credentialId: ids[0] }]);
  });

  it("adds four members in one commit; everyone decrypts everyone", async () => {
    let groups = await groupOf(suite, "g_five", ids);
    expect(groups.map((g) => g.epoch)).toEqual([1n, 1n, 1n, 1n, 1n]);
    for (const g of groups) {
      expect(g.members().map((m) => m.credentialId)).toEqual(ids);
    }
    for (const [sender, group] of groups.entries()) {
      const { message, next } = await group.encrypt(text(`from ${sender}`), text("meta"));
      groups[sender] = next;
      for (const [i, g] of groups.entries()) {
        if (i === sender) continue;
        const result = await g.process(message);
        if (result.kind !== "application") throw new Error("expected an application message");
        expect(str(result.plaintext)).toBe(`from ${sender}`);
        expect(str(result.authenticatedData)).toBe("meta");
        expect(result.senderCredentialId).toBe(ids[sender]);
        groups[i] = result.next;
      }
    }
    groups = await deliver(groups, (await (groups[0] as Group).encrypt(text("x"))).message, 0);
    expect(groups.length).toBe(5);
  });

  it("never mutates: the Group before an operation still works after it", async () => {
    const [alice, bob] = await groupOf(suite, "g_immutable", ids.slice(0, 2));
    if (!alice || !bob) throw new Error("group");
    const { next } = await alice.update();
    expect(alice.epoch).toBe(1n);
    expect(next.epoch).toBe(2n);
    const first = await alice.encrypt(text("one"));
    const again = await alice.encrypt(text("two"));
    // Both were made from the same state: the same key, as an abandoned branch would.
    const r = await bob.process(first.message);
    expect(r.kind === "application" && str(r.plaintext)).toBe("one");
    const r2 = await bob.process(again.message);
    expect(r2.kind === "application" && str(r2.plaintext)).toBe("two");
  });

  it("removes a member, who then cannot read later messages", async () => {
    let groups = await groupOf(suite, "g_remove", ids);
    const [alice] = groups;
    if (!alice) throw new Error("group");
    const { commit, next } = await alice.remove([ids[4] as string]);
    groups[0] = next;
    const staleErin = groups[4] as Group;
    const results = await Promise.all(groups.slice(1).map((g) => g.process(commit)));
    for (const r of results) {
      if (r.kind !== "commit") throw new Error("expected a commit");
      expect(r.removed).toEqual([ids[4]]);
      expect(r.added).toEqual([]);
      expect(r.senderCredentialId).toBe(ids[0]);
    }
    groups = [next, ...results.map((r) => r.next)];
    const erin = groups[4] as Group;
    expect(erin.active).toBe(false);
    expect(groups.slice(0, 4).every((g) => g.active && g.epoch === 2n)).toBe(true);
    expect(groups[1]?.members().map((m) => m.credentialId)).toEqual(ids.slice(0, 4));

    const later = await (groups[1] as Group).encrypt(text("after erin left"));
    await expectMlsError(erin.process(later.message), "removed");
    await expectMlsError(erin.encrypt(text("still here?")), "removed");
    await expectMlsError(erin.update(), "removed");
    // Without processing her removal she is a stale member: the message is from an epoch
    // she has no keys for.
    await expectMlsError(staleErin.process(later.message), "wrong_epoch");
    const seen = await (groups[2] as Group).process(later.message);
    expect(seen.kind === "application" && str(seen.plaintext)).toBe("after erin left");
  });

  it("refuses to remove unknown members or itself", async () => {
    const [alice] = await groupOf(suite, "g_remove_bad", ids.slice(0, 2));
    if (!alice) throw new Error("group");
    await expectMlsError(alice.remove(["d_nobody"]), "unknown_member");
    await expectMlsError(alice.remove([ids[0] as string]), "invalid_argument");
    await expectMlsError(alice.remove([]), "invalid_argument");
  });

  it("updates: a new epoch with new exporter secrets, and messages keep flowing", async () => {
    let groups = await groupOf(suite, "g_update", ids.slice(0, 3));
    const before = await (groups[0] as Group).exportSecret("media", text("file"), 32);
    expect(await (groups[2] as Group).exportSecret("media", text("file"), 32)).toEqual(before);
    const { commit, next } = await (groups[1] as Group).update();
    const info = inspectMessage(commit);
    expect(info?.wireformat).toBe("mls_public_message");
    expect(info?.committerCredentialId).toBe(ids[1]);
    groups[1] = next;
    groups = await deliver(groups, commit, 1);
    expect(groups.map((g) => g.epoch)).toEqual([2n, 2n, 2n]);
    const after = await (groups[0] as Group).exportSecret("media", text("file"), 32);
    expect(after).not.toEqual(before);
    expect(await (groups[1] as Group).exportSecret("media", text("file"), 32)).toEqual(after);
    expect(await (groups[1] as Group).exportSecret("call", text("file"), 32)).not.toEqual(after);
    const m = await (groups[2] as Group).encrypt(text("post-update"));
    const r = await (groups[1] as Group).process(m.message);
    expect(r.kind === "application" && str(r.plaintext)).toBe("post-update");
  });

  it("rejects a stale commit built on an old epoch with wrong_epoch", async () => {
    let groups = await groupOf(suite, "g_stale", ids.slice(0, 3));
    // Alice and Bob both commit at epoch 1; the server orders Alice's first.
    const winner = await (groups[0] as Group).update();
    const loser = await (groups[1] as Group).update();
    groups[0] = winner.next;
    groups = await deliver(groups, winner.commit, 0);
    await expectMlsError((groups[2] as Group).process(loser.commit), "wrong_epoch");
    await expectMlsError((groups[0] as Group).process(loser.commit), "wrong_epoch");
    // Bob's own view: his commit is his, at an epoch he left.
    await expectMlsError((groups[1] as Group).process(loser.commit), "duplicate");
    // A commit from the future is just as wrong.
    const ahead = await (groups[0] as Group).update();
    const farAhead = await ahead.next.update();
    await expectMlsError((groups[2] as Group).process(farAhead.commit), "wrong_epoch");
  });

  it("tells a device its own commit apart from others' (own_commit)", async () => {
    const [alice, bob] = await groupOf(suite, "g_own", ids.slice(0, 2));
    if (!alice || !bob) throw new Error("group");
    const { commit } = await alice.update();
    await expectMlsError(alice.process(commit), "own_commit");
    // Claiming to be this device is not enough: the commit must authenticate as its own.
    await expectMlsError(alice.process(flip(commit, -1)), "decrypt_failed");
    expect((await bob.process(commit)).kind).toBe("commit");
  });

  it("rejects tampered application messages and commits, keeping the old state", async () => {
    const [alice, bob] = await groupOf(suite, "g_tamper", ids.slice(0, 2));
    if (!alice || !bob) throw new Error("group");
    const { message } = await alice.encrypt(text("integrity"));
    await expectMlsError(bob.process(flip(message, -1)), "decrypt_failed");
    await expectMlsError(bob.process(flip(message, -40)), "decrypt_failed");
    const groupIdAt = message.indexOf(text("g_tamper")[2] as number, 4);
    await expectMlsError(bob.process(flip(message, groupIdAt)), "not_for_this_group");
    await expectMlsError(bob.process(message.subarray(0, message.length - 3)), "malformed");
    await expectMlsError(bob.process(new Uint8Array([1, 2, 3])), "malformed");
    await expectMlsError(bob.process(new Uint8Array()), "malformed");
    // The untampered message still decrypts with the Group Bob kept.
    const ok = await bob.process(message);
    expect(ok.kind === "application" && str(ok.plaintext)).toBe("integrity");

    const { commit } = await alice.update();
    await expectMlsError(bob.process(flip(commit, -1)), "decrypt_failed");
    await expectMlsError(bob.process(flip(commit, -70)), "decrypt_failed");
    expect((await bob.process(commit)).kind).toBe("commit");
  });

  it("rejects a replayed application message on second processing", async () => {
    const [alice, bob] = await groupOf(suite, "g_replay", ids.slice(0, 2));
    if (!alice || !bob) throw new Error("group");
    const first = await alice.encrypt(text("once"));
    const second = await first.next.encrypt(text("twice"));
    const r1 = await bob.process(first.message);
    await expectMlsError(r1.next.process(first.message), "duplicate");
    // Out of order is not a replay: the skipped key is kept until it is used.
    const r2 = await bob.process(second.message);
    const r3 = await r2.next.process(first.message);
    expect(r3.kind === "application" && str(r3.plaintext)).toBe("once");
    await expectMlsError(r3.next.process(second.message), "duplicate");
    await expectMlsError(r3.next.process(first.message), "duplicate");
    // A device's own message, echoed back by the server, is a duplicate too.
    await expectMlsError(first.next.process(first.message), "duplicate");
  });

  it("reads messages from the previous epoch that arrive after a commit", async () => {
    const [alice, bob] = await groupOf(suite, "g_late", ids.slice(0, 2));
    if (!alice || !bob) throw new Error("group");
    const late = await bob.encrypt(text("sent before the commit"));
    const { commit, next } = await alice.update();
    const r = await next.process(late.message);
    expect(r.kind === "application" && str(r.plaintext)).toBe("sent before the commit");
    expect((await late.next.process(commit)).next.epoch).toBe(2n);
  });

  it("serialises and restores: the restored group keeps working, across providers", async () => {
    let groups = await groupOf(suite, "g_persist", ids.slice(0, 3));
    const restored = restoreGroup(suite, (groups[1] as Group).serialize());
    expect(restored.groupId).toBe("g_persist");
    expect(restored.epoch).toBe(1n);
    expect(restored.myCredentialId).toBe(ids[1]);
    expect(restored.members()).toEqual((groups[1] as Group).members());
    groups[1] = restored;
    const m = await (groups[0] as Group).encrypt(text("to the restored"));
    const r = await restored.process(m.message);
    expect(r.kind === "application" && str(r.plaintext)).toBe("to the restored");
    const { commit, next } = await r.next.update();
    groups[1] = next;
    groups = await deliver(groups, commit, 1);
    // A restored state holds the ratchet positions it was saved with, not more.
    const again = restoreGroup(suite, (groups[2] as Group).serialize());
    const reply = await again.encrypt(text("and back"));
    const r2 = await (groups[0] as Group).process(reply.message);
    expect(r2.kind === "application" && str(r2.plaintext)).toBe("and back");

    const other = await loadSuite(suite.name, provider === "fast" ? "default" : "fast");
    const moved = restoreGroup(other, (groups[0] as Group).serialize());
    const m3 = await moved.encrypt(text("other provider"));
    const r3 = await (groups[1] as Group).process(m3.message);
    expect(r3.kind === "application" && str(r3.plaintext)).toBe("other provider");

    expect(() => restoreGroup(suite, new Uint8Array([1, 0, 1, 9]))).toThrow(MlsError);
    expect(() => restoreGroup(suite, new Uint8Array([7]))).toThrow(MlsError);
    const state = (groups[0] as Group).serialize();
    expect(() => restoreGroup(suite, state.subarray(0, state.length - 1))).toThrow(MlsError);
  });

  it("joins only from a welcome for its own key package", async () => {
    const [alice] = await groupOf(suite, "g_welcome", ids.slice(0, 1));
    if (!alice) throw new Error("group");
    const bob = await generateKeyPackage(suite, ids[1] as string);
    const carol = await generateKeyPackage(suite, ids[2] as string);
    const { welcome, commit } = await alice.add([bob.publicKeyPackage]);
    await expectMlsError(
      joinGroup(suite, welcome, carol.privateKeyPackage, carol.publicKeyPackage),
      "not_for_this_group",
    );
    await expectMlsError(
      joinGroup(suite, commit, bob.privateKeyPackage, bob.publicKeyPackage),
      "malformed",
    );
    await expectMlsError(
      joinGroup(suite, flip(welcome, -1), bob.privateKeyPackage, bob.publicKeyPackage),
      "decrypt_failed",
    );
    const joined = await joinGroup(suite, welcome, bob.privateKeyPackage, bob.publicKeyPackage);
    expect(joined.members().map((m) => m.credentialId)).toEqual(ids.slice(0, 2));
  });

  it("refuses key packages it cannot add", async () => {
    const [alice] = await groupOf(suite, "g_add_bad", ids.slice(0, 2));
    if (!alice) throw new Error("group");
    const again = await generateKeyPackage(suite, ids[1] as string);
    await expectMlsError(alice.add([again.publicKeyPackage]), "invalid_key_package");
    const carol = await generateKeyPackage(suite, ids[2] as string);
    await expectMlsError(
      alice.add([carol.publicKeyPackage, carol.publicKeyPackage]),
      "invalid_key_package",
    );
    await expectMlsError(alice.add([new Uint8Array([0, 1, 0, 5])]), "invalid_key_package");
    await expectMlsError(alice.add([flip(carol.publicKeyPackage, -1)]), "invalid_key_package");
    await expectMlsError(alice.add([]), "invalid_argument");
    const xwing = await loadSuite("MLS_256_XWING_AES256GCM_SHA512_Ed25519", provider);
    const pq = await generateKeyPackage(xwing, ids[3] as string);
    await expectMlsError(alice.add([pq.publicKeyPackage]), "invalid_key_package");
  });

  it("rejects messages of another group, and non-group messages", async () => {
    const [a1, b1] = await groupOf(suite, "g_one", ids.slice(0, 2));
    const [a2] = await groupOf(suite, "g_two", ids.slice(0, 2));
    if (!a1 || !b1 || !a2) throw new Error("group");
    const { message } = await a2.encrypt(text("elsewhere"));
    await expectMlsError(b1.process(message), "not_for_this_group");
    const { commit } = await a2.update();
    await expectMlsError(b1.process(commit), "not_for_this_group");
    const kp = await generateKeyPackage(suite, ids[2] as string);
    await expectMlsError(b1.process(kp.publicKeyPackage), "malformed");
  });

  it("exports secrets only with a label and a sane length", async () => {
    const [alice] = await groupOf(suite, "g_export", ids.slice(0, 1));
    if (!alice) throw new Error("group");
    expect((await alice.exportSecret("media", new Uint8Array(), 16)).length).toBe(16);
    await expectMlsError(alice.exportSecret("", new Uint8Array(), 16), "invalid_argument");
    await expectMlsError(alice.exportSecret("media", new Uint8Array(), 0), "invalid_argument");
    await expectMlsError(alice.exportSecret("media", new Uint8Array(), 1e6), "invalid_argument");
  });
});

describe("MLS credentials carry the opaque credential id only", () => {
  let suite: MlsSuite;
  beforeAll(async () => {
    suite = await loadSuite();
  });

  it("refuses names, phone numbers and addresses as credential ids", async () => {
    for (const bad of ["+14155552671", "14155552671", "Alice Smith", "alice", "a@b.example", ""]) {
      await expectMlsError(generateKeyPackage(suite, bad), "invalid_argument");
      await expectMlsError(createGroup(suite, "g_x", bad), "invalid_argument");
    }
  });

  it("puts exactly the id's UTF-8 bytes in a basic credential of every leaf", async () => {
    const ids = [
      "d_AAAAAAAAAAAAAAAAAAAAAA",
      "d_BBBBBBBBBBBBBBBBBBBBBB",
      "d_CCCCCCCCCCCCCCCCCCCCCC",
    ];
    const bundles = await Promise.all(ids.slice(1).map((id) => generateKeyPackage(suite, id)));
    const alice = await createGroup(suite, "g_creds", ids[0] as string);
    const { welcome, next } = await alice.add(bundles.map((b) => b.publicKeyPackage));
    expect(next.members().map((m) => m.credentialId)).toEqual(ids);

    // Decode the ratchet tree the way any member can: every leaf's credential.
    const bob = bundles[0];
    if (!bob) throw new Error("bundle");
    const joined = await joinGroup(suite, welcome, bob.privateKeyPackage, bob.publicKeyPackage);
    const decoded = decodeGroupState(joined.serialize(), 3);
    if (!decoded) throw new Error("state");
    const leaves = decoded[0].ratchetTree.filter((n) => n?.nodeType === "leaf");
    expect(leaves.length).toBe(3);
    for (const [i, node] of leaves.entries()) {
      if (node?.nodeType !== "leaf") throw new Error("leaf");
      expect(node.leaf.credential.credentialType).toBe("basic");
      if (node.leaf.credential.credentialType !== "basic") throw new Error("basic");
      expect(new TextDecoder().decode(node.leaf.credential.identity)).toBe(ids[i]);
      expect(node.leaf.capabilities.credentials).toEqual(["basic"]);
      expect(node.leaf.extensions).toEqual([]);
    }
    // And the public key package says no more than the id either.
    expect(inspectMessage(bob.publicKeyPackage)?.keyPackageCredentialId).toBe(ids[1]);
  });

  it("refuses a commit that smuggles a phone number into the tree", async () => {
    const [alice, bob] = await groupOf(suite, "g_smuggle", ["d_alice", "d_bob"]);
    if (!alice || !bob) throw new Error("group");
    // A hostile client builds the commit with ts-mls directly, bypassing @veil/crypto.
    const impl = await getCiphersuiteImpl(getCiphersuiteFromName(suite.name));
    const phone = { credentialType: "basic" as const, identity: text("+14155552671") };
    const kp = await mlsGenerateKeyPackage(phone, defaultCapabilities(), defaultLifetime, [], impl);
    const decodedState = decodeGroupState(alice.serialize(), 3);
    if (!decodedState) throw new Error("state");
    const state = { ...decodedState[0], clientConfig: defaultClientConfig };
    const hostile = await createCommit(
      { state, cipherSuite: impl },
      {
        extraProposals: [{ proposalType: "add", add: { keyPackage: kp.publicPackage } }],
        wireAsPublicMessage: true,
      },
    );
    await expectMlsError(bob.process(encodeMlsMessage(hostile.commit)), "malformed");
    const encoded = encodeMlsMessage({
      version: "mls10",
      wireformat: "mls_key_package",
      keyPackage: kp.publicPackage,
    });
    await expectMlsError(alice.add([encoded]), "invalid_key_package");
  });

  it("asks verifyCredential about every member it meets", async () => {
    const seen: string[] = [];
    const strict = await loadSuite(undefined, "fast", {
      verifyCredential: async (id) => {
        seen.push(id);
        return id !== "d_mallory";
      },
    });
    const alice = await createGroup(strict, "g_verified", "d_alice");
    const bob = await generateKeyPackage(strict, "d_bob");
    const mallory = await generateKeyPackage(strict, "d_mallory");
    await expectMlsError(alice.add([mallory.publicKeyPackage]), "invalid_key_package");
    const { welcome } = await alice.add([bob.publicKeyPackage]);
    expect(seen).toContain("d_bob");
    // A lax creator adds Mallory; the strict joiner refuses the group's tree.
    const lax = await createGroup(suite, "g_lax", "d_alice");
    const carol = await generateKeyPackage(strict, "d_carol");
    const added = await lax.add([mallory.publicKeyPackage, carol.publicKeyPackage]);
    await expectMlsError(
      joinGroup(strict, added.welcome, carol.privateKeyPackage, carol.publicKeyPackage),
      "malformed",
    );
    expect(
      (await joinGroup(strict, welcome, bob.privateKeyPackage, bob.publicKeyPackage)).members(),
    ).toHaveLength(2);
  });

  it("can sign the leaf with the device's own Ed25519 key", async () => {
    const device = generateKeyPairSync("ed25519");
    const jwk = device.privateKey.export({ format: "jwk" });
    const signatureKey = {
      publicKey: new Uint8Array(Buffer.from(jwk.x ?? "", "base64url")),
      privateKey: new Uint8Array(Buffer.from(jwk.d ?? "", "base64url")),
    };
    const bundle = await generateKeyPackage(suite, "d_device2", { signatureKey });
    const decodedKp = decodeMlsMessage(bundle.publicKeyPackage, 0);
    if (decodedKp?.[0].wireformat !== "mls_key_package") throw new Error("key package");
    expect(decodedKp[0].keyPackage.leafNode.signaturePublicKey).toEqual(signatureKey.publicKey);
    const alice = await createGroup(suite, "g_devkey", "d_alice");
    const { welcome, next } = await alice.add([bundle.publicKeyPackage]);
    const joined = await joinGroup(
      suite,
      welcome,
      bundle.privateKeyPackage,
      bundle.publicKeyPackage,
    );
    const m = await joined.encrypt(text("signed by the device key"));
    const r = await next.process(m.message);
    expect(r.kind === "application" && r.senderCredentialId).toBe("d_device2");
    await expectMlsError(
      generateKeyPackage(suite, "d_device2", {
        signatureKey: { ...signatureKey, privateKey: new Uint8Array(5) },
      }),
      "invalid_argument",
    );
  });

  it("makes last-resort key packages on request", async () => {
    const once = await generateKeyPackage(suite, "d_device1");
    const last = await generateKeyPackage(suite, "d_device1", { lastResort: true });
    expect(inspectMessage(once.publicKeyPackage)?.lastResort).toBe(false);
    expect(inspectMessage(last.publicKeyPackage)?.lastResort).toBe(true);
    const alice = await createGroup(suite, "g_last", "d_alice");
    const { welcome } = await alice.add([last.publicKeyPackage]);
    const joined = await joinGroup(suite, welcome, last.privateKeyPackage, last.publicKeyPackage);
    expect(joined.myCredentialId).toBe("d_device1");
  });
});

describe("X-Wing suite (post-quantum hybrid)", () => {
  it.each(providers)("runs a two-member group [%s provider]", async (provider) => {
    const suite = await loadSuite("MLS_256_XWING_AES256GCM_SHA512_Ed25519", provider);
    let [alice, bob] = await groupOf(suite, "g_pq", ["d_alice", "d_bob"]);
    if (!alice || !bob) throw new Error("group");
    const hello = await alice.encrypt(text("quantum-safe hello"));
    alice = hello.next;
    const r = await bob.process(hello.message);
    expect(r.kind === "application" && str(r.plaintext)).toBe("quantum-safe hello");
    bob = r.next;
    const { commit, next } = await bob.update();
    const c = await alice.process(commit);
    expect(c.next.epoch).toBe(2n);
    expect(next.epoch).toBe(2n);
    expect(await c.next.exportSecret("media", new Uint8Array(), 32)).toEqual(
      await next.exportSecret("media", new Uint8Array(), 32),
    );
    const restored = restoreGroup(suite, c.next.serialize());
    const m = await next.encrypt(text("after update"));
    const r2 = await restored.process(m.message);
    expect(r2.kind === "application" && str(r2.plaintext)).toBe("after update");
    expect(inspectMessage(m.message)?.groupId).toBe("g_pq");
  });
});
