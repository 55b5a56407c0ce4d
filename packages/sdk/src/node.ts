import WebSocket from "ws";
import type { WebSocketFactory } from "./connection.js";

export * from "./index.js";
export { FileStore, type FileStoreOptions } from "./store/file-store.js";

/**
 * The `ws` package as the client's WebSocket, for Node (20 has no global one).
 * @example
 * const client = await VeilClient.open({ serverUrl, store, webSocket: nodeWebSocket });
 */
export const nodeWebSocket: WebSocketFactory = (url, handlers) => {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  socket.on("open", () => handlers.onOpen());
  socket.on("message", (data, isBinary) => {
    if (!isBinary) handlers.onMessage(data.toString());
  });
  socket.on("close", (code, reason) => handlers.onClose(code, reason.toString()));
  socket.on("error", () => handlers.onError());
  return {
    send: (text) => socket.send(text),
    close: (code, reason) => {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(code, reason);
    },
  };
};
