// Every registered method against the access rules (tests/support/access-rules.ts), over real
// sockets to the real server: gRPC (unary calls on the direct path, connect-internals/) and
// Connect. tests/unit/security.test.ts runs the same in memory.
import { afterAll, describe } from "vitest";
import { transportsFor } from "./support/clients.js";
import { createTestDatabase } from "./support/databases.js";
import { startNatsServer, until } from "./support/nats.js";
import { describeAccessRules } from "./support/security-suite.js";
import { startTestServer } from "./support/test-server.js";

// Started before the tests are collected: the suite makes a test per registered method. As
// deployed: PostgreSQL, and events on (WatchProfiles serves only once the profile feed is live),
// on a broker of the file's own so that no other file's registrations are consumed here.
const database = await createTestDatabase();
const broker = await startNatsServer();
const server = await startTestServer(
  database.handle,
  {},
  { events: { natsUrl: broker.url, createStreams: true } },
);
afterAll(async () => {
  await server.close();
  await broker.dispose();
  await database.drop();
});
await until(() => server.service.profileFeed.live(), 20_000);

// Both speak every kind of method, bidi streams included, over HTTP/2.
describe.each(["gRPC over h2c", "Connect binary over HTTP/2"])("over %s", (protocol) => {
  describeAccessRules({
    routes: server.service.routes,
    profiles: server.service.profiles,
    transport(token) {
      const transport = transportsFor(server.baseUrl, token)[protocol];
      if (transport === undefined) throw new Error(`no transport ${protocol}`);
      return transport;
    },
  });
});
