// Issue 10, items 10 and 4: per-caller quotas on profiles read, and the cap on unauthenticated
// health Watch streams.
import { randomUUID } from "node:crypto";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { Health } from "../gen/health/v1/health_pb.js";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import type { QuotaConfig } from "../src/config/config.js";
import { loadConfig } from "../src/config/load-config.js";
import { createQuotaBuckets } from "../src/transport/interceptors/quota-buckets.js";
import { tokenFor } from "./support/auth.js";
import { codeOf, errorOf, transportsFor } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { until } from "./support/nats.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

describe("quota configuration", () => {
  it("defaults to what a chat client never meets and a scraper does", () => {
    const config = loadConfig({});

    expect(config.quotas).toEqual({
      user: { perSecond: 2000, burst: 20_000 },
      service: { perSecond: 0, burst: 500_000 },
      updateCost: 100,
      searchCost: 100,
      handleLookupCost: 20,
    });
    expect(config.healthWatchMaxStreams).toBe(1000);
  });

  it("reads every variable, 0 turning a rate off, and names a bad one", () => {
    const config = loadConfig({
      QUOTA_USER_PROFILES_PER_SECOND: "0",
      QUOTA_USER_PROFILES_BURST: "7",
      QUOTA_SERVICE_PROFILES_PER_SECOND: "3",
      QUOTA_SERVICE_PROFILES_BURST: "9",
      QUOTA_UPDATE_COST: "2",
      HEALTH_WATCH_MAX_STREAMS: "5",
    });
    expect(config.quotas).toEqual({
      user: { perSecond: 0, burst: 7 },
      service: { perSecond: 3, burst: 9 },
      updateCost: 2,
      searchCost: 100,
      handleLookupCost: 20,
    });
    expect(config.healthWatchMaxStreams).toBe(5);

    expect(() => loadConfig({ QUOTA_USER_PROFILES_BURST: "0" })).toThrow(
      /QUOTA_USER_PROFILES_BURST/,
    );
    expect(() => loadConfig({ QUOTA_SERVICE_PROFILES_PER_SECOND: "-1" })).toThrow(
      /QUOTA_SERVICE_PROFILES_PER_SECOND/,
    );
    expect(() => loadConfig({ HEALTH_WATCH_MAX_STREAMS: "many" })).toThrow(
      /HEALTH_WATCH_MAX_STREAMS/,
    );
  });
});

describe("a token bucket per key", () => {
  const clock = () => {
    let nowMs = 0;
    return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
  };

  it("grants up to the burst, then says how long until the cost is back", () => {
    const { now } = clock();
    const buckets = createQuotaBuckets({ perSecond: 10, burst: 50 }, { maxKeys: 10, now });

    expect(buckets.take("a", 30)).toBe(0);
    expect(buckets.take("a", 20)).toBe(0);
    expect(buckets.take("a", 1)).toBe(100);
    expect(buckets.take("a", 5)).toBe(500);
    expect(buckets.take("b", 50)).toBe(0);
  });

  it("refills at the rate, never above the burst, and takes nothing from a refused call", () => {
    const { now, advance } = clock();
    const buckets = createQuotaBuckets({ perSecond: 10, burst: 50 }, { maxKeys: 10, now });

    expect(buckets.take("a", 50)).toBe(0);
    advance(250);
    expect(buckets.take("a", 5)).toBe(250);
    expect(buckets.take("a", 2)).toBe(0);
    advance(60_000);
    expect(buckets.take("a", 51)).toBe(Number.POSITIVE_INFINITY);
    expect(buckets.take("a", 50)).toBe(0);
    expect(buckets.take("a", 1)).toBe(100);
  });

  it("grants everything when the rate is 0", () => {
    const buckets = createQuotaBuckets({ perSecond: 0, burst: 1 }, { maxKeys: 1 });

    expect(buckets.take("a", 1_000_000)).toBe(0);
  });

  it("keeps at most maxKeys buckets: the least recently used is forgotten, as if full", () => {
    const { now } = clock();
    const buckets = createQuotaBuckets({ perSecond: 1, burst: 10 }, { maxKeys: 2, now });

    expect(buckets.take("a", 10)).toBe(0);
    expect(buckets.take("b", 10)).toBe(0);
    expect(buckets.take("c", 10)).toBe(0);

    expect(buckets.take("b", 1)).toBe(1000);
    expect(buckets.take("a", 10)).toBe(0);
  });
});

