// The read cache's coherence with the broker up (docs/cache.md): an instance serves its
// own writes at once, the writes of other instances as their events arrive, never an older
// version than one it served, and a slow database read cannot put an older row back.
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Profile, ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./support/auth.js";
import { codeOf, transportsFor } from "./support/clients.js";
import { createTestDatabase, openThroughProxy, type TestDatabase } from "./support/databases.js";
import { testNatsUrl } from "./support/environment.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import { until } from "./support/nats.js";
import {
  cacheMetric,
  changeUnannounced,
  holdBackEventsOf,
  insertUnannounced,
  storedRow,
  untilServing,
  urlOf,
} from "./support/profile-cache.js";

let database: TestDatabase;
let databaseUrl: string;
let a: TestInstance;
let b: TestInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  databaseUrl = urlOf(database.config);
  a = await startInstance(database, { natsUrl: testNatsUrl });
  b = await startInstance(database, { natsUrl: testNatsUrl });
  await untilServing(a.server.service.metrics, 1);
  await untilServing(b.server.service.metrics, 1);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

const hits = (instance: TestInstance) =>
  cacheMetric(instance.server.service.metrics, "profile_cache_hits_total");

/** The version an answer's etag names ("v12" → 12). */
const versionOf = (profile: Pick<Profile, "etag">) => Number(profile.etag.slice(1));

describe("read-your-writes", () => {
  it("after UpdateProfile answers, the instance serves the new version over every protocol, from the cache", async () => {
    const userId = crypto.randomUUID();
    // No event of this user reaches any instance: what A serves, it learned from its own writes.
    await holdBackEventsOf(databaseUrl, userId);
    await a.client.updateProfile({ userId, displayName: "Ada", bio: "first" });
    const written = await a.client.updateProfile({ userId, bio: "second" });
    expect(written.etag).toBe("v2");
    // The row changes behind A's back: only an answer from the cache still says "second".
    await changeUnannounced(databaseUrl, userId, "changed by SQL");
    expect(await storedRow(databaseUrl, userId)).toEqual({ bio: "changed by SQL", version: 3 });
    const before = await hits(a);

    const answers: Array<[string, Profile | undefined]> = [];
    for (const [name, transport] of Object.entries(transportsFor(a.server.baseUrl))) {
      const client = createClient(ProfileApi, transport);
      answers.push([`${name} GetProfile`, await client.getProfile({ userId })]);
      const batch = await client.batchGetProfiles({ userIds: [userId.toUpperCase()] });
      answers.push([`${name} BatchGetProfiles`, batch.profiles[0]]);
    }
    const message = encodeURIComponent(JSON.stringify({ userId }));
    const viaGet = await fetch(
      `${a.server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile?encoding=json&message=${message}`,
      { headers: { authorization: `Bearer ${adminToken}` } },
    );
    expect(viaGet.status).toBe(200);
    const getAnswer = (await viaGet.json()) as { bio: string; etag: string };

    for (const [call, answer] of answers) {
      expect({ call, answer }).toEqual({ call, answer: written });
    }
    expect(getAnswer).toMatchObject({ bio: "second", etag: "v2" });
    expect(await hits(a)).toBe(before + answers.length + 1);
  });
});

describe("UpdateProfile and a cached copy", () => {
  it("checks the etag against the database, not against a cached copy a newer version superseded", async () => {
    const userId = crypto.randomUUID();
    await holdBackEventsOf(databaseUrl, userId);
    const first = await a.client.updateProfile({ userId, displayName: "Etag", bio: "cached" });
    // Version 2 lands in the database unannounced: A's cache still holds version 1.
    await changeUnannounced(databaseUrl, userId, "changed by SQL");
    expect((await a.client.getProfile({ userId })).etag).toBe(first.etag);

    const stale = a.client.updateProfile({ userId, bio: "cached", etag: first.etag });
    expect(await codeOf(stale)).toBe("Aborted");
  });
});

