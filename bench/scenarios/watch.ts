// npm run bench:watch: WatchProfiles fan-out. BENCH_WATCHERS (2000) streams of BENCH_WATCH_IDS (10)
// ids over BENCH_CONNECTIONS (4) HTTP/2 connections to one instance (the watcher), while
// BENCH_UPDATE_RATE (200) UpdateProfile calls per second go to a second instance (the writer) for
// BENCH_SECONDS (30): each change travels outbox → NATS → the watcher's feed → its streams.
// Reports the delay from each UpdateProfile's answer to the arrival of that version on each
// stream watching its user (p50, p99), the watcher's RSS and heap per idle watcher, and the CPU
// both instances used during the updates. BENCH_SMOKE=1: 100 watchers for 5 s.
//
// BENCH_SAME_INSTANCE=1 sends the updates to the watcher instance instead (no broker on the path).
// Both instances are production builds (`node dist/main.js`, built first) on a fresh PostgreSQL
// database and the NATS at TEST_NATS_URL.
import os from "node:os";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { testDatabaseUrl, testNatsUrl } from "../../tests/support/environment.js";
import { scrape } from "../../tests/support/metrics.js";
import { freePort } from "../../tests/support/nats.js";
import { adminToken, bearer, benchToken } from "../harness/auth.js";
import { createDatabase } from "../harness/database.js";
import { atFixedRate } from "../harness/load.js";
import { cpuSeconds, processMemory, toMiB } from "../harness/proc.js";
import { build, type RunningService, sleep, startService, waitFor } from "../harness/processes.js";
import { machine, resultsFile, writeResults } from "../harness/results.js";
import { latencySummary } from "../harness/stats.js";

const smoke = process.env.BENCH_SMOKE === "1";
const setting = (name: string, fallback: number, smokeValue = fallback) =>
  Number(process.env[name] ?? (smoke ? smokeValue : fallback));
const settings = {
  watchers: setting("BENCH_WATCHERS", 2000, 100),
  idsPerWatch: setting("BENCH_WATCH_IDS", 10),
  connections: setting("BENCH_CONNECTIONS", 4),
  updatesPerSecond: setting("BENCH_UPDATE_RATE", 200),
  seconds: setting("BENCH_SECONDS", 30, 5),
  /** Users the updates and the watches spread over; each is watched by about 10 streams. */
  users: setting("BENCH_USERS", 2000, 100),
};
const sameInstance = process.env.BENCH_SAME_INSTANCE === "1";

/** Resident set size (bytes) and CPU time used (seconds) of a process, from /proc. */
async function usageOf(pid: number): Promise<{ rss: number; cpuSeconds: number }> {
  return { rss: (await processMemory(pid)).rss, cpuSeconds: await cpuSeconds(pid) };
}

