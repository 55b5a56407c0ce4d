import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const source = (path: string) => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url));

// The workspace packages are bundled from their TypeScript sources, so the web
// client never depends on a stale build of them. The server serves `dist/` at
// `/`; `npm run dev -w @veil/web` proxies the API to a server on :8080.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [
      {
        find: /^@veil\/protocol\/sender-key-wire$/,
        replacement: source("protocol/src/sender-key-wire.ts"),
      },
      { find: /^@veil\/protocol$/, replacement: source("protocol/src/index.ts") },
      { find: /^@veil\/crypto$/, replacement: source("crypto/src/index.ts") },
      { find: /^@veil\/sdk$/, replacement: source("sdk/src/index.ts") },
    ],
  },
  build: {
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 2048,
    // Two pages: the chat app at `/`, and the business gateway's team inbox
    // (served by the gateway at `/inbox/`, packages/business-gateway/src/web.ts).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL("index.html", import.meta.url)),
        inbox: fileURLToPath(new URL("inbox.html", import.meta.url)),
      },
    },
  },
  // The call media worker (calls/frame-worker.ts) is an ES module, like the app.
  worker: { format: "es" },
  server: {
    proxy: {
      "/v1": { target: "http://localhost:8080", ws: true },
    },
  },
});
