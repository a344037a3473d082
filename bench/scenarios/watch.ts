// npm run bench:watch: WatchProfiles fan-out. BENCH_WATCHERS (2000) streams of BENCH_WATCH_IDS (10)
// ids over BENCH_CONNECTIONS (4) HTTP/2 connections to one instance (the watcher), while
// BENCH_UPDATE_RATE (200) UpdateProfile calls per second go to a second instance (the writer) for
// BENCH_SECONDS (30): each change travels outbox → NATS → the watcher's feed → its streams.
// Reports the delay from each UpdateProfile's answer to the arrival of that version on each
// stream watching its user (p50, p99), the watcher's RSS per 1,000 idle watchers, and the CPU
// both instances used during the updates. BENCH_SMOKE=1: 100 watchers for 5 s.
//
// BENCH_SAME_INSTANCE=1 sends the updates to the watcher instance instead (no broker on the path).
// Both instances are production builds (`node dist/main.js`, built first) on a fresh PostgreSQL
// database and the NATS at TEST_NATS_URL.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { promisify } from "node:util";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { withAdminClient } from "../../tests/support/databases.js";
import { testDatabaseUrl, testNatsUrl } from "../../tests/support/environment.js";
import { freePort } from "../../tests/support/nats.js";
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
const secret = randomBytes(32).toString("hex");
const sign = (subject: string, scopes: string[] = []) =>
  signHs256Token({
    secret,
    subject,
    scopes,
    issuer: "realchat-auth",
    audience: "realchat-clients",
    expiresIn: "1h",
  });

/** Resident set size (bytes) and CPU time used (seconds) of a process, from /proc. */
async function usageOf(pid: number): Promise<{ rss: number; cpuSeconds: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rss: rssKb * 1024, cpuSeconds: ticks / 100 };
}

/** The JavaScript heap in use (bytes), from the instance's /metrics. */
async function heapUsed(url: string): Promise<number> {
  const page = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(page)?.[1] ?? Number.NaN);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** `count` different items, at random. */
function distinct<T>(count: number, items: readonly T[]): T[] {
  const chosen = new Set<T>();
  while (chosen.size < Math.min(count, items.length)) chosen.add(pick(items));
  return [...chosen];
}

