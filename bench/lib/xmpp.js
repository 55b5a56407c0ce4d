// XMPP clients for the ejabberd peer runs, on @xmpp/client: in-band
// registration (XEP-0077) pipelined over a few raw streams, clients connected
// with bounded concurrency, and a tracker timing each message from send to
// receipt, shaped like clients.js's DeliveryTracker so that events.js's
// `fire` works with it.
import net from "node:net";
import { performance } from "node:perf_hooks";
import { client, xml } from "@xmpp/client";
import { Parser } from "@xmpp/xml";
import { withTimeout } from "./child.js";
import { pool } from "./clients.js";
import { messageIdFor } from "./payload.js";

const streamHeader = (domain) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

/**
 * Registers `usernames` (each with `password`) by in-band registration:
 * `streams` unauthenticated streams, each sending its share of
 * `jabber:iq:register` requests at once. Resolves to the time taken in ms.
 */
export async function registerUsers(port, domain, usernames, password, streams = 8) {
  const started = performance.now();
  const shares = Array.from({ length: streams }, (_, s) =>
    usernames.filter((_, i) => i % streams === s),
  );
  await Promise.all(
    shares
      .filter((share) => share.length > 0)
      .map((share) => registerOn(port, domain, share, password)),
  );
  return performance.now() - started;
}

function registerOn(port, domain, usernames, password, timeoutMs = 120_000) {
  const socket = net.connect({ host: "127.0.0.1", port });
  const parser = new Parser();
  let pending = usernames.length;
  const done = new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("close", () =>
      reject(new Error(`stream closed with ${pending} registrations left`)),
    );
    socket.once("connect", () => socket.write(streamHeader(domain)));
    socket.on("data", (chunk) => parser.write(chunk.toString()));
    parser.on("error", reject);
    parser.on("element", (element) => {
      if (element.is("features")) {
        const requests = usernames.map((username, i) =>
          xml(
            "iq",
            { type: "set", id: `reg${i}` },
            xml(
              "query",
              { xmlns: "jabber:iq:register" },
              xml("username", {}, username),
              xml("password", {}, password),
            ),
          ).toString(),
        );
        socket.write(requests.join(""));
      } else if (element.is("iq")) {
        if (element.attrs.type !== "result") {
          const user = usernames[Number(String(element.attrs.id).slice(3))];
          const condition = element.getChild("error")?.children[0]?.name ?? "unknown";
          reject(new Error(`registering ${user} failed: ${condition}`));
          return;
        }
        if (--pending === 0) resolve();
      } else if (element.is("error")) {
        reject(new Error(`stream error: ${element.children[0]?.name ?? "unknown"}`));
      }
    });
  });
  return withTimeout(done, timeoutMs, `registration not done in ${timeoutMs} ms`).finally(() => {
    socket.removeAllListeners("close");
    socket.on("error", () => {});
    socket.end("</stream:stream>");
    socket.destroy();
  });
}

/**
 * One connected, authenticated client with a bound resource: SASL PLAIN on
 * the loopback listener (no TLS, as the Veil runs use plain HTTP and
 * WebSocket), no reconnection. `onStanza(stanza)` gets every stanza after
 * it is online.
 */
export async function connectClient({
  service,
  domain,
  username,
  password,
  resource = "bench",
  onStanza,
  presence = false,
  timeoutMs = 30_000,
}) {
  const xmpp = client({
    service,
    domain,
    resource,
    // @xmpp/client only picks PLAIN on a secure connection: ask for it.
    credentials: (authenticate) => authenticate({ username, password }, "PLAIN"),
  });
  xmpp.reconnect.stop();
  // As `ws` does for the WebSocket clients: no Nagle delay behind pipelined stanzas.
  xmpp.on("connect", () => xmpp.socket?.setNoDelay(true));
  xmpp.on("error", () => {}); // start() rejects with it; later errors end the run through timeouts
  if (onStanza) xmpp.on("stanza", onStanza);
  try {
    await withTimeout(xmpp.start(), timeoutMs, `${username}: not online in ${timeoutMs} ms`);
  } catch (error) {
    xmpp.stop().catch(() => {});
    throw error;
  }
  // Initial presence: a message to the bare JID reaches only available resources.
  if (presence) await xmpp.send(xml("presence"));
  return xmpp;
}

/** Connects every account of `accounts` (`{ username, ... }`), `concurrency` at a time. */
export async function connectClients(accounts, options, concurrency = 50) {
  const started = performance.now();
  const clients = await pool(accounts, concurrency, (account) =>
    connectClient({ ...options, ...account }),
  );
  return { clients, ms: performance.now() - started };
}

