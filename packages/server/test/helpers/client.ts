import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { challengeSigningPrefix, type ServerFrame } from "@veil/protocol";
import WebSocket from "ws";
import type { CapturingVerifier } from "./test-server.js";

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A device key pair, as a client keeps it. */
export class DeviceKey {
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync("ed25519");
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey.export({ format: "jwk" }).x as string;
  }

  /** Signs arbitrary bytes (a device link approval, say). */
  signRaw(message: Buffer): string {
    return sign(null, message, this.privateKey).toString("base64url");
  }

  sign(challenge: string): string {
    const message = Buffer.concat([
      Buffer.from(challengeSigningPrefix),
      Buffer.from(challenge, "base64url"),
    ]);
    return sign(null, message, this.privateKey).toString("base64url");
  }
}

/** Plain HTTP against a real server. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    raw?: Buffer | string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers["content-type"] = options.contentType ?? "application/octet-stream";
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get("content-type") ?? "").includes("json") && text)
    parsed = JSON.parse(text);
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export async function deviceProof(base: string, key: DeviceKey, name?: string) {
  const c = await http(base, "POST", "/v1/auth/challenges");
  return {
    publicKey: key.publicKey,
    challengeId: c.body.challengeId,
    signature: key.sign(c.body.challenge),
    ...(name ? { name } : {}),
  };
}

/** Verifies a number through the server's verifier and returns the proof. */
export async function phoneProof(base: string, verifier: CapturingVerifier, phone: string) {
  const v = await http(base, "POST", "/v1/phone-verifications", { body: { phone } });
  if (v.status !== 201) throw new Error(`verification failed: ${JSON.stringify(v.body)}`);
  return {
    verificationId: v.body.verificationId as string,
    code: verifier.codes.get(v.body.verificationId) as string,
  };
}

/** A signed-in user with one device, talking to a real server. */
export class TestUser {
  constructor(
    readonly base: string,
    readonly id: string,
    readonly deviceId: string,
    public token: string,
    readonly key: DeviceKey,
  ) {}

  static async register(
    base: string,
    options: { name: string; username?: string; phone?: string; verifier?: CapturingVerifier },
  ): Promise<TestUser> {
    const key = new DeviceKey();
    const body: Record<string, unknown> = {
      name: options.name,
      device: await deviceProof(base, key, "test device"),
    };
    if (options.username) body.username = options.username;
    if (options.phone) {
      if (!options.verifier) throw new Error("a phone needs the verifier");
      body.phone = await phoneProof(base, options.verifier, options.phone);
    }
    const r = await http(base, "POST", "/v1/accounts", { body });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    return new TestUser(base, r.body.user.id, r.body.deviceId, r.body.session.token, key);
  }

  request<T = any>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    return http<T>(this.base, method, path, { token: this.token, body });
  }

  /** Adds and signs in a second device; returns its session token. */
  async addDevice(): Promise<{ deviceId: string; token: string; key: DeviceKey }> {
    const key = new DeviceKey();
    const added = await this.request(
      "POST",
      "/v1/devices",
      await deviceProof(this.base, key, "second"),
    );
    if (added.status !== 201) throw new Error(`add device failed: ${JSON.stringify(added.body)}`);
    const c = await http(this.base, "POST", "/v1/auth/challenges");
    const s = await http(this.base, "POST", "/v1/sessions", {
      body: {
        deviceId: added.body.deviceId,
        challengeId: c.body.challengeId,
        signature: key.sign(c.body.challenge),
      },
    });
    if (s.status !== 201) throw new Error(`sign-in failed: ${JSON.stringify(s.body)}`);
    return { deviceId: added.body.deviceId, token: s.body.session.token, key };
  }

  /** Opens an authenticated WebSocket and waits for `ready`. */
  async connect(wsUrl: string, token = this.token): Promise<LiveSocket> {
    const socket = await LiveSocket.open(wsUrl);
    socket.send({ type: "hello", token });
    await socket.next((f) => f.type === "ready");
    return socket;
  }
}

/** A WebSocket that records every frame, for tests to wait on. */
export class LiveSocket {
  readonly frames: ServerFrame[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
  }

  static open(url: string): Promise<LiveSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const live = new LiveSocket(ws);
      ws.once("open", () => resolve(live));
      ws.once("error", reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (recorded or future) that matches, or fails after `timeoutMs`. */
  async next<F extends ServerFrame = ServerFrame>(
    match: (f: ServerFrame) => boolean,
    timeoutMs = 5000,
  ): Promise<F> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.frames.length; seen++) {
        const f = this.frames[seen] as ServerFrame;
        if (match(f)) {
          this.frames.splice(seen, 1);
          return f as F;
        }
      }
      if (this.closeCode !== null)
        throw new Error(`socket closed (${this.closeCode} ${this.closeReason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when the server closes the socket. */
  async closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("socket did not close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return { code: this.closeCode, reason: this.closeReason };
  }

  close(): void {
    this.ws.close();
  }
}
