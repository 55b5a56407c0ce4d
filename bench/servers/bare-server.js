// The baseline: a bare `ws` server doing only what a broadcast needs. It
// answers `hello` with `ready` (no authentication) so that clients behave
// exactly as with Veil, and broadcasts one pre-serialised frame per event:
// a Buffer, or with BENCH_BARE_FRAMES=string the JSON string, which `ws`
// then encodes again for every socket.
import http from "node:http";
import { WebSocketServer } from "ws";
import { profileFrame } from "../lib/payload.js";
import { serveControl } from "./control.js";

const ready = Buffer.from(JSON.stringify({ type: "ready" }));
const asString = process.env.BENCH_BARE_FRAMES === "string";
let template = null;

const server = http.createServer((request, response) => {
  if (request.method !== "POST" || request.url !== "/broadcast") {
    response.writeHead(404).end();
    return;
  }
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const { seq } = JSON.parse(Buffer.concat(chunks).toString());
    if (!template) {
      response.writeHead(409).end();
      return;
    }
    const text = profileFrame(template, seq);
    const frame = asString ? text : Buffer.from(text);
    for (const socket of wss.clients) {
      if (socket.readyState === socket.OPEN) socket.send(frame);
    }
    response.writeHead(204).end();
  });
});

const wss = new WebSocketServer({
  server,
  path: "/v1/ws",
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});
wss.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => {
    if (isBinary) return;
    try {
      if (JSON.parse(data.toString()).type === "hello") socket.send(ready);
    } catch {
      socket.terminate();
    }
  });
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
