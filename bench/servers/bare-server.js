// The baseline: a bare `ws` server doing only what a broadcast or a relay
// needs, and storing nothing. It answers `hello` with `ready` (no
// authentication) so that clients behave exactly as with Veil.
//
// - POST /broadcast {seq}: one pre-serialised `profile.updated` frame to every
//   socket (gateway-fanout): a Buffer, or with BENCH_BARE_FRAMES=string the
//   JSON string, which `ws` then encodes again for every socket.
// - POST /broadcast-frame: the request body, as is, to every socket
//   (group-fanout); as a string with BENCH_BARE_FRAMES=string.
// - Relay rooms (relay-1to1): a socket whose hello token is `relay:<room>`
//   joins the room; every later frame it sends goes, as is, to the room's
//   other sockets, and the sender gets an `ack` frame back.
// - POST /relay?room=<room>: the request body, as is, to the room's sockets,
//   then 201 with an ack: the same relay with the sender on HTTP, as with Veil.
// - Mailboxes (offline-drain), in memory: POST /queue?box=<box> keeps the
//   request body, as is, and answers 201 with an ack; GET
//   /queue?box=<box>&after=<n>&limit=<k> answers `{ entries, lastSeq }` with
//   the kept bodies after position n; POST /queue-ack?box=<box>&upTo=<n>
//   forgets them up to n.
// - Sign-in (connection-capacity): POST /v1/auth/challenges answers a fresh
//   random challenge, POST /v1/sessions a session grant of the same shape as
//   Veil's, without checking anything (no store, no signature check).
import { randomBytes } from "node:crypto";
import http from "node:http";
import { WebSocketServer } from "ws";
import { profileFrame } from "../lib/payload.js";
import { serveControl } from "./control.js";

const ready = Buffer.from(JSON.stringify({ type: "ready" }));
const ack = Buffer.from(JSON.stringify({ type: "ack" }));
const httpAck = Buffer.from(JSON.stringify({ ack: true }));
const asString = process.env.BENCH_BARE_FRAMES === "string";
const text = { binary: false };
let template = null;

/** Relay rooms: name -> sockets. */
const rooms = new Map();
/** Mailboxes: name -> { base, entries }, positions from 1; `base` of them forgotten. */
const boxes = new Map();
const boxOf = (name) => {
  if (!boxes.has(name)) boxes.set(name, { base: 0, entries: [] });
  return boxes.get(name);
};
const json = (response, status, body) =>
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

function readBody(request, done) {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => done(Buffer.concat(chunks)));
}

function broadcast(frame, options) {
  for (const socket of wss.clients) {
    if (socket.readyState === socket.OPEN) socket.send(frame, options);
  }
}

function relay(room, frame, from) {
  for (const peer of rooms.get(room) ?? []) {
    if (peer !== from && peer.readyState === peer.OPEN) peer.send(frame, text);
  }
}

const server = http.createServer((request, response) => {
  const [route, query] = (request.url ?? "").split("?");
  const params = new URLSearchParams(query);
  if (request.method === "GET" && route === "/queue") {
    const box = boxOf(params.get("box"));
    const after = Math.max(Number(params.get("after") ?? 0), box.base);
    const limit = Number(params.get("limit") ?? 100);
    const page = box.entries.slice(after - box.base, after - box.base + limit);
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(`{"entries":[${page.join(",")}],"lastSeq":${box.base + box.entries.length}}`);
  } else if (request.method !== "POST") {
    response.writeHead(404).end();
  } else if (route === "/queue") {
    readBody(request, (body) => {
      boxOf(params.get("box")).entries.push(body.toString());
      response.writeHead(201, { "content-type": "application/json" }).end(httpAck);
    });
  } else if (route === "/queue-ack") {
    readBody(request, () => {
      const box = boxOf(params.get("box"));
      const upTo = Math.min(Number(params.get("upTo")), box.base + box.entries.length);
      if (upTo > box.base) {
        box.entries.splice(0, upTo - box.base);
        box.base = upTo;
      }
      response.writeHead(204).end();
    });
  } else if (route === "/v1/auth/challenges") {
    readBody(request, () =>
      json(response, 201, {
        challengeId: randomBytes(16).toString("hex"),
        challenge: randomBytes(32).toString("base64url"),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      }),
    );
  } else if (route === "/v1/sessions") {
    readBody(request, (body) => {
      const { deviceId } = JSON.parse(body.toString());
      json(response, 201, {
        userId: "bench",
        deviceId,
        session: { id: randomBytes(16).toString("hex"), token: "bench" },
      });
    });
  } else if (route === "/broadcast") {
    readBody(request, (body) => {
      const { seq } = JSON.parse(body.toString());
      if (!template) {
        response.writeHead(409).end();
        return;
      }
      const json = profileFrame(template, seq);
      broadcast(asString ? json : Buffer.from(json));
      response.writeHead(204).end();
    });
  } else if (route === "/broadcast-frame") {
    readBody(request, (body) => {
      broadcast(asString ? body.toString() : body, text);
      response.writeHead(204).end();
    });
  } else if (route === "/relay") {
    readBody(request, (body) => {
      relay(params.get("room"), body, null);
      response.writeHead(201, { "content-type": "application/json" }).end(httpAck);
    });
  } else {
    response.writeHead(404).end();
  }
});

const wss = new WebSocketServer({
  server,
  path: "/v1/ws",
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});
wss.on("connection", (socket) => {
  let room = null;
  socket.on("message", (data, isBinary) => {
    if (room !== null) {
      // A relay socket after hello: forward as is, no parsing, then ack.
      relay(room, data, socket);
      socket.send(ack);
      return;
    }
    if (isBinary) return;
    try {
      const frame = JSON.parse(data.toString());
      if (frame.type !== "hello") return;
      if (typeof frame.token === "string" && frame.token.startsWith("relay:")) {
        room = frame.token.slice("relay:".length);
        if (!rooms.has(room)) rooms.set(room, new Set());
        rooms.get(room).add(socket);
      }
      socket.send(ready);
    } catch {
      socket.terminate();
    }
  });
  socket.on("close", () => rooms.get(room)?.delete(socket));
  socket.on("error", () => socket.terminate());
});

await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();

serveControl({
  template: (message) => {
    template = message.template;
  },
  stats: () => ({ statements: 0, connections: wss.clients.size }),
  async close() {
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
    setImmediate(() => process.exit(0));
  },
});
process.send?.({ type: "listening", url: `http://127.0.0.1:${port}` });
