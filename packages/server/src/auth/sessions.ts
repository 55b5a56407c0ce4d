import type { Device, Session } from "@veil/protocol";
import { VeilError } from "../errors.js";
import { newId, newToken, sha256 } from "../ids.js";
import type { Db } from "../store/database.js";

/** Who is calling: resolved from a session token on every request and connection. */
export interface AuthContext {
  userId: string;
  deviceId: string;
  sessionId: string;
}

const touchEveryMs = 60_000;

export async function createSession(
  db: Db,
  userId: string,
  deviceId: string,
  now: number,
): Promise<{ id: string; token: string }> {
  const id = newId("s");
  const token = newToken();
  await db
    .insertInto("sessions")
    .values({
      id,
      user_id: userId,
      device_id: deviceId,
      token_hash: sha256(token),
      created_at: now,
      last_used_at: now,
    })
    .execute();
  return { id, token };
}

/** Resolves a bearer token, or null when it is unknown or revoked. */
export async function authenticate(
  db: Db,
  token: string,
  now: number,
): Promise<AuthContext | null> {
  if (!token.startsWith("vt_") || token.length > 128) return null;
  const row = await db
    .selectFrom("sessions")
    .select(["id", "user_id", "device_id", "last_used_at"])
    .where("token_hash", "=", sha256(token))
    .executeTakeFirst();
  if (!row) return null;
  if (now - row.last_used_at > touchEveryMs) {
    await db.updateTable("sessions").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return { userId: row.user_id, deviceId: row.device_id, sessionId: row.id };
}

export async function listSessions(db: Db, auth: AuthContext): Promise<Session[]> {
  const rows = await db
    .selectFrom("sessions")
    .select(["id", "device_id", "created_at", "last_used_at"])
    .where("user_id", "=", auth.userId)
    .orderBy("created_at")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    deviceId: r.device_id,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: new Date(r.last_used_at).toISOString(),
    current: r.id === auth.sessionId,
  }));
}

/** Revokes one of the caller's own sessions. */
export async function revokeSession(db: Db, userId: string, sessionId: string): Promise<void> {
  const result = await db
    .deleteFrom("sessions")
    .where("id", "=", sessionId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) throw new VeilError("session_not_found");
}

export async function listDevices(db: Db, auth: AuthContext): Promise<Device[]> {
  const rows = await db
    .selectFrom("devices")
    .select(["id", "name", "public_key", "created_at"])
    .where("user_id", "=", auth.userId)
    .orderBy("created_at")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    publicKey: r.public_key,
    createdAt: new Date(r.created_at).toISOString(),
    current: r.id === auth.deviceId,
  }));
}

export async function insertDevice(
  db: Db,
  userId: string,
  device: { publicKey: string; name?: string | undefined },
  now: number,
): Promise<string> {
  const id = newId("d");
  await db
    .insertInto("devices")
    .values({
      id,
      user_id: userId,
      name: device.name ?? "Device",
      public_key: device.publicKey,
      created_at: now,
      online_since: null,
      last_seen_at: null,
    })
    .execute();
  return id;
}

/** Removes one of the caller's devices and all its sessions; returns the revoked session ids. */
export async function removeDevice(db: Db, userId: string, deviceId: string): Promise<string[]> {
  const devices = await db
    .selectFrom("devices")
    .select("id")
    .where("user_id", "=", userId)
    .execute();
  if (!devices.some((d) => d.id === deviceId)) throw new VeilError("device_not_found");
  if (devices.length === 1) throw new VeilError("last_device");
  const sessions = await db
    .deleteFrom("sessions")
    .where("device_id", "=", deviceId)
    .returning("id")
    .execute();
  await db.deleteFrom("devices").where("id", "=", deviceId).execute();
  return sessions.map((s) => s.id);
}

/** The public key of a device, for sign-in. */
export async function devicePublicKey(db: Db, deviceId: string) {
  return db
    .selectFrom("devices")
    .select(["user_id", "public_key"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
}

/** Marks a device connected or disconnected, for presence. */
export async function markPresence(
  db: Db,
  deviceId: string,
  state: "online" | "seen" | "offline",
  now: number,
): Promise<void> {
  const set =
    state === "online"
      ? { online_since: now, last_seen_at: now }
      : state === "seen"
        ? { last_seen_at: now }
        : { online_since: null, last_seen_at: now };
  await db.updateTable("devices").set(set).where("id", "=", deviceId).execute();
}
