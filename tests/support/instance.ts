import type { EventsConfig, ProfileCacheConfig } from "../../src/config/config.js";
import type { Events } from "../../src/events/events.js";
import type { ConsumeOutcome, PublishResult } from "../../src/events/metrics.js";
import { grpcClient, type ProfileClient } from "./clients.js";
import type { TestDatabase } from "./databases.js";
import { metricValue } from "./metrics.js";
import { startTestServer, type TestServer } from "./test-server.js";

/** One whole service instance: the RPC server and the event side, on a test database. */
export interface TestInstance {
  readonly server: TestServer;
  readonly events: Events;
  /** A gRPC client with an admin token. */
  readonly client: ProfileClient;
  /** How many consumed messages had this outcome (`profile_events_consumed_total`). */
  consumed(outcome: ConsumeOutcome): Promise<number>;
  /** How many publishes had this result (`profile_events_published_total`). */
  published(result: PublishResult): Promise<number>;
  stop(): Promise<void>;
}

export async function startInstance(
  database: Pick<TestDatabase, "handle">,
  events: Partial<EventsConfig> & Pick<EventsConfig, "natsUrl">,
  options: { profileCache?: Partial<ProfileCacheConfig> } = {},
): Promise<TestInstance> {
  const server = await startTestServer(
    database.handle,
    {},
    {
      profileCache: options.profileCache,
      events: {
        encoding: "protobuf",
        createStreams: true,
        outboxPollIntervalMs: 250,
        outboxRetentionSeconds: 3600,
        ...events,
      },
    },
  );
  const { metrics } = server.service;
  return {
    server,
    events: server.service.events,
    client: grpcClient(server.baseUrl),
    consumed: (outcome) => metricValue(metrics, "profile_events_consumed_total", { outcome }),
    published: (result) => metricValue(metrics, "profile_events_published_total", { result }),
    stop: () => server.close(),
  };
}
