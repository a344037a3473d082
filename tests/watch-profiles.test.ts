// WatchProfiles (docs/transport.md "Live profiles") against real instances on PostgreSQL and NATS:
// the snapshot then changes in version order over every transport, changes from another instance,
// no duplicate shown twice, a client that does not read while 10,000 updates happen, the limits,
// feed loss, deadline and shutdown.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { connect, headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import {
  ProfileApi,
  type WatchProfilesResponse,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { ProfileUpdatedSchema } from "../gen/realchat/profile/v1/profile_events_pb.js";
import { loadConfig } from "../src/config/load-config.js";
import { tokenFor } from "./support/auth.js";
import { errorOf, grpcClient, type ProfileClient, transportsFor } from "./support/clients.js";
import { useTestDatabase } from "./support/databases.js";
import { metricValue } from "./support/metrics.js";
import { type PrivateNats, startNatsServer, storedEventsOf, until } from "./support/nats.js";
import { useScratch } from "./support/scratch.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/** What a test compares of a message: whose, which version, snapshot or not, what state. */
function summary(message: WatchProfilesResponse) {
  return {
    userId: message.userId,
    version: Number(message.version),
    snapshot: message.snapshot,
    state: message.state.case,
  };
}

/** An open WatchProfiles stream, read one message at a time. */
function openWatch(client: ProfileClient, userIds: string[], timeoutMs?: number) {
  const controller = new AbortController();
  const messages = client
    .watchProfiles({ userIds }, { signal: controller.signal, timeoutMs })
    [Symbol.asyncIterator]();
  const next = async () => {
    const result = await messages.next();
    if (result.done === true) throw new Error("the stream ended");
    return summary(result.value);
  };
  return {
    next,
    async take(count: number) {
      const taken: ReturnType<typeof summary>[] = [];
      for (let i = 0; i < count; i++) taken.push(await next());
      return taken;
    },
    /** Reads until the stream ends: its error, or "OK". */
    async end(): Promise<ConnectError | "OK"> {
      try {
        while ((await messages.next()).done !== true);
        return "OK";
      } catch (error) {
        return ConnectError.from(error);
      }
    },
    close: () => controller.abort(),
  };
}

/** An instance with events on the file's broker (or `natsUrl`), once its feed is live. */
async function liveInstance(
  database: Parameters<typeof startTestServer>[0],
  config: Parameters<typeof startTestServer>[1] = {},
  natsUrl = broker.url,
): Promise<TestServer> {
  const server = await startTestServer(database, config, {
    events: { natsUrl, createStreams: true, outboxPollIntervalMs: 250 },
  });
  await until(() => server.service.profileFeed.live(), 20_000);
  return server;
}

const fixture = useTestDatabase();
// A broker of the file's own: its instances consume registrations, which must not take them from
// the instances of tests/events.test.ts running at the same time on the suite's broker.
let broker: PrivateNats;
let server: TestServer;
let other: TestServer;
beforeAll(async () => {
  broker = await startNatsServer();
  [server, other] = await Promise.all([
    liveInstance(fixture.database.handle),
    liveInstance(fixture.database.handle),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.close(), other?.close()]);
  await broker?.dispose();
});

async function created(displayName = "Watched"): Promise<string> {
  const userId = crypto.randomUUID();
  await grpcClient(server.baseUrl).updateProfile({ userId, displayName });
  return userId;
}

describe.each(Object.keys(transportsFor("http://unused")))("WatchProfiles over %s", (name) => {
  const client = () => {
    const transport: Transport | undefined = transportsFor(server.baseUrl)[name];
    if (transport === undefined) throw new Error(`no transport ${name}`);
    return createClient(ProfileApi, transport);
  };

  it("sends the snapshot (profile or missing), then each change in version order", async () => {
    const [present, absent] = [await created(), crypto.randomUUID()];
    const watch = openWatch(client(), [present, absent.toUpperCase(), present]);

    expect(await watch.take(2)).toEqual([
      { userId: present, version: 1, snapshot: true, state: "profile" },
      { userId: absent, version: 0, snapshot: true, state: "missing" },
    ]);
    const writer = grpcClient(server.baseUrl);
    for (const [userId, version] of [
      [present, 2],
      [absent, 1],
      [present, 3],
    ] as const) {
      await writer.updateProfile({ userId, bio: `version ${version}`, displayName: "Watched" });
      expect(await watch.next()).toEqual({ userId, version, snapshot: false, state: "profile" });
    }
    watch.close();
  });
});

