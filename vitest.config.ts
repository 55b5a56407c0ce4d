import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@veil/protocol/sender-key-wire": fileURLToPath(
        new URL("./packages/protocol/src/sender-key-wire.ts", import.meta.url),
      ),
      "@veil/protocol": fileURLToPath(new URL("./packages/protocol/src/index.ts", import.meta.url)),
      "@veil/crypto/wire": fileURLToPath(new URL("./packages/crypto/src/wire.ts", import.meta.url)),
      "@veil/crypto": fileURLToPath(new URL("./packages/crypto/src/index.ts", import.meta.url)),
      "@veil/sdk/node": fileURLToPath(new URL("./packages/sdk/src/node.ts", import.meta.url)),
      "@veil/sdk": fileURLToPath(new URL("./packages/sdk/src/index.ts", import.meta.url)),
      "@veil/insights": fileURLToPath(new URL("./packages/insights/src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    globalSetup: ["packages/server/test/global-setup.ts"],
    globals: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two suite files at a time: they mostly wait on sockets, browsers and databases.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ["default"],
  },
});
