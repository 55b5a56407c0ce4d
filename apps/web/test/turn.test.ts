import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { IceServer } from "@veil/protocol";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { person } from "../../../packages/sdk/test/helpers/harness.js";
import {
  startTestServer,
  type TestServer,
} from "../../../packages/server/test/helpers/test-server.js";
import { chromiumAvailable, chromiumPath, launchBrowser } from "./helpers/browser.js";

// Veil's TURN credentials against a real coturn, used by a real browser's WebRTC stack.

const turnserverPath = "/usr/bin/turnserver";
const missing = [
  ...(existsSync(turnserverPath) ? [] : [`${turnserverPath} (apt-get install coturn)`]),
  ...(chromiumAvailable ? [] : [`${chromiumPath} (apt-get install chromium)`]),
];
const available = missing.length === 0;
if (!available) {
  if (process.env.CI) {
    throw new Error(`${missing.join(" and ")} missing, and CI must run the TURN test`);
  }
  console.error(
    `\n*** ${missing.join(" and ")} NOT installed: the TURN test is SKIPPED here (CI runs it). ***\n`,
  );
}

/** A coturn of our own: loopback only, a random port, a fresh secret, its log kept. */
interface Coturn {
  port: number;
  secret: string;
  /** Everything coturn wrote to stdout and stderr. */
  output: string[];
  stop(): Promise<void>;
}