/** The JavaScript heap in use (bytes), from the instance's /metrics. */
async function heapUsed(url: string): Promise<number> {
  return (await scrape(url))("nodejs_heap_size_used_bytes");
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** `count` different items, at random. */
function distinct<T>(count: number, items: readonly T[]): T[] {
  const chosen = new Set<T>();
  while (chosen.size < Math.min(count, items.length)) chosen.add(pick(items));
  return [...chosen];
}

const instances: RunningService[] = [];
// Also when the bench itself fails: an instance left behind would keep consuming registrations.
process.once("exit", () => {
  for (const { child } of instances) child.kill("SIGKILL");
});

async function startInstance(
  databaseUrl: URL,
  env: Record<string, string>,
): Promise<RunningService> {
  const instance = await startService({
    port: await freePort(),
    databaseUrl,
    natsUrl: testNatsUrl,
    logLevel: "error",
    // The heap flags of docs/operating.md "Memory": without them V8 collects lazily and RSS shows garbage.
    nodeOptions:
      process.env.BENCH_SERVICE_NODE_OPTIONS ?? "--max-semi-space-size=16 --max-old-space-size=192",
    env,
  });
  instances.push(instance);
  return instance;
}

await build();
const database = await createDatabase(testDatabaseUrl, "bench_watch");
try {
  const watcher = await startInstance(database.url, {
    // Streams of a few connections: each carries watchers / connections of them.
    HTTP2_MAX_CONCURRENT_STREAMS: String(Math.ceil(settings.watchers / settings.connections)),
  });
  const writer = await startInstance(database.url, { QUOTA_USER_PROFILES_PER_SECOND: "0" });
  // BENCH_SAME_INSTANCE=1 writes through the watcher itself: its own writes reach its feed at
  // commit, without the outbox and the broker.
  const writeTo = sameInstance ? watcher : writer;
  const writerClient = createClient(ProfileApi, createGrpcTransport({ baseUrl: writeTo.origin }));
  const asAdmin = { headers: bearer(await adminToken("bench-writer")) };

  const users = Array.from({ length: settings.users }, () => crypto.randomUUID());
  for (let i = 0; i < users.length; i += 100) {
    await Promise.all(
      users
        .slice(i, i + 100)
        .map((userId) => writerClient.updateProfile({ userId, displayName: "Watched" }, asAdmin)),
    );
  }
  await sleep(2000);
  const idle = { ...(await usageOf(watcher.pid)), heap: await heapUsed(watcher.origin) };

  // Answer times by `userId@version`, and arrival times of each on the streams.
  const answeredAt = new Map<string, number>();
  const sentAtOf = new Map<string, number>();
  const arrivals: { key: string; at: number }[] = [];
  let snapshots = 0;
  let streamErrors = 0;
  const stop = new AbortController();
  const clients: Client<typeof ProfileApi>[] = Array.from({ length: settings.connections }, () =>
    createClient(ProfileApi, createGrpcTransport({ baseUrl: watcher.origin })),
  );
  const streams: Promise<void>[] = [];
  for (let n = 0; n < settings.watchers; n++) {
    const userIds = distinct(settings.idsPerWatch, users);
    const token = await benchToken(crypto.randomUUID(), { expiresIn: "1h" });
    const client = clients[n % clients.length] as Client<typeof ProfileApi>;
    streams.push(
      (async () => {
        try {
          const options = { signal: stop.signal, headers: bearer(token) };
          for await (const message of client.watchProfiles({ userIds }, options)) {
            if (message.snapshot) snapshots++;
            else
              arrivals.push({ key: `${message.userId}@${message.version}`, at: performance.now() });
          }
        } catch {
          if (!stop.signal.aborted) streamErrors++;
        }
      })(),
    );
  }
  const expectedSnapshots = settings.watchers * settings.idsPerWatch;
  await waitFor(
    async () => snapshots + streamErrors * settings.idsPerWatch >= expectedSnapshots * 0.999,
    "every snapshot arriving",
    120_000,
  );
  await sleep(3000);
  const watching = { ...(await usageOf(watcher.pid)), heap: await heapUsed(watcher.origin) };

  // The updates, at a fixed rate from when each was due, over the whole run.
  const total = settings.updatesPerSecond * settings.seconds;
  const startedAt = performance.now();
  const before = { watcher: await usageOf(watcher.pid), writer: await usageOf(writer.pid) };
  /** Updates that failed, by code: the database behind the writer falls behind first. */
  const failedUpdates: Record<string, number> = {};
  await atFixedRate(settings.updatesPerSecond, settings.seconds * 1000, async (n) => {
    const userId = pick(users);
    const sentAt = performance.now();
    await writerClient.updateProfile({ userId, bio: `update ${n}` }, asAdmin).then(
      (profile) => {
        const key = `${userId}@${profile.etag.slice(1)}`;
        answeredAt.set(key, performance.now());
        sentAtOf.set(key, sentAt);
      },
      (error: unknown) => {
        const code = Code[ConnectError.from(error).code];
        failedUpdates[code] = (failedUpdates[code] ?? 0) + 1;
      },
    );
  });
  const updateSeconds = (performance.now() - startedAt) / 1000;
  const after = { watcher: await usageOf(watcher.pid), writer: await usageOf(writer.pid) };
  await sleep(2000);
  const metricsPage = await scrape(watcher.origin);
  stop.abort();
  await Promise.all(streams);

  const delaysFrom = (times: Map<string, number>) =>
    arrivals.flatMap(({ key, at }) => {
      const from = times.get(key);
      return from === undefined ? [] : [at - from];
    });
  const metric = (name: string) => {
    try {
      return metricsPage(name);
    } catch {
      return Number.NaN;
    }
  };
  const results = {
    when: new Date().toISOString(),
    machine: machine(),
    conditions: {
      ...settings,
      updates: total,
      path: sameInstance
        ? "UpdateProfile on the watcher → its feed at commit → streams (gRPC)"
        : "UpdateProfile on the writer → outbox → NATS → the watcher's feed → streams (gRPC)",
      loadAverage: os.loadavg(),
      broker: testNatsUrl,
    },
    "delivery delay, ms": {
      // Negative when the stream's message arrives before the call's answer (same instance).
      "UpdateProfile answered → version received on a stream": latencySummary(
        delaysFrom(answeredAt),
      ),
      "UpdateProfile sent → version received on a stream": latencySummary(delaysFrom(sentAtOf)),
    },
    watcher: {
      "RSS idle, MiB": toMiB(idle.rss),
      "RSS with the streams open and idle, MiB": toMiB(watching.rss),
      "RSS per idle watcher, KiB": Math.round((watching.rss - idle.rss) / 1024 / settings.watchers),
      "heap used per idle watcher, KiB": Math.round(
        (watching.heap - idle.heap) / 1024 / settings.watchers,
      ),
      "CPU during updates, % of one core": Math.round(
        ((after.watcher.cpuSeconds - before.watcher.cpuSeconds) / updateSeconds) * 100,
      ),
      "stream errors": streamErrors,
      profile_watchers_open: metric("profile_watchers_open"),
      profile_watch_deliveries_total: metric("profile_watch_deliveries_total"),
      profile_watch_coalesced_total: metric("profile_watch_coalesced_total"),
    },
    writer: {
      "CPU during updates, % of one core": Math.round(
        ((after.writer.cpuSeconds - before.writer.cpuSeconds) / updateSeconds) * 100,
      ),
      "updates/s achieved": Math.round(total / updateSeconds),
      "failed updates": JSON.stringify(failedUpdates),
    },
  };
  console.log(
    `\nWatchProfiles fan-out — ${results.machine.cores} cores, Node ${process.version}, ` +
      `${settings.watchers} streams × ${settings.idsPerWatch} ids, ${settings.updatesPerSecond} updates/s for ${settings.seconds} s\n`,
  );
  console.table(results["delivery delay, ms"]);
  console.table(results.watcher);
  console.table(results.writer);
  const file = await writeResults(resultsFile("watch", results.when), results);
  console.log(`results written to ${file}`);
} finally {
  await Promise.all(instances.map((instance) => instance.stop()));
  await database.drop();
}
