import { defineConfig } from "vitest/config";
import { exitOnUnsupportedNode } from "./src/supported-node.js";

// The suite refuses an unsupported Node.js with the same line as the service.
exitOnUnsupportedNode();

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