/** Small bursts, spent in a few calls, and a slow refill, so that no test races it. */
const quotas: QuotaConfig = {
  user: { perSecond: 1, burst: 50 },
  service: { perSecond: 1, burst: 200 },
  updateCost: 10,
  searchCost: 40,
  handleLookupCost: 8,
};

const ids = (count: number) => Array.from({ length: count }, () => randomUUID());

let database: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer(database.db, { quotas, healthWatchMaxStreams: 3 });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

async function clientFor(
  transportName: string,
  subject: string,
  scopes: string[] = [],
  baseUrl = server.baseUrl,
) {
  const token = await tokenFor(subject, { scopes });
  const transport: Transport | undefined = transportsFor(baseUrl, token)[transportName];
  if (transport === undefined) throw new Error(`no transport ${transportName}`);
  return createClient(ProfileApi, transport);
}

/** The delay of the error's google.rpc.RetryInfo, decoded with the generated schema. */
function retryDelayMs(error: ConnectError): number {
  const [retryInfo] = error.findDetails(RetryInfoSchema);
  if (retryInfo?.retryDelay === undefined) throw new Error("no RetryInfo in the error details");
  return durationMs(retryInfo.retryDelay);
}

describe.each(["gRPC over h2c", "Connect JSON over HTTP/1.1"])("quotas over %s", (transport) => {
  it("refuses a user past the burst with RESOURCE_EXHAUSTED and RetryInfo; others are unaffected", async () => {
    const scraper = await clientFor(transport, randomUUID());
    const neighbour = await clientFor(transport, randomUUID());

    // A batch costs one per id sent, duplicates included: 40 + 10 spends the burst of 50.
    const [one] = ids(1);
    await scraper.batchGetProfiles({ userIds: [...ids(30), ...Array(10).fill(one)] });
    await scraper.batchGetProfiles({ userIds: ids(10) });
    const refused = await errorOf(scraper.getProfile({ userId: randomUUID() }));

    expect(Code[refused.code]).toBe("ResourceExhausted");
    const delayMs = retryDelayMs(refused);
    // One token at 1 per second is back within a second (less, since time passed).
    expect(delayMs).toBeGreaterThan(0);
    expect(delayMs).toBeLessThanOrEqual(1000);

    expect(await codeOf(neighbour.batchGetProfiles({ userIds: ids(50) }))).toBe("OK");
  });

  it("grants the caller again after the RetryInfo delay", async () => {
    const fast = await startTestServer(database.db, {
      quotas: { ...quotas, user: { perSecond: 20, burst: 50 } },
    });
    try {
      const reader = await clientFor(transport, randomUUID(), [], fast.baseUrl);
      await reader.batchGetProfiles({ userIds: ids(50) });
      const refused = await errorOf(reader.batchGetProfiles({ userIds: ids(5) }));
      const delayMs = retryDelayMs(refused);
      // 5 tokens at 20 per second: at most 250 ms.
      expect(delayMs).toBeGreaterThan(0);
      expect(delayMs).toBeLessThanOrEqual(250);

      await new Promise((resolve) => setTimeout(resolve, delayMs));

      expect(await codeOf(reader.batchGetProfiles({ userIds: ids(5) }))).toBe("OK");
    } finally {
      await fast.close();
    }
  });

  it("charges UpdateProfile its configured cost", async () => {
    const userId = randomUUID();
    const writer = await clientFor(transport, userId);
    await writer.batchGetProfiles({ userIds: ids(35) });
    await writer.updateProfile({ userId, displayName: "Ada" });

    // 5 left; an update costs 10.
    expect(await codeOf(writer.updateProfile({ userId, displayName: "Ada again" }))).toBe(
      "ResourceExhausted",
    );
    expect(await codeOf(writer.getProfile({ userId }))).toBe("OK");
  });

  it("charges SearchProfiles its configured cost, whatever the page size", async () => {
    const searcher = await clientFor(transport, randomUUID());
    expect(await codeOf(searcher.searchProfiles({ query: "ada", pageSize: 1 }))).toBe("OK");

    // 10 left; a search costs 40.
    expect(await codeOf(searcher.searchProfiles({ query: "ada", pageSize: 1 }))).toBe(
      "ResourceExhausted",
    );
    expect(await codeOf(searcher.batchGetProfiles({ userIds: ids(10) }))).toBe("OK");
  });

  it("refuses a batch larger than the burst outright, with no RetryInfo", async () => {
    const reader = await clientFor(transport, randomUUID());
    const refused = await errorOf(reader.batchGetProfiles({ userIds: ids(51) }));

    expect(Code[refused.code]).toBe("ResourceExhausted");
    expect(refused.findDetails(RetryInfoSchema)).toEqual([]);
    expect(await codeOf(reader.batchGetProfiles({ userIds: ids(50) }))).toBe("OK");
  });

  it("gives service tokens their own limits", async () => {
    const service = await clientFor(transport, `chat-backend-${randomUUID()}`, ["profile:read"]);

    // Past the user burst of 50, within the service burst of 200.
    await service.batchGetProfiles({ userIds: ids(150) });
    await service.batchGetProfiles({ userIds: ids(50) });

    expect(await codeOf(service.getProfile({ userId: randomUUID() }))).toBe("ResourceExhausted");
  });
});