const dbName = `bench_watch_${randomBytes(4).toString("hex")}`;
const serviceDbUrl = new URL(testDatabaseUrl);
serviceDbUrl.pathname = `/${dbName}`;
const children: ChildProcess[] = [];
// Also when the bench itself fails: an instance left behind would keep consuming registrations.
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function startInstance(extraEnv: Record<string, string>): Promise<{
  url: string;
  pid: number;
}> {
  const port = await freePort();
  const child = spawn("node", ["dist/main.js"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: serviceDbUrl.toString(),
      JWT_SECRET: secret,
      NATS_URL: testNatsUrl,
      LOG_LEVEL: "error",
      // The README's heap flags ("Memory"): without them V8 collects lazily and RSS shows garbage.
      NODE_OPTIONS:
        process.env.BENCH_SERVICE_NODE_OPTIONS ??
        "--max-semi-space-size=16 --max-old-space-size=192",
      ...extraEnv,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`)).ok, "the instance getting ready");
  return { url, pid: child.pid ?? 0 };
}

process.stderr.write("building: npm run build\n");
await promisify(execFile)("npm", ["run", "--silent", "build"]);
await withAdminClient((client) => client.query(`CREATE DATABASE ${dbName}`));
try {
  const watcher = await startInstance({
    // Streams of a few connections: each carries watchers / connections of them.
    HTTP2_MAX_CONCURRENT_STREAMS: String(Math.ceil(settings.watchers / settings.connections)),
  });
  const writer = await startInstance({ QUOTA_USER_PROFILES_PER_SECOND: "0" });
  const admin = await sign("bench-writer", ["profile:admin"]);
  // BENCH_SAME_INSTANCE=1 writes through the watcher itself: its own writes reach its feed at
  // commit, without the outbox and the broker.
  const writeTo = sameInstance ? watcher : writer;
  const writerClient = createClient(ProfileApi, createGrpcTransport({ baseUrl: writeTo.url }));
  const asAdmin = { headers: { authorization: `Bearer ${admin}` } };

  const users = Array.from({ length: settings.users }, () => crypto.randomUUID());
  for (let i = 0; i < users.length; i += 100) {
    await Promise.all(
      users
        .slice(i, i + 100)
        .map((userId) => writerClient.updateProfile({ userId, displayName: "Watched" }, asAdmin)),
    );
  }
  await sleep(2000);
  const idle = { ...(await usageOf(watcher.pid)), heap: await heapUsed(watcher.url) };

  // Answer times by `userId@version`, and arrival times of each on the streams.
  const answeredAt = new Map<string, number>();
  const sentAtOf = new Map<string, number>();
  const arrivals: { key: string; at: number }[] = [];
  let snapshots = 0;
  let streamErrors = 0;
  const stop = new AbortController();
  const clients: Client<typeof ProfileApi>[] = Array.from({ length: settings.connections }, () =>
    createClient(ProfileApi, createGrpcTransport({ baseUrl: watcher.url })),
  );
  const streams: Promise<void>[] = [];
  for (let n = 0; n < settings.watchers; n++) {
    const userIds = distinct(settings.idsPerWatch, users);
    const token = await sign(crypto.randomUUID());
    const client = clients[n % clients.length] as Client<typeof ProfileApi>;
    streams.push(
      (async () => {
        try {
          const options = { signal: stop.signal, headers: { authorization: `Bearer ${token}` } };
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
  const watching = { ...(await usageOf(watcher.pid)), heap: await heapUsed(watcher.url) };

  // The updates, at a fixed rate from when each was due, over the whole run.
  const total = settings.updatesPerSecond * settings.seconds;
  const startedAt = performance.now();
  const before = { watcher: await usageOf(watcher.pid), writer: await usageOf(writer.pid) };
  const updates: Promise<void>[] = [];
  /** Updates that failed, by code: the database behind the writer falls behind first. */
  const failedUpdates: Record<string, number> = {};
  for (let n = 0; n < total; n++) {
    const dueAt = startedAt + (n * 1000) / settings.updatesPerSecond;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    const userId = pick(users);
    const sentAt = performance.now();
    updates.push(
      writerClient.updateProfile({ userId, bio: `update ${n}` }, asAdmin).then(
        (profile) => {
          const key = `${userId}@${profile.etag.slice(1)}`;
          answeredAt.set(key, performance.now());
          sentAtOf.set(key, sentAt);
        },
        (error: unknown) => {
          const code = Code[ConnectError.from(error).code];
          failedUpdates[code] = (failedUpdates[code] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(updates);
  const updateSeconds = (performance.now() - startedAt) / 1000;
  const after = { watcher: await usageOf(watcher.pid), writer: await usageOf(writer.pid) };
  await sleep(2000);
  const metricsPage = await (await fetch(`${watcher.url}/metrics`)).text();
  stop.abort();
  await Promise.all(streams);

  const delaysFrom = (times: Map<string, number>) =>
    arrivals.flatMap(({ key, at }) => {
      const from = times.get(key);
      return from === undefined ? [] : [at - from];
    });
  const metric = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metricsPage)?.[1] ?? Number.NaN);
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
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
      "RSS idle, MiB": mib(idle.rss),
      "RSS with the streams open and idle, MiB": mib(watching.rss),
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
    `\nWatchProfiles fan-out — ${results.machine.cpus} cores, Node ${process.version}, ` +
      `${settings.watchers} streams × ${settings.idsPerWatch} ids, ${settings.updatesPerSecond} updates/s for ${settings.seconds} s\n`,
  );
  console.table(results["delivery delay, ms"]);
  console.table(results.watcher);
  console.table(results.writer);
  await mkdir("bench/results", { recursive: true });
  const file = `bench/results/watch-${results.when.replace(/[:.]/g, "-")}.json`;
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results written to ${file}`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("exit", resolve))));
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
}
