import { createHmac, randomBytes } from "node:crypto";
import type { IceServerList } from "@veil/protocol";
import type { IceConfig } from "../config.js";

/**
 * The ICE servers a client uses for a call. TURN credentials follow the TURN
 * REST API scheme coturn implements with `use-auth-secret`: the name is
 * `<expiry>:<random>`, the password HMAC-SHA1(secret, name) in base64. The
 * random part, not the user's id, keeps people's ids out of the TURN
 * server's logs. Without configuration the list is empty: calls then
 * connect directly (one machine, one network).
 */
export function iceServers(config: IceConfig, now: number): IceServerList {
  const stun = config.urls.filter((u) => u.startsWith("stun:"));
  const turn = config.urls.filter((u) => u.startsWith("turn:") || u.startsWith("turns:"));
  const list: IceServerList["iceServers"] = [];
  if (stun.length > 0) list.push({ urls: stun });
  let expiresAt: string | null = null;
  if (turn.length > 0 && config.turnSecret) {
    const expiry = Math.floor(now / 1000) + config.turnTtlSeconds;
    const username = `${expiry}:${randomBytes(9).toString("base64url")}`;
    const credential = createHmac("sha1", config.turnSecret).update(username).digest("base64");
    list.push({ urls: turn, username, credential });
    expiresAt = new Date(expiry * 1000).toISOString();
  }
  return { iceServers: list, expiresAt };
}
