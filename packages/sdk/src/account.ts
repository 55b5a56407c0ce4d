import { sha256 } from "@noble/hashes/sha2.js";
import type { OwnProfile, PhoneProof } from "@veil/protocol";
import type { ApiClient } from "./api-client.js";
import { fromBase64Url, toBase64Url } from "./encoding.js";
import { VeilError } from "./errors.js";
import { DeviceIdentity } from "./identity.js";
import {
  AccountRecord,
  asJson,
  del,
  IdentityRecord,
  LinkRecord,
  type LocalState,
  ns,
  put,
} from "./local-state.js";
import { sleep } from "./mutex.js";

export interface RegisterInput {
  name: string;
  username?: string;
  /** A verified number: `requestPhoneVerification`, then the code the user received. */
  phone?: PhoneProof;
  /** Shown in the account's device list. */
  deviceName?: string;
}

export interface Account {
  userId: string;
  deviceId: string;
}

/** What a new device shows so that an existing one can approve it. */
export interface DeviceLinkOffer {
  /** Typed on the existing device, with the key: `1234-5678`. */
  code: string;
  /** The new device's public key (base64url): the existing device signs exactly this. */
  publicKey: string;
  /** Code and key in one string, for a QR code or a paste: `veil-link:<code>:<publicKey>`. */
  uri: string;
  expiresAt: string;
}

const linkPrefix = "veil-link:";

/** Reads `veil-link:<code>:<publicKey>` (what `DeviceLinkOffer.uri` holds). */
export function parseLinkUri(uri: string): { code: string; publicKey: string } {
  const rest = uri.trim().startsWith(linkPrefix) ? uri.trim().slice(linkPrefix.length) : "";
  const [code, publicKey, extra] = rest.split(":");
  if (
    !code ||
    !/^[0-9]{4}-?[0-9]{4}$/.test(code) ||
    !publicKey ||
    fromBase64Url(publicKey)?.length !== 32 ||
    extra !== undefined
  ) {
    throw new VeilError("link_invalid");
  }
  return { code, publicKey };
}

/** A short fingerprint of a device key (15 digits from its SHA-256), for people to compare on two screens. */
export function linkFingerprint(publicKey: string): string {
  const hash = sha256(new TextEncoder().encode(publicKey));
  const groups: string[] = [];
  for (let i = 0; i < 15; i += 5) {
    let n = 0;
    for (const byte of hash.subarray(i, i + 5)) n = n * 256 + byte;
    groups.push(String(n % 100_000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** The device key in the store, made on first use. */
export async function ensureIdentity(state: LocalState): Promise<DeviceIdentity> {
  const record = await state.json(IdentityRecord, ns.device, "identity");
  if (record) {
    const seed = fromBase64Url(record.seed);
    if (!seed) throw new VeilError("store_corrupt");
    return DeviceIdentity.fromSeed(seed);
  }
  const identity = DeviceIdentity.generate();
  // Kept before the server hears of it: a crash cannot leave a registered key we lost.
  await state.write([
    put(
      ns.device,
      "identity",
      asJson({ seed: toBase64Url(identity.exportSeed()), publicKey: identity.publicKeyBase64 }),
    ),
  ]);
  return identity;
}

async function proof(api: ApiClient, identity: DeviceIdentity, name?: string) {
  const { challengeId, challenge } = await api.challenge();
  return {
    publicKey: identity.publicKeyBase64,
    challengeId,
    signature: await identity.signChallenge(challenge),
    ...(name ? { name } : {}),
  };
}

export async function registerAccount(
  api: ApiClient,
  state: LocalState,
  input: RegisterInput,
): Promise<{ account: Account; profile: OwnProfile }> {
  const identity = await ensureIdentity(state);
  const body = {
    name: input.name,
    ...(input.username ? { username: input.username } : {}),
    ...(input.phone ? { phone: input.phone } : {}),
    device: await proof(api, identity, input.deviceName),
  };
  const registered = await api.register(body);
  await state.write([
    put(
      ns.device,
      "account",
      asJson({ userId: registered.user.id, deviceId: registered.deviceId, serverUrl: api.baseUrl }),
    ),
    put(ns.device, "session", asJson(registered.session)),
  ]);
  return {
    account: { userId: registered.user.id, deviceId: registered.deviceId },
    profile: registered.user,
  };
}

/** A new session for this device, signed with its key. */
export async function signIn(
  api: ApiClient,
  state: LocalState,
  identity: DeviceIdentity,
  deviceId: string,
): Promise<void> {
  const { challengeId, challenge } = await api.challenge();
  const signature = await identity.signChallenge(challenge);
  const { session } = await api.signIn({ deviceId, challengeId, signature });
  await state.write([put(ns.device, "session", asJson(session))]);
}

/** Step one on a new device: prove the key, get a code to show. */
export async function startLink(
  api: ApiClient,
  state: LocalState,
  deviceName?: string,
): Promise<{ offer: DeviceLinkOffer; record: LinkRecord }> {
  const identity = await ensureIdentity(state);
  // A link started before a restart is picked up again while it lasts.
  let record = await state.json(LinkRecord, ns.device, "link");
  if (!record || Date.parse(record.expiresAt) < Date.now() + 30_000) {
    const started = await api.startDeviceLink(await proof(api, identity, deviceName));
    record = {
      linkId: started.linkId,
      secret: started.secret,
      code: started.code,
      expiresAt: started.expiresAt,
    };
    await state.write([put(ns.device, "link", asJson(record))]);
  }
  return {
    record,
    offer: {
      code: record.code,
      publicKey: identity.publicKeyBase64,
      uri: `${linkPrefix}${record.code}:${identity.publicKeyBase64}`,
      expiresAt: record.expiresAt,
    },
  };
}

/** Step three on the new device: poll until an existing device approved, then sign in. */
export async function completeLink(
  api: ApiClient,
  state: LocalState,
  record: LinkRecord,
  pollMs: number,
): Promise<Account> {
  const identity = await ensureIdentity(state);
  const deadline = Date.parse(record.expiresAt);
  for (;;) {
    const status = await api.deviceLinkStatus(record.linkId, record.secret);
    if (status.status === "approved" && status.deviceId && status.userId) {
      await state.write([
        put(
          ns.device,
          "account",
          asJson({ userId: status.userId, deviceId: status.deviceId, serverUrl: api.baseUrl }),
        ),
        del(ns.device, "link"),
      ]);
      await signIn(api, state, identity, status.deviceId);
      return { userId: status.userId, deviceId: status.deviceId };
    }
    if (Date.now() > deadline) throw new VeilError("link_expired");
    await sleep(pollMs);
  }
}

export async function loadAccount(state: LocalState): Promise<Account | undefined> {
  const record = await state.json(AccountRecord, ns.device, "account");
  return record ? { userId: record.userId, deviceId: record.deviceId } : undefined;
}
