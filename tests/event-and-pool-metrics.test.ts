// The event and pool metrics on GET /metrics move with what they count: each test makes one of
// them change and reads it as Prometheus would. Every test runs its own nats-server and database.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/open.js";
import { outboxBacklog } from "../src/events/outbox/outbox-repository.js";
import { openThroughProxy, silentLogger, type TestDatabase } from "./support/databases.js";
import type { TestInstance } from "./support/instance.js";
import { scrape, scrapedValue } from "./support/metrics.js";
import { publishToStream, until } from "./support/nats.js";
import { useScratch } from "./support/scratch.js";
import { startTestServer } from "./support/test-server.js";

const { cleanups, privateBroker, database, instanceOn } = useScratch();

const consumed = (instance: TestInstance, outcome: string) =>
  scrapedValue(instance.server.baseUrl, "profile_events_consumed_total", { outcome });
const published = (instance: TestInstance, result: string) =>
  scrapedValue(instance.server.baseUrl, "profile_events_published_total", { result });
const busUp = (baseUrl: string) => scrapedValue(baseUrl, "profile_event_bus_up");
const registration = (userId: string) => JSON.stringify({ user_id: userId, username: "new" });

describe("profile_event_bus_up", () => {
  it("is 0 until the broker is there, 1 while connected, 0 while it is away, 1 once it is back", async () => {
    const nats = await privateBroker();
    await nats.stop();
    const instance = await instanceOn(await database(), nats.url);
    const { baseUrl } = instance.server;

    expect(await busUp(baseUrl)).toBe(0);
    await nats.start();
    await until(async () => (await busUp(baseUrl)) === 1, 30_000);
    await nats.stop();
    await until(async () => (await busUp(baseUrl)) === 0);
    await nats.start();
    await until(async () => (await busUp(baseUrl)) === 1, 30_000);
  });

  it("is 0 without NATS_URL", async () => {
    const db = await database();
    const server = await startTestServer(db.handle);
    cleanups.push(() => server.close());

    expect(await busUp(server.baseUrl)).toBe(0);
  });
});

describe("profile_events_consumed_total", () => {
  it("counts registrations provisioned, already present, terminated and ignored", async () => {
    const nats = await privateBroker();
    const instance = await instanceOn(await database(), nats.url);
    await until(() => instance.events.state() === "connected");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const outcomes = ["provisioned", "already_present", "terminated", "ignored", "retried"];
    for (const outcome of outcomes) expect(await consumed(instance, outcome)).toBe(0);
    const userId = crypto.randomUUID();

    await publishToStream(nc, "auth.user.registered", registration(userId));
    await publishToStream(nc, "auth.user.registered", registration(userId));
    await publishToStream(nc, "auth.user.registered", "{not json");
    await publishToStream(nc, "auth.user.password_changed", registration(userId));
    await until(async () => (await consumed(instance, "ignored")) === 1);

    expect(await consumed(instance, "provisioned")).toBe(1);
    expect(await consumed(instance, "already_present")).toBe(1);
    expect(await consumed(instance, "terminated")).toBe(1);
    expect(await consumed(instance, "retried")).toBe(0);
  });

  it("counts a registration retried while the database is away", async () => {
    const nats = await privateBroker();
    const db = await database();
    const { proxy, handle } = await openThroughProxy(db.config);
    cleanups.push(() => proxy.stop());
    cleanups.push(() => handle.close());
    const instance = await instanceOn({ handle }, nats.url);
    await until(() => instance.events.state() === "connected");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());

    await proxy.stop();
    await publishToStream(nc, "auth.user.registered", registration(crypto.randomUUID()));
    await until(async () => (await consumed(instance, "retried")) >= 1);
    await proxy.start();
    await until(async () => (await consumed(instance, "provisioned")) === 1, 30_000);
  });
});

describe("profile_events_published_total", () => {
  it("counts events published, published again as duplicates, and refused by the broker", async () => {
    const nats = await privateBroker();
    const db = await database();
    const instance = await instanceOn(db, nats.url);
    await until(() => instance.events.state() === "connected");
    for (const result of ["published", "duplicate", "failed"]) {
      expect(await published(instance, result)).toBe(0);
    }
    const userId = crypto.randomUUID();
    const drained = () => until(async () => (await outboxBacklog(db.db)).pending === 0);

    await instance.client.updateProfile({ userId, displayName: "Counted" });
    await drained();
    expect(await published(instance, "published")).toBe(1);

    // A relay that crashed before marking the row: the broker has the event already.
    await db.db.updateTable("outbox").set({ published_at: null }).execute();
    await drained();
    expect(await published(instance, "duplicate")).toBe(1);

    // No stream takes profile.> any more: JetStream refuses the publish.
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    await (await jetstreamManager(nc)).streams.delete("PROFILE");
    await instance.client.updateProfile({ userId, bio: "refused" });
    await until(async () => (await published(instance, "failed")) >= 1);
    expect(await published(instance, "published")).toBe(1);
  });
});

describe("profile_db_pool_connections", () => {
  it("shows connections in use as not idle, and callers waiting while the pool is exhausted", async () => {
    const db = await database();
    const pool = await openDatabase(
      { ...db.config, kind: "postgres", url: urlOf(db), poolMax: 2, preparedStatements: true },
      { statementTimeoutMs: 10_000, logger: silentLogger },
    );
    cleanups.push(() => pool.close());
    const server = await startTestServer(pool);
    cleanups.push(() => server.close());
    const gauge = (state: string) =>
      scrapedValue(server.baseUrl, "profile_db_pool_connections", { state });
    await until(async () => (await gauge("idle")) >= 1);

    // Both connections held, and one more query waiting for one.
    const held: Array<() => void> = [];
    const holding = [0, 1].map(() =>
      pool.db.connection().execute(
        (connection) =>
          new Promise<void>((resolve) => {
            held.push(resolve);
            void sql`SELECT 1`.execute(connection);
          }),
      ),
    );
    await until(() => held.length === 2);
    const waiting = sql`SELECT 1`.execute(pool.db);
    try {
      // One scrape: the pool gives up on a waiting caller after 3 s.
      const sample = await scrape(server.baseUrl);

      expect(sample("profile_db_pool_connections", { state: "total" })).toBe(2);
      expect(sample("profile_db_pool_connections", { state: "idle" })).toBe(0);
      expect(sample("profile_db_pool_connections", { state: "waiting" })).toBeGreaterThanOrEqual(1);
    } finally {
      for (const release of held) release();
    }
    await Promise.all([...holding, waiting]);
    await until(async () => (await gauge("waiting")) === 0 && (await gauge("idle")) === 2);
  });
});

function urlOf(db: TestDatabase): string {
  if (db.config.kind !== "postgres") throw new Error("the pool gauge needs PostgreSQL");
  return db.config.url;
}