async function startCoturn(): Promise<Coturn> {
  // The free port is only free until coturn binds it: on a clash, try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCoturnOn(await freeUdpPort());
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function startCoturnOn(port: number): Promise<Coturn> {
  const dir = mkdtempSync(path.join(tmpdir(), "veil-coturn-"));
  // Relay ports below Linux's ephemeral range (32768+), where nothing else is handed out.
  const minPort = 20_000 + Math.floor(Math.random() * 100) * 100;
  const secret = randomBytes(24).toString("base64url");
  const child = spawn(
    turnserverPath,
    [
      "-n",
      "-v",
      "--listening-ip=127.0.0.1",
      "--relay-ip=127.0.0.1",
      `--listening-port=${port}`,
      "--no-tcp",
      `--min-port=${minPort}`,
      `--max-port=${minPort + 99}`,
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--realm=veil.test",
      "--no-tls",
      "--no-dtls",
      "--no-cli",
      "--log-file=stdout",
      "--simple-log",
      "--allow-loopback-peers",
      "--no-multicast-peers",
      `--pidfile=${path.join(dir, "turnserver.pid")}`,
      `--db=${path.join(dir, "turndb")}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killed = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killed);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const failure = () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return `turnserver exited (${child.exitCode ?? child.signalCode})`;
    }
    // coturn keeps retrying a port someone else holds, rather than exiting.
    return output.join("").includes("Cannot bind") ? `port ${port} is taken` : null;
  };
  try {
    await waitForStun(port, failure);
  } catch (error) {
    await stop();
    throw new Error(`coturn did not start: ${(error as Error).message}\n${output.join("")}`);
  }
  return { port, secret, output, stop };
}

/** A UDP port nobody holds right now (coturn takes it a moment later). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Sends STUN Binding requests until one is answered: coturn is then listening. */
async function waitForStun(
  port: number,
  failure: () => string | null,
  timeoutMs = 15_000,
): Promise<void> {
  const socket = createSocket("udp4");
  const transaction = randomBytes(12);
  // RFC 5389: a Binding request with no attributes, the magic cookie, a transaction id.
  const request = Buffer.concat([Buffer.from("000100002112a442", "hex"), transaction]);
  const answered = new Promise<void>((resolve) => {
    socket.on("message", (message) => {
      if (message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(transaction)) {
        resolve();
      }
    });
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const failed = failure();
      if (failed) throw new Error(failed);
      if (Date.now() > deadline) throw new Error(`no STUN answer on port ${port}`);
      socket.send(request, port, "127.0.0.1");
      const retry = new Promise<"retry">((resolve) => setTimeout(resolve, 100, "retry"));
      if ((await Promise.race([answered, retry])) !== "retry") return;
    }
  } finally {
    socket.close();
  }
}

/** Waits until coturn has logged a line that `match` accepts (its log reaches us through a pipe). */
async function logged(coturn: Coturn, match: (line: string) => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = coturn.output.join("").split("\n");
    if (lines.some(match)) return;
    if (Date.now() > deadline) throw new Error("coturn never logged the expected line");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// Chromium gathers on its network interfaces, loopback excluded: with no other, nothing is gathered.
const gatheringStuck = "chromium finished gathering candidates (it needs a non-loopback interface)";

/** TURN REST API credentials, as coturn's `use-auth-secret` checks them. */
function turnCredential(secret: string, username: string): string {
  return createHmac("sha1", secret).update(username).digest("base64");
}

/** What two RTCPeerConnections in the page did with the given ICE servers. */
interface Outcome {
  candidates: { type: string | null; address: string | null }[];
  gatheringComplete: boolean;
  received: string | null;
  connectionState: string;
  selected: { local: string; remote: string } | null;
}

/**
 * Connects two relay-only peer connections to each other in the page and sends
 * a message over a data channel. Settles once both have gathered their
 * candidates and, if there are any, once the message has arrived (or `timeoutMs`).
 */
function connectInPage(
  page: Page,
  iceServers: IceServer[],
  message: string,
  timeoutMs: number,
): Promise<Outcome> {
  return page.evaluate(
    async ({ iceServers, message, timeoutMs }) => {
      const deadline = new Promise<"timeout">((resolve) =>
        setTimeout(resolve, timeoutMs, "timeout"),
      );
      const config: RTCConfiguration = { iceServers, iceTransportPolicy: "relay" };
      const a = new RTCPeerConnection(config);
      const b = new RTCPeerConnection(config);
      const candidates: Outcome["candidates"] = [];
      const trickle = (from: RTCPeerConnection, to: RTCPeerConnection) => {
        from.addEventListener("icecandidate", ({ candidate }) => {
          if (!candidate) return;
          candidates.push({ type: candidate.type, address: candidate.address });
          void to.addIceCandidate(candidate);
        });
      };
      trickle(a, b);
      trickle(b, a);
      const gathered = (pc: RTCPeerConnection) =>
        new Promise<void>((resolve) => {
          if (pc.iceGatheringState === "complete") resolve();
          pc.addEventListener("icegatheringstatechange", () => {
            if (pc.iceGatheringState === "complete") resolve();
          });
        });
      const received = new Promise<string>((resolve) => {
        b.addEventListener("datachannel", ({ channel }) => {
          channel.addEventListener("message", ({ data }) => resolve(String(data)));
        });
      });
      const channel = a.createDataChannel("veil");
      channel.addEventListener("open", () => channel.send(message));
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription as RTCSessionDescription);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription as RTCSessionDescription);

      const gatheringComplete =
        (await Promise.race([Promise.all([gathered(a), gathered(b)]), deadline])) !== "timeout";
      let text: string | null = null;
      if (candidates.length > 0) {
        const arrived = await Promise.race([received, deadline]);
        text = arrived === "timeout" ? null : arrived;
      }

      // The pair ICE chose, from the transport's stats (RTCTransportStats, RTCIceCandidateStats).
      interface Stat {
        type: string;
        selectedCandidatePairId?: string;
        localCandidateId?: string;
        remoteCandidateId?: string;
        candidateType?: string;
      }
      const stats = new Map<string, Stat>();
      (await a.getStats()).forEach((report: Stat, id: string) => {
        stats.set(id, report);
      });
      let selected: Outcome["selected"] = null;
      for (const report of stats.values()) {
        if (report.type !== "transport" || !report.selectedCandidatePairId) continue;
        const pair = stats.get(report.selectedCandidatePairId);
        const local = stats.get(pair?.localCandidateId ?? "")?.candidateType;
        const remote = stats.get(pair?.remoteCandidateId ?? "")?.candidateType;
        if (local && remote) selected = { local, remote };
      }
      const outcome: Outcome = {
        candidates,
        gatheringComplete,
        received: text,
        connectionState: a.connectionState,
        selected,
      };
      a.close();
      b.close();
      return outcome;
    },
    { iceServers, message, timeoutMs },
  );
}

describe.runIf(available)("TURN: Veil's credentials against a real coturn", () => {
  let coturn: Coturn;
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    coturn = await startCoturn();
    browser = await launchBrowser();
    server = await startTestServer({
      backend: "sqlite",
      env: {
        VEIL_ICE_URLS: `stun:127.0.0.1:${coturn.port},turn:127.0.0.1:${coturn.port}?transport=udp`,
        VEIL_TURN_SECRET: coturn.secret,
        VEIL_TURN_TTL_SECONDS: "600",
      },
    });
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await coturn?.stop();
  });

  /** A newly registered person's ICE servers, fetched through the SDK as the app does. */
  async function signedIn() {
    const someone = await person(server, "Tess", { start: false });
    const iceServers = await someone.client.iceServers();
    await someone.client.close();
    const turn = iceServers.find((s) => s.urls.some((u) => u.startsWith("turn:")));
    if (!turn?.username || !turn.credential) throw new Error("the server handed out no TURN");
    const random = turn.username.split(":")[1] ?? "";
    return { ...someone, iceServers, turn, username: turn.username, random };
  }

  /** coturn answered this TURN name with 401 and never allocated a relay for it. */
  async function refused(username: string) {
    const about = (line: string) => line.includes(`user <${username}>`);
    await logged(coturn, (line) => about(line) && line.includes("error 401"));
    const log = coturn.output.join("").split("\n");
    expect(
      log.filter((line) => about(line) && line.includes("ALLOCATE processed, success")),
    ).toEqual([]);
  }

  it("relays a data channel through coturn with the credentials the server hands out", async () => {
    const { iceServers, username, random, userId, phone } = await signedIn();
    expect(iceServers).toEqual([
      { urls: [`stun:127.0.0.1:${coturn.port}`] },
      {
        urls: [`turn:127.0.0.1:${coturn.port}?transport=udp`],
        username,
        credential: turnCredential(coturn.secret, username),
      },
    ]);
    const outcome = await connectInPage(page, iceServers, "hello through the relay", 15_000);

    // A relay candidate exists only once coturn has accepted an authenticated Allocate.
    expect(outcome.gatheringComplete, gatheringStuck).toBe(true);
    expect(outcome.candidates.length).toBeGreaterThan(0);
    for (const candidate of outcome.candidates) {
      expect(candidate).toEqual({ type: "relay", address: "127.0.0.1" });
    }
    expect(outcome.received).toBe("hello through the relay");
    expect(outcome.connectionState).toBe("connected");
    expect(outcome.selected).toEqual({ local: "relay", remote: "relay" });

    // coturn learns a random name, never who is calling.
    await logged(coturn, (line) => line.includes(`user <${username}>`));
    const log = coturn.output.join("");
    expect(log).toContain(random);
    expect(log).not.toContain(userId);
    expect(log).not.toContain(phone);
  });

  it("gathers no relay candidate, and connects nothing, with a wrong password", async () => {
    const { iceServers, turn, username } = await signedIn();
    const wrong = iceServers.map((s) =>
      s === turn ? { ...s, credential: `${turn.credential}x` } : s,
    );
    const outcome = await connectInPage(page, wrong, "must not arrive", 10_000);
    expect(outcome.gatheringComplete, gatheringStuck).toBe(true);
    expect(outcome.candidates).toEqual([]);
    expect(outcome.received).toBeNull();
    expect(outcome.connectionState).not.toBe("connected");
    await refused(username);
  });

  it("gathers no relay candidate, and connects nothing, with expired credentials", async () => {
    const { iceServers, turn, random } = await signedIn();
    // Correctly signed, but a minute past its expiry.
    const username = `${Math.floor(Date.now() / 1000) - 60}:${random}`;
    const expired = iceServers.map((s) =>
      s === turn ? { ...s, username, credential: turnCredential(coturn.secret, username) } : s,
    );
    const outcome = await connectInPage(page, expired, "must not arrive", 10_000);
    expect(outcome.gatheringComplete, gatheringStuck).toBe(true);
    expect(outcome.candidates).toEqual([]);
    expect(outcome.received).toBeNull();
    expect(outcome.connectionState).not.toBe("connected");
    await refused(username);
  });
});
