import type { EventsConfig } from "../../src/config.js";
import { type Events, startEvents } from "../../src/events/events.js";
import { createProfileStore } from "../../src/profile/profile-repository.js";
import { createProfileService } from "../../src/profile/profile-service.js";
import { grpcClient, type ProfileClient } from "./clients.js";
import { silentLogger, type TestDatabase } from "./databases.js";
import { startTestServer, type TestServer } from "./test-server.js";

/** One whole service instance: the RPC server and the event side, on a test database. */
export interface TestInstance {
  readonly server: TestServer;
  readonly events: Events;
  /** A gRPC client with an admin token. */
  readonly client: ProfileClient;
  stop(): Promise<void>;
}

export async function startInstance(
  database: Pick<TestDatabase, "db" | "handle">,
  events: Partial<EventsConfig> & Pick<EventsConfig, "natsUrl">,
): Promise<TestInstance> {
  const server = await startTestServer(database.db);
  const running = startEvents({
    config: {
      encoding: "protobuf",
      createStreams: true,
      outboxPollIntervalMs: 250,
      outboxRetentionSeconds: 3600,
      ...events,
    },
    database: database.handle,
    profiles: createProfileService(createProfileStore(database.db), { allowHttpAvatarUrls: false }),
    logger: silentLogger,
  });
  return {
    server,
    events: running,
    client: grpcClient(server.baseUrl),
    async stop() {
      await running.stop();
      await server.close();
    },
  };
}