/** Closes the streams (ends the sockets; does not wait for the server's goodbye). */
export async function closeClients(clients) {
  await Promise.all(
    clients.map((c) =>
      withTimeout(c.stop(), 5000, "stop timed out").catch(() => c.socket?.destroy()),
    ),
  );
}

/**
 * The body of message `seq`: `chars` characters, like the base64url MLS
 * ciphertext Veil relays for the same plaintext size (`filler` is such a
 * string; the message id is in the stanza's id attribute).
 */
export function bodyOf(filler, chars) {
  return filler.repeat(Math.ceil(chars / filler.length)).slice(0, chars);
}

/** A `<message/>` stanza whose id carries `seq` in fixed width (payload.js's message ids). */
export function messageStanza(to, type, seq, body) {
  return xml("message", { to, type, id: messageIdFor(seq) }, xml("body", {}, body));
}

const idPrefix = messageIdFor(0).replace(/0+$/, "");

/** The event number of a message stanza (its id), or -1. */
function stanzaSeqOf(stanza) {
  if (stanza.name !== "message") return -1;
  const id = stanza.attrs.id;
  if (typeof id !== "string" || !id.startsWith(idPrefix)) return -1;
  const seq = Number(id.slice(idPrefix.length));
  return Number.isInteger(seq) ? seq : -1;
}

/**
 * Counts deliveries of each message on the client side, as DeliveryTracker
 * does for WebSocket frames: the first stanza of an event is serialised once
 * to report its size; others are only counted.
 */
export class StanzaTracker {
  #events = new Map();
  stray = 0;

  /** Starts waiting for `count` stanzas of message `seq`; the clock starts now. */
  expect(seq, count, timeoutMs) {
    const event = { t0: performance.now(), count, latencies: [], sizes: new Set() };
    const done = new Promise((resolve) => {
      event.resolve = resolve;
    });
    this.#events.set(seq, event);
    const tracked = withTimeout(
      done,
      timeoutMs,
      `message ${seq}: ${count} deliveries not seen in ${timeoutMs} ms`,
    )
      .catch((error) => {
        error.message += ` (got ${event.latencies.length})`;
        throw error;
      })
      .finally(() => this.#events.delete(seq));
    event.tracked = tracked;
    return { t0: event.t0, done: tracked };
  }

  /** The delivery promise of a message already expected, or null. */
  delivered(seq) {
    return this.#events.get(seq)?.tracked ?? null;
  }

  /** The `onStanza` of every client. */
  onStanza = (stanza) => {
    const now = performance.now();
    const event = this.#events.get(stanzaSeqOf(stanza));
    if (!event) {
      // Subject messages on joining a room carry no body: not strays.
      if (stanza.name === "message" && stanza.getChild("body")) this.stray++;
      return;
    }
    if (event.latencies.length === 0) {
      event.firstText = stanza.toString();
      event.first = { id: stanza.attrs.id };
      event.sizes.add(Buffer.byteLength(event.firstText));
    }
    event.latencies.push(now - event.t0);
    if (event.latencies.length === event.count) event.resolve(event);
  };
}

/**
 * Joins the MUC room `room` as `nick` (no history) and resolves once the
 * room's self-presence arrives.
 */
export function joinRoom(xmpp, room, nick, timeoutMs = 30_000) {
  const self = `${room}/${nick}`;
  let listener;
  const joined = new Promise((resolve, reject) => {
    listener = (stanza) => {
      if (stanza.name !== "presence" || stanza.attrs.from !== self) return;
      if (stanza.attrs.type === "error") reject(new Error(`joining the room as ${nick} failed`));
      else resolve();
    };
    xmpp.on("stanza", listener);
  });
  xmpp
    .send(
      xml(
        "presence",
        { to: self },
        xml("x", { xmlns: "http://jabber.org/protocol/muc" }, xml("history", { maxstanzas: "0" })),
      ),
    )
    .catch(() => {});
  return withTimeout(joined, timeoutMs, `${nick}: not in the room in ${timeoutMs} ms`).finally(() =>
    xmpp.removeListener("stanza", listener),
  );
}

/** Unlocks a room its owner just created with the default configuration (an instant room). */
export async function configureInstantRoom(owner, room) {
  await owner.iqCaller.request(
    xml(
      "iq",
      { type: "set", to: room },
      xml(
        "query",
        { xmlns: "http://jabber.org/protocol/muc#owner" },
        xml("x", { xmlns: "jabber:x:data", type: "submit" }),
      ),
    ),
  );
}
