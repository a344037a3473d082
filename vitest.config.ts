import { configDefaults, defineConfig } from "vitest/config";
import { exitOnUnsupportedNode } from "./src/ops/supported-node.js";

// The suite refuses an unsupported Node.js with the same line as the service.
exitOnUnsupportedNode();

/** Tests that need no server: `npm run test:unit` runs only these. */
const unitTests = "tests/unit/**/*.test.ts";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [unitTests],
          // Pure code and no shared state: one module graph in threads halves the start-up cost.
          pool: "threads",
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/**/*.test.ts"],
          exclude: [...configDefaults.exclude, unitTests],
          // Fails the run at once when PostgreSQL or NATS is not reachable.
          globalSetup: ["tests/support/global-setup.ts"],
        },
      },
    ],
  },
});
