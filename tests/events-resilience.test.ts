// Events when the broker or the database goes away and comes back, and with two instances.
// Each test runs its own nats-server (so it may stop it) and its own database.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/open.js";
import { outboxBacklog } from "../src/events/outbox/outbox-repository.js";
import { grpcClient } from "./support/clients.js";
import { openThroughProxy, silentLogger } from "./support/databases.js";
import type { TestInstance } from "./support/instance.js";
import {
  profileOf,
  publishToStream,
  startNatsServer,
  storedEventsOf,
  until,
} from "./support/nats.js";
import { useScratch } from "./support/scratch.js";

const { cleanups, privateBroker, database, instanceOn } = useScratch();

const registration = (userId: string) => JSON.stringify({ user_id: userId, username: "new" });

describe("the broker goes away", () => {
  it("keeps serving while it is down, then publishes all 100 updates in order once it is back", async () => {
    const nats = await privateBroker();
    const db = await database();
    const instance = await instanceOn(db, nats.url);
    await until(() => instance.events.state() === "connected");
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Before" });
    await until(async () => (await outboxBacklog(db.db)).pending === 0);

    await nats.stop();
    await until(() => instance.events.state() === "reconnecting");
    for (let n = 1; n <= 100; n++) {
      await instance.client.updateProfile({ userId, bio: `offline ${n}` });
    }
    expect((await outboxBacklog(db.db)).pending).toBe(100);
    await nats.start();
    await until(async () => (await outboxBacklog(db.db)).pending === 0, 30_000);

    const versions = (await storedEventsOf(nats.url, userId)).map((e) => Number(e.event.version));
    expect(versions).toEqual(Array.from({ length: 101 }, (_, n) => n + 1));
  });

  it("starts without the broker, keeps events in the outbox, and publishes them when it appears", async () => {
    const nats = await privateBroker();
    await nats.stop();
    const db = await database();
    const instance = await instanceOn(db, nats.url);
    const userId = crypto.randomUUID();

    await instance.client.updateProfile({ userId, displayName: "Early" });
    expect(instance.events.state()).toBe("connecting");
    expect((await outboxBacklog(db.db)).pending).toBe(1);
    await nats.start();
    await until(async () => (await outboxBacklog(db.db)).pending === 0, 30_000);

    expect((await storedEventsOf(nats.url, userId)).map((e) => e.subject)).toEqual([
      `profile.created.${userId}`,
    ]);
  });
});

describe("a broker without JetStream at first", () => {
  it("keeps trying to set up the streams, and publishes once JetStream is there", async () => {
    const nats = await startNatsServer({ jetstream: false });
    cleanups.push(() => nats.dispose());
    const db = await database();
    const instance = await instanceOn(db, nats.url);
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Patient" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(instance.events.state()).toBe("connecting");

    await nats.stop();
    await nats.start({ jetstream: true });
    await until(() => instance.events.state() === "connected", 30_000);
    await until(async () => (await outboxBacklog(db.db)).pending === 0, 30_000);

    expect((await storedEventsOf(nats.url, userId)).map((e) => e.subject)).toEqual([
      `profile.created.${userId}`,
    ]);
  });
});

describe("the database goes away", () => {
  it("redelivers a registration that arrived while the database was down, and provisions it after", async () => {
    const nats = await privateBroker();
    const db = await database();
    const { proxy, handle: throughProxy } = await openThroughProxy(db.config);
    cleanups.push(() => proxy.stop());
    cleanups.push(() => throughProxy.close());
    const instance = await instanceOn({ handle: throughProxy }, nats.url);
    await until(() => instance.events.state() === "connected");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const userId = crypto.randomUUID();

    await proxy.stop();
    await publishToStream(nc, "auth.user.registered", registration(userId));
    await until(async () => (await instance.consumed("retried")) >= 1);
    await proxy.start();
    await until(async () => (await instance.consumed("provisioned")) === 1, 30_000);

    const row = await db.db
      .selectFrom("profiles")
      .select("display_name")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    expect(row?.display_name).toBe("new");
  });
});

