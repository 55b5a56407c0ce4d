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
  build: { target: "es2022", sourcemap: true, chunkSizeWarningLimit: 2048 },
  // The call media worker (calls/frame-worker.ts) is an ES module, like the app.
  worker: { format: "es" },
  server: {
    proxy: {
      "/v1": { target: "http://localhost:8080", ws: true },
    },
  },
});
