// Every registered method against the access rules (tests/support/access-rules.ts), through the
// real wiring served in memory. tests/security.test.ts runs the same over sockets.
import { afterAll } from "vitest";
import { describeAccessRules } from "../support/security-suite.js";
import { startInMemoryService } from "./support/in-memory-service.js";

// Composed before the tests are collected: the suite makes a test per registered method.
const service = await startInMemoryService();
afterAll(() => service.stop());

describeAccessRules({
  routes: service.app.routes,
  profiles: service.app.profiles,
  transport: service.transport,
});
