import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { challengeSigningPrefix } from "../../packages/protocol/dist/index.js";
import { withTimeout } from "./child.js";
import { seqOf } from "./payload.js";

/**
 * JSON over HTTP; resolves to `{ status, body }`. `raw` is a body already
 * serialised (sent as JSON, as is).
 */
export async function api(base, method, path, { token, body, raw } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const json = text && (response.headers.get("content-type") ?? "").includes("json");
  return { status: response.status, body: json ? JSON.parse(text) : text };
}

/** Like `api`, but throws unless the status is `expected`. */
export async function call(base, method, path, expected, options) {
  const reply = await api(base, method, path, options);
  if (reply.status !== expected) {
    throw new Error(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}

/** A fresh Ed25519 device key that signs challenges as the protocol says. */
export function deviceKey() {
  const pair = generateKeyPairSync("ed25519");
  return {
    publicKey: pair.publicKey.export({ format: "jwk" }).x,
    sign(challenge) {
      const message = Buffer.concat([
        Buffer.from(challengeSigningPrefix),
        Buffer.from(challenge, "base64url"),
      ]);
      return sign(null, message, pair.privateKey).toString("base64url");
    },
  };
}

/**
 * Registers a user through the real API with a real device key: challenge,
 * signature, account. `phone` is an optional `{ verificationId, code }`.
 * The device key comes back too, to sign in again later.
 */
export async function registerUser(base, name, phone) {
  const key = deviceKey();
  const challenge = await call(base, "POST", "/v1/auth/challenges", 201);
  const device = {
    publicKey: key.publicKey,
    challengeId: challenge.challengeId,
    signature: key.sign(challenge.challenge),
    name: "bench",
  };
  const body = { name, device, ...(phone ? { phone } : {}) };
  const account = await call(base, "POST", "/v1/accounts", 201, { body });
  return { id: account.user.id, deviceId: account.deviceId, token: account.session.token, key };
}

/**
 * A verified phone number for `registerUser`: the Veil server under test
 * (`veil`, a Child) hands the code to the harness instead of sending an SMS.
 */
export async function verifiedPhone(veil, phone) {
  const { verificationId } = await call(veil.url, "POST", "/v1/phone-verifications", 201, {
    body: { phone },
  });
  return { verificationId, code: await veil.request("code", { verificationId }) };
}

/** Runs `work` on every item, at most `concurrency` at a time; results in order. */
export async function pool(items, concurrency, work) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * Opens a WebSocket, sends `hello` and resolves once `ready` arrives. Every
 * later frame goes to `onFrame(data)`.
 */
export function openSocket(wsUrl, token, onFrame, timeoutMs = 15_000) {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  let ready = false;
  const opened = new Promise((resolve, reject) => {
    socket.once("open", () => socket.send(JSON.stringify({ type: "hello", token })));
    socket.once("error", reject);
    socket.once("close", (code) => {
      if (!ready) reject(new Error(`closed before ready (${code})`));
    });
    socket.on("message", (data) => {
      if (ready) {
        onFrame(data);
        return;
      }
      const frame = JSON.parse(data.toString());
      if (frame.type === "ready") {
        ready = true;
        resolve(socket);
      } else {
        reject(new Error(`expected ready, got ${data.toString()}`));
      }
    });
  });
  return withTimeout(opened, timeoutMs, `no ready within ${timeoutMs} ms`).catch((error) => {
    socket.terminate();
    throw error;
  });
}

/** Opens one authenticated socket per token, `concurrency` handshakes at a time. */
export async function openSockets(wsUrl, tokens, onFrame, concurrency = 50) {
  const start = performance.now();
  const sockets = await pool(tokens, concurrency, (token) => openSocket(wsUrl, token, onFrame));
  return { sockets, ms: performance.now() - start };
}

export function closeSockets(sockets) {
  for (const socket of sockets) socket.terminate();
}

const frameStart = '{"type":"profile.updated",';
const aboutKey = '"about":"';

/** The event number of a `profile.updated` frame (text), or -1. */
export function profileSeqOf(text) {
  const at = text.indexOf(aboutKey);
  return text.startsWith(frameStart) && at >= 0 ? seqOf(text.slice(at + aboutKey.length)) : -1;
}

/**
 * Counts the deliveries of each event on the client side: when the first
 * and the last of the expected frames arrived, and their sizes. `seqOfFrame`
 * finds the event a frame (text) belongs to, -1 for none.
 */
export class DeliveryTracker {
  #events = new Map();
  #seqOf;
  stray = 0;

  constructor(seqOfFrame = profileSeqOf) {
    this.#seqOf = seqOfFrame;
  }

  /** Starts waiting for `count` frames of event `seq`; the clock starts now. */
  expect(seq, count, timeoutMs) {
    const event = { t0: performance.now(), count, latencies: [], sizes: new Set() };
    const done = new Promise((resolve) => {
      event.resolve = resolve;
    });
    this.#events.set(seq, event);
    return {
      t0: event.t0,
      done: withTimeout(
        done,
        timeoutMs,
        `event ${seq}: ${count} deliveries not seen in ${timeoutMs} ms`,
      )
        .catch((error) => {
          error.message += ` (got ${event.latencies.length})`;
          throw error;
        })
        .finally(() => this.#events.delete(seq)),
    };
  }

  /**
   * The `onFrame` of every client socket. Only the first frame of an event is
   * parsed in full (to keep it): the load generator shares the CPUs with the
   * servers, so it does as little per frame as it can.
   */
  onFrame = (data) => {
    const now = performance.now();
    const text = data.toString();
    const event = this.#events.get(this.#seqOf(text));
    if (!event) {
      this.stray++;
      return;
    }
    if (event.latencies.length === 0) {
      event.first = JSON.parse(text);
      event.firstText = text;
    }
    event.latencies.push(now - event.t0);
    event.sizes.add(data.length);
    if (event.latencies.length === event.count) event.resolve(event);
  };
}

/** This process's soft limit on open files (Linux), or Infinity if unknown. */
export function openFileLimit() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) ? soft : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
