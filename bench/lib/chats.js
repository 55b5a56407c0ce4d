// Chats set up through the real API for the scenarios that need one: a
// direct chat between two users (as relay-1to1 sets it up) and an MLS group
// of many member devices (as group-fanout does, without its measurements).
import { call, pool, registerUser, verifiedPhone } from "./clients.js";
import { encodedKeyPackage, GroupSender } from "./mls.js";

const claimBatch = 50; // the most user ids one claim takes

/**
 * Users A and B on `veil` (a Child: it hands out B's phone code); A finds B by
 * number, opens their direct chat, claims B's key package and adds B's device.
 * Resolves with `count` MLS messages of `bytes` plaintext bytes from A.
 */
export async function directChat(veil, { phone, bytes, count }) {
  const base = veil.url;
  const sender = await registerUser(base, "Chat sender");
  const receiver = await registerUser(base, "Chat receiver", await verifiedPhone(veil, phone));
  await call(base, "POST", "/v1/lookup/phone", 200, { token: sender.token, body: { phone } });
  await call(base, "POST", "/v1/key-packages", 200, {
    token: receiver.token,
    body: { keyPackages: [await encodedKeyPackage(receiver.deviceId)] },
  });
  const group = await call(base, "POST", "/v1/groups", 201, {
    token: sender.token,
    body: { kind: "direct", peerUserId: receiver.id },
  });
  const mls = await GroupSender.create(group.id, sender.deviceId);
  const { devices } = await call(base, "POST", "/v1/key-packages/claim", 200, {
    token: sender.token,
    body: { userIds: [receiver.id] },
  });
  const commit = await mls.commitAdds(devices);
  await call(base, "POST", `/v1/groups/${group.id}/commits`, 201, {
    token: sender.token,
    body: commit.body,
  });
  commit.adopt();
  const messages = await mls.messages(count, bytes);
  return { sender, receiver, groupId: group.id, messages };
}

/**
 * A group of `members` devices on `veil`: the creator and `members - 1`
 * users with verified numbers (`phoneOf(i)`) and a key package each, all
 * added in one commit. Resolves with the creator's MLS state too.
 */
export async function memberGroup(veil, { members, concurrency, phoneOf }) {
  const base = veil.url;
  const creator = await registerUser(base, "Group creator");
  const others = await pool(
    Array.from({ length: members - 1 }, (_, i) => i),
    concurrency,
    async (i) => ({
      ...(await registerUser(base, `Member ${i}`, await verifiedPhone(veil, phoneOf(i)))),
      phone: phoneOf(i),
    }),
  );
  const keyPackages = [];
  for (const member of others) keyPackages.push(await encodedKeyPackage(member.deviceId));
  await pool(others, concurrency, async (member, i) => {
    await call(base, "POST", "/v1/key-packages", 200, {
      token: member.token,
      body: { keyPackages: [keyPackages[i]] },
    });
    // The creator may claim the key packages only of users it can see.
    await call(base, "POST", "/v1/lookup/phone", 200, {
      token: creator.token,
      body: { phone: member.phone },
    });
  });
  const group = await call(base, "POST", "/v1/groups", 201, {
    token: creator.token,
    body: { kind: "group" },
  });
  const claimed = [];
  for (let i = 0; i < others.length; i += claimBatch) {
    const { devices } = await call(base, "POST", "/v1/key-packages/claim", 200, {
      token: creator.token,
      body: { userIds: others.slice(i, i + claimBatch).map((m) => m.id) },
    });
    claimed.push(...devices);
  }
  const mls = await GroupSender.create(group.id, creator.deviceId);
  const commit = await mls.commitAdds(claimed);
  await call(base, "POST", `/v1/groups/${group.id}/commits`, 201, {
    token: creator.token,
    body: commit.body,
  });
  commit.adopt();
  return { creator, members: [creator, ...others], groupId: group.id, mls };
}
