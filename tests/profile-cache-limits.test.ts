// The read cache's bounds and its switch (docs/cache.md): PROFILE_CACHE_MAX_BYTES
// under a stream of distinct ids, PROFILE_CACHE_TTL_MS as the safety net, and
// PROFILE_CACHE_ENABLED=false. On a broker of this file's own, so that no other test's events
// land in these caches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import { type PrivateNats, startNatsServer, until } from "./support/nats.js";
import {
  cacheMetric,
  changeUnannounced,
  insertUnannounced,
  storedRow,
  untilServing,
  urlOf,
} from "./support/profile-cache.js";

let database: TestDatabase;
let databaseUrl: string;
let nats: PrivateNats;
const instances: TestInstance[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  databaseUrl = urlOf(database.config);
  nats = await startNatsServer();
});

afterAll(async () => {
  for (const instance of instances) await instance.stop();
  await nats?.dispose();
  await database?.drop();
});

async function instanceWith(profileCache: {
  enabled?: boolean;
  maxBytes?: number;
  ttlMs?: number;
}): Promise<TestInstance> {
  const instance = await startInstance(database, { natsUrl: nats.url }, { profileCache });
  instances.push(instance);
  await until(() => instance.events.state() === "connected");
  return instance;
}

const latest = async (userId: string) => {
  const row = await storedRow(databaseUrl, userId);
  return { bio: row.bio, etag: `v${row.version}` };
};

describe("PROFILE_CACHE_MAX_BYTES", () => {
  it("a stream of distinct ids never takes the cache above its byte budget; evictions are counted", async () => {
    const budget = 1024 * 1024;
    const instance = await instanceWith({ maxBytes: budget });
    const { metrics } = instance.server.service;
    await untilServing(metrics, 1);
    const metric = (name: string) => cacheMetric(metrics, name);
    // About 1.5 KiB each as the cache weighs them: 1,500 of them are about twice the budget.
    const userIds = Array.from({ length: 1500 }, () => crypto.randomUUID());
    await insertUnannounced(databaseUrl, userIds, "b".repeat(400));

    const bytesSeen: number[] = [];
    for (let start = 0; start < userIds.length; start += 100) {
      const batch = userIds.slice(start, start + 100);
      const answer = await instance.client.batchGetProfiles({ userIds: batch });
      expect(answer.profiles).toHaveLength(batch.length);
      bytesSeen.push(await metric("profile_cache_bytes"));
      // And one by one, for the other read path.
      await instance.client.getProfile({ userId: batch[0] ?? "" });
      bytesSeen.push(await metric("profile_cache_bytes"));
    }

    expect(Math.max(...bytesSeen)).toBeLessThanOrEqual(budget);
    // Filled up to the budget, not far below it.
    expect(Math.max(...bytesSeen)).toBeGreaterThan(budget * 0.9);
    const entries = await metric("profile_cache_entries");
    const evictions = await metric("profile_cache_evictions_total");
    expect(entries).toBeLessThan(userIds.length);
    expect(evictions).toBeGreaterThan(0);
    // Every profile read was stored once; nothing expired or was removed otherwise.
    expect(entries + evictions).toBe(userIds.length);
    expect(await metric("profile_cache_misses_total")).toBeGreaterThanOrEqual(userIds.length);
  });
});

describe("PROFILE_CACHE_TTL_MS", () => {
  it("after the TTL a change the instance never heard of is served", async () => {
    const ttlMs = 1000;
    const instance = await instanceWith({ ttlMs });
    const { metrics } = instance.server.service;
    await untilServing(metrics, 1);
    const userId = crypto.randomUUID();
    const writing = performance.now();
    await instance.client.updateProfile({ userId, displayName: "Aging", bio: "cached" });
    const hitsBefore = await cacheMetric(metrics, "profile_cache_hits_total");
    expect(await instance.client.getProfile({ userId })).toMatchObject({ bio: "cached" });
    // Served from the cache, unless this slow machine let the TTL pass already.
    if (performance.now() - writing < ttlMs) {
      expect(await cacheMetric(metrics, "profile_cache_hits_total")).toBe(hitsBefore + 1);
    }

    await changeUnannounced(databaseUrl, userId, "changed by SQL");

    // No event tells the cache: only the TTL ends the old entry.
    const expected = await latest(userId);
    await until(async () => (await instance.client.getProfile({ userId })).bio === expected.bio);
    expect(await instance.client.getProfile({ userId })).toMatchObject(expected);
    const batch = await instance.client.batchGetProfiles({ userIds: [userId] });
    expect(batch.profiles[0]).toMatchObject(expected);
  });
});

describe("PROFILE_CACHE_ENABLED=false", () => {
  it("every read goes to the database, and no cache metric is exported", async () => {
    const instance = await instanceWith({ enabled: false });
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Uncached", bio: "by the API" });
    expect(await instance.client.getProfile({ userId })).toMatchObject({ bio: "by the API" });

    await changeUnannounced(databaseUrl, userId, "changed by SQL");

    const expected = await latest(userId);
    expect(await instance.client.getProfile({ userId })).toMatchObject(expected);
    const batch = await instance.client.batchGetProfiles({ userIds: [userId] });
    expect(batch.profiles[0]).toMatchObject(expected);
    const { registry } = instance.server.service.metrics;
    for (const name of [
      "profile_cache_hits_total",
      "profile_cache_misses_total",
      "profile_cache_evictions_total",
      "profile_cache_entries",
      "profile_cache_bytes",
      "profile_cache_serving",
    ]) {
      expect({ name, registered: registry.getSingleMetric(name) !== undefined }).toEqual({
        name,
        registered: false,
      });
    }
  });
});
