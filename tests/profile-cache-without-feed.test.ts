// The read cache when the instance does not hear the profile events (docs/cache.md):
// while the broker is away it bypasses the cache, after the broker returns it serves nothing it
// may have missed, and on PostgreSQL without NATS_URL it never serves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Profile } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { grpcClient } from "./support/clients.js";
import { createTestDatabase, openThroughProxy, type TestDatabase } from "./support/databases.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import { type PrivateNats, startNatsServer, until } from "./support/nats.js";
import {
  cacheMetric,
  changeUnannounced,
  holdBackEventsOf,
  insertUnannounced,
  storedRow,
  untilServing,
  urlOf,
} from "./support/profile-cache.js";
import { startTestServer } from "./support/test-server.js";

let database: TestDatabase;
let databaseUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  databaseUrl = urlOf(database.config);
});

afterAll(async () => {
  await database?.drop();
});

const hits = (instance: TestInstance) =>
  cacheMetric(instance.server.service.metrics, "profile_cache_hits_total");

/** The database's row as the API shows it: bio and etag. */
const latest = async (userId: string) => {
  const row = await storedRow(databaseUrl, userId);
  return { bio: row.bio, etag: `v${row.version}` };
};

describe("the broker stopped while another instance writes", () => {
  let nats: PrivateNats;
  let a: TestInstance;
  let b: TestInstance;

  beforeAll(async () => {
    nats = await startNatsServer();
    a = await startInstance(database, { natsUrl: nats.url });
    b = await startInstance(database, { natsUrl: nats.url });
    await untilServing(a.server.service.metrics, 1);
    await untilServing(b.server.service.metrics, 1);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await nats?.dispose();
  });

  it("B bypasses its cache while the broker is down, and serves nothing it missed once it is back", async () => {
    const userId = crypto.randomUUID();
    // No event of this user is ever published: whatever B misses stays missed.
    await holdBackEventsOf(databaseUrl, userId);
    await a.client.updateProfile({ userId, displayName: "Ada", bio: "before the outage" });
    await b.client.getProfile({ userId });
    const cachedHits = await hits(b);
    expect(await b.client.getProfile({ userId })).toMatchObject({ bio: "before the outage" });
    expect(await hits(b)).toBe(cachedHits + 1);

    await nats.stop();
    await untilServing(b.server.service.metrics, 0);
    const hitsInOutage = await hits(b);
    for (let round = 1; round <= 3; round += 1) {
      const written = await a.client.updateProfile({
        userId,
        bio: `written in the outage ${round}`,
      });
      expect(await b.client.getProfile({ userId })).toEqual(written);
      const batch = await b.client.batchGetProfiles({ userIds: [userId] });
      expect(batch.profiles).toEqual([written]);
    }
    await changeUnannounced(databaseUrl, userId, "changed by SQL in the outage");
    expect(await b.client.getProfile({ userId })).toMatchObject(await latest(userId));
    expect(await hits(b)).toBe(hitsInOutage);

    await nats.start();
    await untilServing(b.server.service.metrics, 1);
    await untilServing(a.server.service.metrics, 1);
    for (const instance of [b, a]) {
      expect(await instance.client.getProfile({ userId })).toMatchObject(await latest(userId));
      const batch = await instance.client.batchGetProfiles({ userIds: [userId] });
      expect(batch.profiles[0]).toMatchObject(await latest(userId));
    }
    // Serving again: the row read after the return is what B now serves from its cache.
    const servingHits = await hits(b);
    expect(await b.client.getProfile({ userId })).toMatchObject(await latest(userId));
    expect(await hits(b)).toBe(servingHits + 1);
  });

  it("a read begun before the broker went away does not fill the cache after it is back", async () => {
    // C reads through a proxy that holds the database's answers while the test says so.
    // A pool wide enough that readiness checks piling up behind held answers leave room.
    const { proxy, handle } = await openThroughProxy(database.config, 32);
    const c = await startInstance({ handle }, { natsUrl: nats.url, outboxPollIntervalMs: 600_000 });
    try {
      await untilServing(c.server.service.metrics, 1);
      const userId = crypto.randomUUID();
      await holdBackEventsOf(databaseUrl, userId);
      await insertUnannounced(databaseUrl, [userId], "old");

      const held = proxy.holdAnswers();
      let read: Promise<Profile> | undefined;
      try {
        read = c.client.getProfile({ userId });
        // Awaited below; a failure must not go unhandled meanwhile.
        read.catch(() => {});
        // The query has run in PostgreSQL (its row is here, held): it saw version 1.
        await until(() => held.bytes().toString("latin1").includes(userId));
        await nats.stop();
        await untilServing(c.server.service.metrics, 0);
        await a.client.updateProfile({ userId, bio: "written while C could not hear" });
        await nats.start();
        await untilServing(c.server.service.metrics, 1);
      } finally {
        held.release();
      }
      expect((await read)?.bio).toBe("old");

      expect(await c.client.getProfile({ userId })).toMatchObject(await latest(userId));
      expect(await c.client.getProfile({ userId })).toMatchObject({
        bio: "written while C could not hear",
      });
    } finally {
      await c.stop();
      await handle.close();
      await proxy.stop();
    }
  });
});

describe("PostgreSQL without NATS_URL", () => {
  it("the cache never serves: a change made by raw SQL is seen at once", async () => {
    const server = await startTestServer(database.handle);
    try {
      const client = grpcClient(server.baseUrl);
      const userId = crypto.randomUUID();
      await client.updateProfile({ userId, displayName: "Solo", bio: "by the API" });
      expect(await client.getProfile({ userId })).toMatchObject({ bio: "by the API" });
      expect((await client.batchGetProfiles({ userIds: [userId] })).profiles[0]?.bio).toBe(
        "by the API",
      );

      await changeUnannounced(databaseUrl, userId, "changed by SQL");

      expect(await client.getProfile({ userId })).toMatchObject(await latest(userId));
      expect((await client.batchGetProfiles({ userIds: [userId] })).profiles[0]).toMatchObject(
        await latest(userId),
      );
      const { metrics } = server.service;
      expect(await cacheMetric(metrics, "profile_cache_serving")).toBe(0);
      expect(await cacheMetric(metrics, "profile_cache_hits_total")).toBe(0);
      expect(await cacheMetric(metrics, "profile_cache_entries")).toBe(0);
    } finally {
      await server.close();
    }
  });
});