describe("two instances on one database and one broker", () => {
  it("handle each registration once and publish each outbox row once, with updates racing", async () => {
    const nats = await privateBroker();
    const db = await database();
    const first = await instanceOn(db, nats.url);
    await until(() => first.events.state() === "connected");
    const secondDb = await openDatabase(db.config, {
      statementTimeoutMs: 5000,
      logger: silentLogger,
    });
    cleanups.push(() => secondDb.close());
    const second = await instanceOn({ handle: secondDb }, nats.url);
    await until(() => second.events.state() === "connected");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const userIds = Array.from({ length: 100 }, () => crypto.randomUUID());

    for (const userId of userIds)
      await publishToStream(nc, "auth.user.registered", registration(userId));
    await Promise.all(
      userIds.map((userId, n) =>
        grpcClient((n % 2 === 0 ? first : second).server.baseUrl).updateProfile({
          userId,
          bio: `bio ${n}`,
        }),
      ),
    );
    /** Summed over both instances. */
    const total = async (count: (instance: TestInstance) => Promise<number>) =>
      (await count(first)) + (await count(second));
    const handled = () =>
      total(async (i) => (await i.consumed("provisioned")) + (await i.consumed("already_present")));
    await until(async () => (await handled()) === 100, 30_000);
    await until(async () => (await outboxBacklog(db.db)).pending === 0, 30_000);

    expect(
      await total(async (i) => (await i.consumed("retried")) + (await i.consumed("terminated"))),
    ).toBe(0);
    expect(await total((i) => i.published("duplicate"))).toBe(0);
    // Each user got a registration and an update, racing: whichever came first created the
    // profile, so every user has exactly one ProfileCreated, and an update only if it came second.
    const outboxRows = await db.db.selectFrom("outbox").select(["event_type"]).execute();
    const created = outboxRows.filter((row) => row.event_type === "created");
    expect(created).toHaveLength(100);
    const stream = await (await jetstreamManager(nc)).streams.info("PROFILE");
    expect(stream.state.messages).toBe(outboxRows.length);
  });
});

describe("EVENTS_ENCODING=json", () => {
  it("publishes proto3 JSON with Content-Type application/json", async () => {
    const nats = await privateBroker();
    const db = await database();
    const instance = await instanceOn(db, nats.url, { encoding: "json" });
    await until(() => instance.events.state() === "connected");
    const userId = crypto.randomUUID();

    await instance.client.updateProfile({ userId, displayName: "Jason" });
    await until(async () => (await outboxBacklog(db.db)).pending === 0);

    const [created] = await storedEventsOf(nats.url, userId);
    expect(created?.contentType).toBe("application/json");
    expect(profileOf(created)?.displayName).toBe("Jason");
  });
});

describe.each(["postgres", "pglite"] as const)("woken by notifications on %s", (kind) => {
  it("provisions from a registration and announces updates without waiting for a poll", async () => {
    const nats = await privateBroker();
    const db = await database(kind);
    // A poll far longer than the test: only LISTEN/NOTIFY can wake the relay in time.
    const instance = await instanceOn(db, nats.url, { outboxPollIntervalMs: 600_000 });
    await until(() => instance.events.state() === "connected");
    const nc = await connect({ servers: nats.url });
    cleanups.push(() => nc.close());
    const userId = crypto.randomUUID();

    await publishToStream(nc, "auth.user.registered", registration(userId));
    await until(async () => (await instance.consumed("provisioned")) === 1);
    await instance.client.updateProfile({ userId, bio: "embedded" });
    await until(async () => (await storedEventsOf(nats.url, userId)).length === 2);

    const events = await storedEventsOf(nats.url, userId);
    expect(events.map((e) => e.subject)).toEqual([
      `profile.created.${userId}`,
      `profile.updated.${userId}`,
    ]);
    expect(profileOf(events[1])?.bio).toBe("embedded");
  });
});