describe("two instances on one database and one broker", () => {
  it("an update on A becomes visible on B, which had the older version cached", async () => {
    const userId = crypto.randomUUID();
    await a.client.updateProfile({ userId, displayName: "Grace", bio: "v1" });
    await until(
      async () => (await b.client.getProfile({ userId }).catch(() => undefined))?.bio === "v1",
    );
    const hitsBefore = await hits(b);

    const updated = await a.client.updateProfile({ userId, bio: "v2" });

    await until(async () => (await b.client.getProfile({ userId })).bio === "v2");
    expect(await b.client.getProfile({ userId })).toEqual(updated);
    // B answered from its cache throughout: the new version came by the event.
    expect(await hits(b)).toBeGreaterThan(hitsBefore);
  });

  it("a deletion on A evicts the profile on A at once and on B by its event", async () => {
    const userId = crypto.randomUUID();
    await a.client.updateProfile({ userId, displayName: "Leaving" });
    await until(async () => (await b.client.getProfile({ userId })).displayName === "Leaving");
    const hitsBefore = await hits(b);
    await b.client.getProfile({ userId });
    expect(await hits(b)).toBe(hitsBefore + 1);

    const deleted = await a.client.deleteProfile({ userId });
    expect(deleted.deleted).toBe(true);
    expect(await codeOf(a.client.getProfile({ userId }))).toBe("NotFound");
    await until(async () => (await codeOf(b.client.getProfile({ userId }))) === "NotFound");
    const batch = await b.client.batchGetProfiles({ userIds: [userId] });
    expect(batch.missingUserIds).toEqual([userId]);
  });

  it("1,000 concurrent updates on A: readers on A and B never go back in version, and all converge to the database's row", async () => {
    const userId = crypto.randomUUID();
    await a.client.updateProfile({ userId, displayName: "Hammering", bio: "start" });
    const updates = 1000;
    const concurrency = 20;
    let next = 0;
    let writing = true;

    const writer = async () => {
      while (next < updates) {
        const index = next++;
        await a.client.updateProfile({ userId, bio: `update ${index}` });
      }
    };
    /** Reads until the writers are done; returns every version seen, in order. */
    const reader = async (read: () => Promise<Profile | undefined>) => {
      const seen: number[] = [];
      // Bounded: stops with the writers, or after 20,000 reads whatever happens.
      for (let round = 0; writing && round < 20_000; round += 1) {
        const profile = await read();
        if (profile === undefined) throw new Error("a reader lost the profile");
        seen.push(versionOf(profile));
      }
      return seen;
    };
    const readers = [
      reader(() => b.client.getProfile({ userId })),
      reader(async () => (await b.client.batchGetProfiles({ userIds: [userId] })).profiles[0]),
      reader(() => a.client.getProfile({ userId })),
    ];
    await Promise.all(Array.from({ length: concurrency }, writer));
    writing = false;
    const seenByReaders = await Promise.all(readers);

    for (const seen of seenByReaders) {
      expect(seen.length).toBeGreaterThan(0);
      const wentBack = seen.findIndex((version, i) => i > 0 && version < (seen[i - 1] ?? 0));
      const around = wentBack === -1 ? [] : seen.slice(Math.max(0, wentBack - 2), wentBack + 2);
      expect({ wentBack, around }).toEqual({ wentBack: -1, around: [] });
    }
    const row = await storedRow(databaseUrl, userId);
    expect(row.version).toBe(updates + 1);
    const converged = async (instance: TestInstance) => {
      const profile = await instance.client.getProfile({ userId });
      return profile.bio === row.bio && versionOf(profile) === row.version;
    };
    await until(async () => (await converged(a)) && (await converged(b)), 20_000);
    expect(await a.client.getProfile({ userId })).toEqual(await b.client.getProfile({ userId }));
  }, 90_000);
});

describe("a database read racing a newer event", () => {
  it("the older row the read found is never installed: later reads serve the newer version", async () => {
    // C reads through a proxy that holds the database's answers while the test says so.
    // A pool wide enough that readiness checks piling up behind held answers leave room.
    const { proxy, handle } = await openThroughProxy(database.config, 32);
    // Its relay stays idle, so a held answer cannot hold back an event.
    const c = await startInstance(
      { handle },
      { natsUrl: testNatsUrl, outboxPollIntervalMs: 600_000 },
    );
    try {
      await untilServing(c.server.service.metrics, 1);
      const userId = crypto.randomUUID();
      // Version 1 exists only in the database: C can learn of it only by reading.
      await insertUnannounced(databaseUrl, [userId], "old");
      // The feed's listeners hear a change in order: once this one has, so has C's cache.
      const versionsHeard: number[] = [];
      c.server.service.profileFeed.subscribe({
        changed: (profile) => {
          if (profile.userId === userId) versionsHeard.push(profile.version);
        },
        removed: () => {},
        lost: () => {},
        resumed: () => {},
      });

      const held = proxy.holdAnswers();
      let readOne: Promise<Profile> | undefined;
      let readMany: Promise<Profile | undefined> | undefined;
      try {
        // Reads asked in one event-loop turn share one statement (the lean path's coalescing):
        // the second starts once the first one's row is held, so each is a query of its own.
        // The second read may need a connection the pool opens meanwhile (a readiness check can
        // have taken the idle one): the proxy lets its start-up through, and holds its answer.
        const rowsHeld = () => held.bytes().toString("latin1").split(userId).length - 1;
        const failed: string[] = [];
        /** Until `count` rows are held; fails at once when a read failed, or after 30 s. */
        const untilRowsHeld = async (count: number) => {
          await until(() => rowsHeld() >= count || failed.length > 0, 30_000).catch(() => {});
          if (rowsHeld() < count || failed.length > 0) {
            const why = [`the reads' rows did not arrive: ${rowsHeld()} of ${count}`, ...failed];
            throw new Error(why.join("; "));
          }
        };
        readOne = c.client.getProfile({ userId });
        readOne.catch((error: unknown) => failed.push(`GetProfile failed: ${error}`));
        await untilRowsHeld(1);
        readMany = c.client
          .batchGetProfiles({ userIds: [userId] })
          .then((answer) => answer.profiles[0]);
        readMany.catch((error: unknown) => failed.push(`BatchGetProfiles failed: ${error}`));
        // Both queries have run in PostgreSQL (their rows are here, held): they saw version 1.
        await untilRowsHeld(2);

        const newer = await a.client.updateProfile({ userId, bio: "new" });
        expect(newer.etag).toBe("v2");
        // The event has reached C's cache while both reads wait for their answers.
        await until(() => versionsHeard.includes(2), 30_000).catch(() => {
          throw new Error(`C did not hear version 2: heard ${versionsHeard}`);
        });
      } finally {
        held.release();
      }
      expect((await readOne)?.bio).toBe("old");
      expect((await readMany)?.bio).toBe("old");

      const hitsBefore = await hits(c);
      expect(await c.client.getProfile({ userId })).toMatchObject({ bio: "new", etag: "v2" });
      const batch = await c.client.batchGetProfiles({ userIds: [userId] });
      expect(batch.profiles[0]).toMatchObject({ bio: "new", etag: "v2" });
      expect(await hits(c)).toBe(hitsBefore + 2);
    } finally {
      await c.stop();
      await handle.close();
      await proxy.stop();
    }
  }, 90_000);
});