describe("WatchProfiles across instances", () => {
  it("delivers a change made on another instance", async () => {
    const userId = await created();
    const watch = openWatch(grpcClient(server.baseUrl), [userId]);
    await watch.take(1);

    await grpcClient(other.baseUrl).updateProfile({ userId, bio: "from the other instance" });

    expect(await watch.next()).toEqual({ userId, version: 2, snapshot: false, state: "profile" });
    watch.close();
  });

  it("never shows a duplicate or a redelivered older version", async () => {
    const userId = await created();
    const watch = openWatch(grpcClient(server.baseUrl), [userId]);
    await watch.take(1);
    const writer = grpcClient(server.baseUrl);
    // Each own write reaches the feed twice: after its commit, and as the broker's event.
    await writer.updateProfile({ userId, bio: "two" });
    await writer.updateProfile({ userId, bio: "three" });
    expect(await watch.take(2)).toEqual([
      { userId, version: 2, snapshot: false, state: "profile" },
      { userId, version: 3, snapshot: false, state: "profile" },
    ]);

    // A redelivery of version 2, as a broker or a stalled relay may send it, then version 4.
    await until(async () => (await storedEventsOf(broker.url, userId)).length >= 3);
    const versionTwo = (await storedEventsOf(broker.url, userId)).find(
      (stored) => Number(stored.event.version) === 2,
    );
    if (versionTwo?.event.$typeName !== "realchat.profile.v1.ProfileUpdated") {
      throw new Error("version 2 is not in the stream");
    }
    const nc = await connect({ servers: broker.url });
    const h = headers();
    h.set("Realchat-Event-Type", versionTwo.type);
    h.set("Content-Type", "application/protobuf");
    nc.publish(versionTwo.subject, toBinary(ProfileUpdatedSchema, versionTwo.event), {
      headers: h,
    });
    await nc.flush();
    await nc.close();
    await writer.updateProfile({ userId, bio: "four" });

    expect(await watch.next()).toEqual({ userId, version: 4, snapshot: false, state: "profile" });
    watch.close();
  });
});

describe("a client that does not read", () => {
  it("holds one pending version per user on the server while 10,000 updates happen; the newest arrives", async () => {
    const userId = await created();
    const slow = openWatch(grpcClient(server.baseUrl), [userId]);
    const fast = openWatch(grpcClient(server.baseUrl), [userId]);
    try {
      await Promise.all([slow.take(1), fast.take(1)]);
      const coalescedBefore = await metricValue(
        server.service.metrics,
        "profile_watch_coalesced_total",
      );

      await publishUpdates(userId, 2, 10_001);
      let newest = 0;
      while (newest < 10_001) newest = (await fast.next()).version;

      const received: number[] = [];
      while (received.at(-1) !== 10_001) received.push((await slow.next()).version);
      // Versions only grow, and most of them were coalesced away instead of queued.
      expect(received).toEqual([...received].sort((a, b) => a - b));
      expect(new Set(received).size).toBe(received.length);
      expect(received.length).toBeLessThan(2000);
      const coalesced =
        (await metricValue(server.service.metrics, "profile_watch_coalesced_total")) -
        coalescedBefore;
      expect(coalesced).toBeGreaterThan(8000);
    } finally {
      slow.close();
      fast.close();
    }
  }, 120_000);
});

/**
 * Versions `from` to `to` of a user's profile as ProfileUpdated events on the broker, as the
 * relays of other instances publish them (a relay would take minutes for 10,000 versions of one
 * user: it publishes a user's events one at a time, each acknowledged).
 */
async function publishUpdates(userId: string, from: number, to: number): Promise<void> {
  const nc = await connect({ servers: broker.url });
  const h = headers();
  h.set("Realchat-Event-Type", ProfileUpdatedSchema.typeName);
  h.set("Content-Type", "application/protobuf");
  const profile = await grpcClient(server.baseUrl).getProfile({ userId });
  for (let version = from; version <= to; version++) {
    const event = create(ProfileUpdatedSchema, {
      eventId: crypto.randomUUID(),
      profile: { ...profile, bio: `update ${version}`, etag: `v${version}` },
      changedFields: ["bio"],
      version: BigInt(version),
    });
    nc.publish(`profile.updated.${userId}`, toBinary(ProfileUpdatedSchema, event), { headers: h });
    if (version % 1000 === 0) await nc.flush();
  }
  await nc.flush();
  await nc.close();
}

