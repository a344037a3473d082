// SearchProfiles on the real service in memory (embedded PGlite, the routes without a socket):
// the whole suite of tests/support/search-suite.ts. Over gRPC and Connect on PostgreSQL:
// tests/profile-search.test.ts.
import { afterAll, beforeAll } from "vitest";
import { searchSuite } from "../support/search-suite.js";
import { type InMemoryService, startInMemoryService } from "./support/in-memory-service.js";

let service: InMemoryService;
beforeAll(async () => {
  service = await startInMemoryService();
});
afterAll(() => service.stop());

searchSuite({
  db: () => service.app.database.db,
  provision: (userId, displayName, username) =>
    service.app.profiles.provisionProfile(userId, [displayName], username),
  profiles: (token) => service.clients(token).profiles,
  graph: (token) => service.clients(token).socialGraph,
});