describe("the throttle metric", () => {
  it("counts refused calls by procedure and kind of caller, never by user", async () => {
    const subject = randomUUID();
    const reader = await clientFor("gRPC over h2c", subject);
    await reader.batchGetProfiles({ userIds: ids(50) });
    await codeOf(reader.batchGetProfiles({ userIds: ids(50) }));
    await codeOf(reader.batchGetProfiles({ userIds: ids(50) }));

    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const line = text
      .split("\n")
      .find((row) =>
        row.startsWith(
          'profile_rate_limited_total{procedure="realchat.profile.v1.ProfileApi/BatchGetProfiles",caller_kind="user"}',
        ),
      );

    expect(Number(line?.split(" ")[1])).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(subject);
  });
});

describe("the default quotas", () => {
  it("stop a user token reading like a scraper soon after its burst of 20,000", async () => {
    const defaults = await startTestServer(database.db);
    try {
      const scraper = await clientFor("gRPC over h2c", randomUUID(), [], defaults.baseUrl);
      const started = performance.now();
      const codes: string[] = [];
      // Waves of 10 batches of 1000 at once, so that a slow machine cannot refill the bucket
      // between calls as fast as they spend it.
      for (let wave = 0; wave < 10 && !codes.includes("ResourceExhausted"); wave++) {
        const batches = Array.from({ length: 10 }, () =>
          codeOf(scraper.batchGetProfiles({ userIds: ids(1000) })),
        );
        codes.push(...(await Promise.all(batches)));
      }
      const seconds = (performance.now() - started) / 1000;
      const granted = codes.filter((code) => code === "OK").length * 1000;

      expect(codes).toContain("ResourceExhausted");
      // The burst first (what a chat client never reaches), then no more than the refill.
      expect(granted).toBeGreaterThanOrEqual(20_000);
      expect(granted).toBeLessThanOrEqual(20_000 + 2000 * seconds + 1000);
    } finally {
      await defaults.close();
    }
  });
});

describe("grpc.health.v1.Health/Watch cap", () => {
  const health = () => createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));

  /** Opens a Watch and waits for its first message; the stream stays open until aborted. */
  async function openWatch(abort: AbortController): Promise<string> {
    const stream = health().watch({ service: "" }, { signal: abort.signal });
    return codeOf(stream[Symbol.asyncIterator]().next());
  }

  it("refuses stream N+1 with RESOURCE_EXHAUSTED and frees a slot when a stream closes", async () => {
    const open = [new AbortController(), new AbortController(), new AbortController()];
    try {
      for (const abort of open) expect(await openWatch(abort)).toBe("OK");

      const extra = new AbortController();
      expect(await openWatch(extra)).toBe("ResourceExhausted");
      // Check, which holds nothing open, still answers.
      expect(await codeOf(health().check({ service: "" }))).toBe("OK");

      open[0]?.abort();
      const again = new AbortController();
      open.push(again);
      await until(async () => (await openWatch(again)) === "OK", 5000);
    } finally {
      for (const abort of open) abort.abort();
    }
  });
});