describe("WatchProfiles refusals", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await liveInstance(fixture.database.handle, {
      watch: { maxIdsPerWatch: 3, maxWatchesPerCaller: 2, maxWatchers: 3 },
      // A user may read 5 profiles at once, then 1 per second.
      quotas: { ...loadConfig({}).quotas, user: { perSecond: 1, burst: 5 } },
    });
  }, 60_000);
  afterAll(() => limited?.close());

  const clientOf = async (subject: string) =>
    createClient(
      ProfileApi,
      transportsFor(limited.baseUrl, await tokenFor(subject))["gRPC over h2c"] as Transport,
    );
  const firstMessage = (client: ProfileClient, userIds: string[]) =>
    openWatch(client, userIds).next();

  it("refuses more ids than WATCH_MAX_IDS", async () => {
    const client = await clientOf(crypto.randomUUID());
    const ids = Array.from({ length: 4 }, () => crypto.randomUUID());

    expect((await errorOf(firstMessage(client, ids))).code).toBe(Code.ResourceExhausted);
  });

  it("refuses a caller's watch past WATCH_MAX_PER_CALLER, and the instance's past WATCH_MAX_STREAMS", async () => {
    const [one, two] = [await clientOf(crypto.randomUUID()), await clientOf(crypto.randomUUID())];
    const open = [openWatch(one, [crypto.randomUUID()]), openWatch(one, [crypto.randomUUID()])];
    await Promise.all(open.map((watch) => watch.next()));

    expect((await errorOf(firstMessage(one, [crypto.randomUUID()]))).code).toBe(
      Code.ResourceExhausted,
    );
    const third = openWatch(two, [crypto.randomUUID()]);
    await third.next();
    expect((await errorOf(firstMessage(two, [crypto.randomUUID()]))).code).toBe(
      Code.ResourceExhausted,
    );
    for (const watch of [...open, third]) watch.close();
    await until(
      async () => (await metricValue(limited.service.metrics, "profile_watchers_open")) === 0,
    );
  });

  it("charges the snapshot's ids to the caller's quota, like BatchGetProfiles", async () => {
    const client = await clientOf(crypto.randomUUID());
    const ids = () => Array.from({ length: 3 }, () => crypto.randomUUID());
    const first = openWatch(client, ids());
    await first.next();
    first.close();

    const refused = await errorOf(firstMessage(client, ids()));
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.findDetails(RetryInfoSchema)).toHaveLength(1);
  });

  it("refuses malformed ids and callers without a token", async () => {
    const client = await clientOf(crypto.randomUUID());
    const anonymous = createClient(
      ProfileApi,
      transportsFor(limited.baseUrl, null)["gRPC over h2c"] as Transport,
    );

    expect((await errorOf(firstMessage(client, ["not-a-uuid"]))).code).toBe(Code.InvalidArgument);
    expect((await errorOf(firstMessage(anonymous, [crypto.randomUUID()]))).code).toBe(
      Code.Unauthenticated,
    );
  });
});

describe("WatchProfiles endings", () => {
  const scratch = useScratch();

  it("ends its streams with UNAVAILABLE when the feed is lost, and refuses new ones until it is back", async () => {
    const broker = await scratch.privateBroker();
    const instance = await liveInstance(fixture.database.handle, {}, broker.url);
    scratch.cleanups.push(() => instance.close());
    const client = grpcClient(instance.baseUrl);
    const watch = openWatch(client, [crypto.randomUUID()]);
    await watch.next();

    await broker.stop();

    expect((await watch.end()) as ConnectError).toMatchObject({ code: Code.Unavailable });
    expect((await errorOf(openWatch(client, [crypto.randomUUID()]).next())).code).toBe(
      Code.Unavailable,
    );
    await broker.start();
    await until(() => instance.service.profileFeed.live(), 20_000);
    expect(await openWatch(client, [crypto.randomUUID()]).next()).toMatchObject({ snapshot: true });
  }, 60_000);

  it("ends a stream at its deadline with DEADLINE_EXCEEDED, and frees its watcher", async () => {
    const watch = openWatch(grpcClient(server.baseUrl), [crypto.randomUUID()], 1500);
    await watch.next();

    expect((await watch.end()) as ConnectError).toMatchObject({ code: Code.DeadlineExceeded });
    await until(
      async () => (await metricValue(server.service.metrics, "profile_watchers_open")) === 0,
    );
  });

  it("ends open streams with UNAVAILABLE at shutdown, well within the grace period", async () => {
    const instance = await liveInstance(fixture.database.handle);
    scratch.cleanups.push(() => instance.close());
    const watches = Object.values(transportsFor(instance.baseUrl)).map((transport) =>
      openWatch(createClient(ProfileApi, transport), [crypto.randomUUID()]),
    );
    await Promise.all(watches.map((watch) => watch.next()));

    const graceMs = 30_000;
    const started = performance.now();
    const [endings] = await Promise.all([
      Promise.all(watches.map((watch) => watch.end())),
      instance.close(graceMs),
    ]);

    expect(endings.map((ending) => (ending as ConnectError).code)).toEqual(
      watches.map(() => Code.Unavailable),
    );
    // Streams never end by themselves: had shutdown waited for them, it would take the grace.
    expect(performance.now() - started).toBeLessThan(graceMs);
  });
});
