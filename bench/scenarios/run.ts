// npm run bench: BatchGetProfiles, GetProfile and UpdateProfile against the limits the service
// cannot beat and the obvious server, measured in the same run on the same machine (see
// bench/README.md).
import { deepStrictEqual } from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { HealthCheckRequestSchema } from "../../gen/health/v1/health_pb.js";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { grpcMessage, type LoadResult, runLoad, sendEach } from "../harness/load.js";
import { cacheMetrics, withHitRatio } from "../harness/metrics.js";
import { latencySummary } from "../harness/stats.js";
import { benchGraph, graphBenchTable } from "./graph.js";
import { measureCacheMemory, watchRss } from "./memory.js";
import { report } from "./report.js";
import { type Row, scenarios, targets, variants } from "./targets.js";
import { measureVisibility } from "./visibility.js";
import { zipfSampler } from "./zipf-mix.js";

const run = promisify(execFile);
const env = process.env;
const smoke = env.BENCH_SMOKE === "1";
const settings = {
  profiles: Number(env.BENCH_PROFILES ?? (smoke ? 1000 : 100_000)),
  durationS: Number(env.BENCH_DURATION_S ?? (smoke ? 1 : 10)),
  warmUpS: smoke ? 0.5 : 2,
  connections: 4,
  streamsPerConnection: 4,
  ratePerSecond: Number(env.BENCH_RATE ?? 300),
  /** Rounds of the service's measurements against one process, to see whether RSS grows. */
  rounds: Number(env.BENCH_ROUNDS ?? 1),
  databaseUrl: env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  natsUrl: env.BENCH_NATS_URL ?? env.TEST_NATS_URL ?? "nats://127.0.0.1:4222",
  /** NODE_OPTIONS for the service, e.g. heap limits (bench/README.md, "Memory"). */
  serviceNodeOptions: env.BENCH_SERVICE_NODE_OPTIONS ?? "",
  /** Cross-instance visibility: updates on one instance, each read on the other until seen. */
  visibilityUpdates: Number(env.BENCH_VISIBILITY_UPDATES ?? (smoke ? 50 : 1000)),
  visibilityTimeoutMs: 5000,
  /** Rounds of filling the profile cache, and the pause before reading the settled RSS. */
  memoryRounds: smoke ? 1 : 3,
  settleMs: smoke ? 1000 : 5000,
  /** The cache's byte budget the instances run with (the service's default unless set). */
  cacheBudgetBytes: Number(env.PROFILE_CACHE_MAX_BYTES ?? 134_217_728),
  /** Where the results go as JSON (bench/results/ is git-ignored and not linted). */
  jsonFile: env.BENCH_JSON ?? "bench/results/bench-results.json",
};
const streams = settings.connections * settings.streamsPerConnection;
const secret = randomBytes(32).toString("hex");
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const randomId = () => idOf(1 + Math.floor(Math.random() * settings.profiles));

const rows: Row[] = [];
const record = (row: Row) => {
  rows.push(row);
  const hits = row.hitRatio === undefined ? "" : `, cache hits ${row.hitRatio}`;
  process.stderr.write(`  ${row.scenario} [${row.driver}, ${row.load}]: ${row.rps} req/s${hits}\n`);
};

/** The two percentiles the table shows. */
function percentiles(samples: number[]): { p50: number; p99: number } {
  const { p50, p99 } = latencySummary(samples);
  return { p50, p99 };
}

async function requireTool(tool: string, install: string): Promise<void> {
  try {
    await run("sh", ["-c", `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is missing: ${install}`);
  }
}

async function psql(database: string, sql: string): Promise<void> {
  const url = new URL(settings.databaseUrl);
  url.pathname = `/${database}`;
  await run("psql", [url.toString(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
}

/** h2load, closed loop, `streams` calls in flight; latencies from its per-request log. */
async function h2load(url: string, body: Buffer, headers: Record<string, string>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-h2load-"));
  try {
    await writeFile(path.join(dir, "body"), body);
    const args = [
      `-c${settings.connections}`,
      `-m${settings.streamsPerConnection}`,
      `-D${settings.durationS * 1000}ms`,
      `--warm-up-time=${settings.warmUpS * 1000}ms`,
      `-d${path.join(dir, "body")}`,
      `--log-file=${path.join(dir, "log")}`,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      ...Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
      url,
    ];
    const { stdout } = await run("h2load", args, { maxBuffer: 1 << 24 });
    const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? Number.NaN);
    const failed = Number(/(\d+) failed, (\d+) errored/.exec(stdout)?.[1] ?? 0);
    const log = await readFile(path.join(dir, "log"), "utf8");
    const latencies = log
      .trim()
      .split("\n")
      .map((line) => Number(line.split("\t")[2]) / 1000);
    // What h2load says of its failed requests (reset streams, broken connections).
    const failures =
      failed > 0
        ? `h2load ${/requests: (.*)/.exec(stdout)?.[1]}; ${/status codes: (.*)/.exec(stdout)?.[1]}`
        : undefined;
    return { rps: Math.round(rps), failed, ...percentiles(latencies), failures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** pgbench -M prepared at the same concurrency, one SQL script; latencies from its log. */
async function pgbench(database: string, script: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-pgbench-"));
  try {
    await writeFile(path.join(dir, "script.sql"), script);
    const url = new URL(settings.databaseUrl);
    const { stdout } = await run(
      "pgbench",
      [
        "-h",
        url.hostname,
        "-p",
        url.port || "5432",
        "-U",
        decodeURIComponent(url.username || "postgres"),
        "-n",
        "-M",
        "prepared",
        `-c${streams}`,
        "-j2",
        `-T${settings.durationS}`,
        "-l",
        `--log-prefix=${path.join(dir, "log")}`,
        "-f",
        path.join(dir, "script.sql"),
        database,
      ],
      { cwd: dir, maxBuffer: 1 << 24 },
    );
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const latencies: number[] = [];
    for (const file of await readdir(dir)) {
      if (!file.startsWith("log")) continue;
      for (const line of (await readFile(path.join(dir, file), "utf8")).trim().split("\n")) {
        latencies.push(Number(line.split(" ")[2]) / 1000);
      }
    }
    return { rps: Math.round(tps), failed, ...percentiles(latencies) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fromLoad(result: LoadResult) {
  return {
    rps: Math.round(result.requests / result.seconds),
    errors: result.errors,
    ...percentiles(result.latenciesMs),
  };
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function start(command: string, args: string[], extraEnv: Record<string, string>): ChildProcess {
  return spawn(command, args, {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** Waits until a child process prints "ready". */
function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", () => reject(new Error("the process exited before it was ready")));
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/**
 * Failed calls the service counted, by procedure and code ("GetProfile NotFound"), from its
 * /metrics. Canceled calls are left out: h2load resets the streams still in flight when its time
 * is up.
 */
async function failedCalls(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const failed = new Map<string, number>();
  for (const match of text.matchAll(
    /^profile_rpc_requests_total\{procedure="[^"]*\/([^"/]+)",code="([^"]+)"\} (\d+)/gm,
  )) {
    if (match[2] !== "ok" && match[2] !== "Canceled") {
      failed.set(`${match[1]} ${match[2]}`, Number(match[3]));
    }
  }
  return failed;
}

type Call = readonly [method: string, request: object];

/**
 * Requires the obvious server (bench/reference/obvious-server.ts) to answer like the service, or its rows
 * would measure something else: a @grpc/grpc-js client (protobufjs, no code shared with the
 * service) sends both the same call, or a write to the obvious server and then a read of the same
 * profile to the service, and compares the decoded answers, or status codes.
 */
async function requireSameAnswers(
  service: string,
  obvious: string,
  token: string,
  checks: ReadonlyArray<Call | { readonly onObvious: Call; readonly thenOnService: Call }>,
): Promise<void> {
  const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
    includeDirs: [path.join(import.meta.dirname, "..", "..", "proto")],
    keepCase: true,
    longs: String,
    defaults: true,
  });
  const methods = definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition;
  const ask = (origin: string, method: string, request: object) => {
    const client = new grpc.Client(new URL(origin).host, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const { path: methodPath, requestSerialize, responseDeserialize } = methods[method] ?? {};
    if (methodPath === undefined || requestSerialize === undefined) {
      throw new Error(`no method ${method} in the proto`);
    }
    return new Promise<unknown>((resolve) => {
      client.makeUnaryRequest(
        methodPath,
        requestSerialize,
        responseDeserialize as (bytes: Buffer) => unknown,
        request,
        metadata,
        { deadline: Date.now() + 10_000 },
        (error, response) => {
          client.close();
          resolve(error === null ? response : { code: grpc.status[error.code] });
        },
      );
    });
  };
  for (const [index, check] of checks.entries()) {
    const [[method, request], [serviceMethod, serviceRequest]] =
      "onObvious" in check ? [check.onObvious, check.thenOnService] : [check, check];
    deepStrictEqual(
      await ask(obvious, method, request),
      await ask(service, serviceMethod, serviceRequest),
      `the obvious server answers ${method} (check ${index + 1}) unlike the service`,
    );
  }
}

async function main(): Promise<void> {
  await requireTool("h2load", "apt-get install nghttp2-client");
  await requireTool("pgbench", "apt-get install postgresql-client");
  await requireTool("psql", "apt-get install postgresql-client");
  process.stderr.write(`building: npm run build\n`);
  await run("npm", ["run", "--silent", "build"]);

  const database = `bench_${randomBytes(4).toString("hex")}`;
  await psql(new URL(settings.databaseUrl).pathname.slice(1), `CREATE DATABASE ${database}`);
  const serviceDbUrl = new URL(settings.databaseUrl);
  serviceDbUrl.pathname = `/${database}`;
  const port = 18_400 + Math.floor(Math.random() * 500);
  const origin = `http://127.0.0.1:${port}`;
  let service: ChildProcess | undefined;
  let reference: ChildProcess | undefined;
  let connectOnly: ChildProcess | undefined;
  let obvious: ChildProcess | undefined;
  let cacheOff: ChildProcess | undefined;
  let reader: ChildProcess | undefined;
  const connectOnlyOrigin = `http://127.0.0.1:${port + 1}`;
  const obviousOrigin = `http://127.0.0.1:${port + 2}`;
  const cacheOffOrigin = `http://127.0.0.1:${port + 3}`;
  const readerOrigin = `http://127.0.0.1:${port + 4}`;
  try {
    process.stderr.write(`seeding ${settings.profiles} profiles\n`);
    await run("node", ["dist/migrate.js"], {
      env: { ...env, DATABASE_URL: serviceDbUrl.toString(), JWT_SECRET: secret, LOG_LEVEL: "warn" },
    });
    await psql(
      database,
      `SET session_replication_role = replica;
       INSERT INTO profiles (user_id, display_name, avatar_url, bio)
       SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'User ' || n,
              'https://cdn.example/avatars/' || n || '.png', 'The bio of user number ' || n
       FROM generate_series(1, ${settings.profiles}) AS n;
       ANALYZE profiles;`,
    );

    const startService = async (at: string, extraEnv: Record<string, string> = {}) => {
      const child = start("node", ["dist/main.js"], {
        PORT: new URL(at).port,
        HOST: "127.0.0.1",
        DATABASE_URL: serviceDbUrl.toString(),
        JWT_SECRET: secret,
        NATS_URL: settings.natsUrl,
        LOG_LEVEL: env.BENCH_LOG_LEVEL ?? "info",
        NODE_OPTIONS: settings.serviceNodeOptions,
        ...extraEnv,
      });
      await waitFor(async () => (await fetch(`${at}/readyz`)).ok, "the service getting ready");
      return child;
    };
    // The instances of the rows: the cache on (warm once read), and the same with it off.
    service = await startService(origin, { PROFILE_CACHE_ENABLED: "true" });
    cacheOff = await startService(cacheOffOrigin, { PROFILE_CACHE_ENABLED: "false" });
    // A second instance with the direct unary gRPC path off, for the trivial call through
    // Connect's own gRPC handler: what the direct path gains, measured minutes apart at most.
    connectOnly = await startService(connectOnlyOrigin, {
      GRPC_UNARY_FAST_PATH: "false",
      NATS_URL: "",
    });
    const rss = watchRss(service.pid ?? 0);
    const serving = await cacheMetrics(origin);
    process.stderr.write(
      serving === undefined
        ? "the service exports no profile_cache_* metrics: cache rows measure no cache, hit ratio n/a\n"
        : `profile cache serving: ${serving.serving ? "yes" : "NO (warm rows will miss)"}\n`,
    );

    const token = await signHs256Token({
      secret,
      subject: "bench",
      scopes: ["profile:admin"],
      issuer: "realchat-auth",
      audience: "realchat-clients",
      expiresIn: "2h",
    });
    const auth = { authorization: `Bearer ${token}` };
    const getId = randomId();
    const getBody = grpcMessage(GetProfileRequestSchema, { userId: getId });
    const batchIds = new Set<string>();
    while (batchIds.size < 100) batchIds.add(randomId());
    const batchBody = grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...batchIds] });
    /** BatchGetProfiles of 100 consecutive ids each, from `first` on: a pass over those ids. */
    const batchesOver = (first: number, count: number) =>
      Array.from({ length: Math.ceil(count / 100) }, (_, b) =>
        grpcMessage(BatchGetProfilesRequestSchema, {
          userIds: Array.from({ length: Math.min(100, count - b * 100) }, (_, i) =>
            idOf(first + b * 100 + i),
          ),
        }),
      );
    // Every body changes its profile: the bio carries the row's tag, and consecutive updates of a
    // user (1000 calls apart) differ.
    const updateBodies = (tag: string) =>
      Array.from({ length: 2000 }, (_, i) =>
        grpcMessage(UpdateProfileRequestSchema, {
          userId: idOf(1 + (i % 1000)),
          bio: `bench ${tag} ${i}`,
        }),
      );
    // The Zipf mix: ranks over a shuffled order of the seeded ids (the hot profiles spread over
    // the table), 100 distinct ids per batch from a pool of 1000 batches, and every 20th call an
    // update of one Zipf-drawn profile with a bio of its own, so each update changes something.
    const zipfRank = zipfSampler(settings.profiles, 1.0);
    const idOfRank = Array.from({ length: settings.profiles }, (_, i) => idOf(i + 1));
    for (let i = idOfRank.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [idOfRank[i], idOfRank[j]] = [idOfRank[j] ?? "", idOfRank[i] ?? ""];
    }
    const zipfId = () => idOfRank[zipfRank() - 1] ?? idOf(1);
    const mixBatches = Array.from({ length: 1000 }, () => {
      const ids = new Set<string>();
      while (ids.size < 100) ids.add(zipfId());
      return grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...ids] });
    });
    const mixLength = 40_000;
    const isUpdate = (i: number) => i % 20 === 19;
    const mixPaths = Array.from({ length: mixLength }, (_, i) =>
      isUpdate(i)
        ? "/realchat.profile.v1.ProfileApi/UpdateProfile"
        : "/realchat.profile.v1.ProfileApi/BatchGetProfiles",
    );
    /** One round's mix: the same ids for every server, a bio of the server's own (`tag`). */
    const mixBodies = (round: number) => {
      const updated = Array.from({ length: mixLength }, (_, i) => (isUpdate(i) ? zipfId() : ""));
      return (tag: string) =>
        updated.map((userId, i) =>
          isUpdate(i)
            ? grpcMessage(UpdateProfileRequestSchema, { userId, bio: `mix ${round}.${tag}.${i}` })
            : (mixBatches[i % mixBatches.length] ?? Buffer.alloc(0)),
        );
    };
    const closedLoop = `${streams} streams`;
    // The obvious server (bench/README.md), on the same database, idle except for its rows; it
    // must answer like the service first: found, missing, duplicate and upper-case ids.
    obvious = spawn(
      "node",
      [
        "--import",
        "tsx",
        "bench/reference/obvious-server.ts",
        new URL(obviousOrigin).port,
        `${serviceDbUrl}`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await untilReady(obvious);
    const missingId = idOf(settings.profiles + 1);
    for (const at of [origin, cacheOffOrigin]) {
      await requireSameAnswers(at, obviousOrigin, token, [
        // First, while no read has touched this profile: the row the update answers is the row
        // the service then reads, version and updated_at included.
        {
          onObvious: [
            "UpdateProfile",
            { user_id: idOf(3), display_name: "Checked", bio: `check ${at}` },
          ],
          thenOnService: ["GetProfile", { user_id: idOf(3) }],
        },
        ["GetProfile", { user_id: getId }],
        ["GetProfile", { user_id: missingId }],
        ["BatchGetProfiles", { user_ids: [...batchIds] }],
        [
          "BatchGetProfiles",
          { user_ids: [idOf(2), missingId, idOf(1).toUpperCase(), idOf(2), idOf(1), missingId] },
        ],
      ]);
    }
    /** grpc.health.v1.Health/Check: no database, no token, the least a server does per call. */
    const measureTrivialCall = async (at: string, scenario: string) => {
      const result = await h2load(
        `${at}/grpc.health.v1.Health/Check`,
        grpcMessage(HealthCheckRequestSchema, {}),
        {},
      );
      record({ scenario, driver: "h2load", load: closedLoop, ...result, errors: result.failed });
    };
    const load = {
      headers: auth,
      connections: settings.connections,
      durationMs: settings.durationS * 1000,
      warmUpMs: settings.warmUpS * 1000,
    };
    const api = "/realchat.profile.v1.ProfileApi";
    const instances = [
      { variant: variants.warm, at: origin },
      { variant: variants.off, at: cacheOffOrigin },
    ] as const;
    /**
     * A row on one of the service's instances: a warm-up pass over the ids it reads first (on
     * both instances alike), then the measurement with the cache's hit ratio over it.
     */
    const serviceRow = async (
      at: string,
      warmUp: readonly Buffer[],
      measure: () => Promise<Omit<Row, "hitRatio">>,
    ) => {
      const failed = await sendEach(at, `${api}/BatchGetProfiles`, auth, warmUp);
      if (failed > 0) throw new Error(`${failed} calls of the warm-up pass failed on ${at}`);
      const before = await failedCalls(at);
      const { result, hitRatio } = await withHitRatio(at, measure);
      const failures = [...(await failedCalls(at))]
        .map(([call, count]) => [call, count - (before.get(call) ?? 0)] as const)
        .filter(([, count]) => count > 0);
      // h2load counts gRPC errors as successes (they travel in HTTP 200 answers): the service's
      // count adds them. load.ts counts them itself.
      const serviceCounted = failures.reduce((sum, [, count]) => sum + count, 0);
      record({
        ...result,
        errors: result.errors + (result.driver === "h2load" ? serviceCounted : 0),
        hitRatio,
        failures:
          [result.failures, ...failures.map(([call, count]) => `${call} ×${count}`)]
            .filter((failure) => failure !== undefined)
            .join(", ") || undefined,
      });
    };

    const afterRound: number[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      process.stderr.write(`measuring (round ${round} of ${settings.rounds})\n`);
      await measureTrivialCall(origin, scenarios.transport);
      await measureTrivialCall(
        connectOnlyOrigin,
        "trivial RPC, Connect's gRPC handler (GRPC_UNARY_FAST_PATH=false)",
      );
      // Each RPC on the cache-warm instance, on the obvious server, on the cache-off instance.
      for (const [scenario, procedure, body, readIds] of [
        [scenarios.get, "GetProfile", getBody, [getId]],
        [scenarios.batch, "BatchGetProfiles", batchBody, [...batchIds]],
      ] as const) {
        const warmUp = [grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...readIds] })];
        const ours = (at: string, variant: string) =>
          serviceRow(at, warmUp, async () => {
            const result = await h2load(`${at}${api}/${procedure}`, body, auth);
            const errors = result.failed;
            const row = `${scenario}, ${variant}`;
            return { scenario: row, driver: "h2load", load: closedLoop, ...result, errors };
          });
        await ours(origin, variants.warm);
        // The same h2load row against the obvious server. It has no metrics: its errors are
        // h2load's failed requests (requireSameAnswers checked its answers).
        const baseline = await h2load(`${obviousOrigin}${api}/${procedure}`, body, {});
        record({
          scenario: `${scenario}, ${variants.obvious}`,
          driver: "h2load",
          load: closedLoop,
          ...baseline,
          errors: baseline.failed,
        });
        await ours(cacheOffOrigin, variants.off);
      }
      for (const { variant, at } of instances) {
        await serviceRow(at, batchesOver(1, 1000), async () => ({
          scenario: `${scenarios.update}, ${variant}`,
          driver: "node http2",
          load: closedLoop,
          ...fromLoad(
            await runLoad({
              ...load,
              origin: at,
              path: `${api}/UpdateProfile`,
              bodies: updateBodies(`${round}.${variant}`),
              streamsPerConnection: settings.streamsPerConnection,
            }),
          ),
        }));
      }
      // The mix on ours with the cache warm, then the same calls in the same order on the obvious
      // server and on ours with the cache off.
      const bodies = mixBodies(round);
      const mix = async (at: string, headers: Record<string, string>, tag: string) =>
        fromLoad(
          await runLoad({
            ...load,
            origin: at,
            headers,
            path: "",
            paths: mixPaths,
            bodies: bodies(tag),
            streamsPerConnection: settings.streamsPerConnection,
          }),
        );
      const mixRow = (variant: string) => ({
        scenario: `${scenarios.zipfMix}, ${variant}`,
        driver: "node http2",
        load: closedLoop,
      });
      await serviceRow(origin, mixBatches, async () => ({
        ...mixRow(variants.warm),
        ...(await mix(origin, auth, "warm")),
      }));
      record({ ...mixRow(variants.obvious), ...(await mix(obviousOrigin, {}, "obvious")) });
      await serviceRow(cacheOffOrigin, mixBatches, async () => ({
        ...mixRow(variants.off),
        ...(await mix(cacheOffOrigin, auth, "off")),
      }));
      // Latency at a fixed moderate rate, on the cache-warm instance.
      for (const [scenario, procedure, bodies] of [
        [scenarios.get, "GetProfile", [getBody]],
        [scenarios.batch, "BatchGetProfiles", [batchBody]],
        [scenarios.update, "UpdateProfile", updateBodies(`${round}.rate`)],
      ] as const) {
        const result = await runLoad({
          ...load,
          origin,
          path: `${api}/${procedure}`,
          bodies,
          ratePerSecond: settings.ratePerSecond,
        });
        record({
          scenario: `${scenario}, ${variants.warm}`,
          driver: "node http2",
          load: `${settings.ratePerSecond} req/s`,
          ...fromLoad(result),
        });
      }
      afterRound.push(rss.lastMiB());
    }
    const serviceRss = { peakMiB: rss.peakMiB(), endMiB: rss.lastMiB(), afterRound };
    rss.stop();
    for (const child of [cacheOff, connectOnly, obvious]) await stop(child);
    [cacheOff, connectOnly, obvious] = [undefined, undefined, undefined];

    // Two instances on one database and one broker: a fresh one (B) first fills its cache with
    // every profile for the memory rounds, then serves the reads of the visibility rows while
    // the service (A) takes the updates.
    process.stderr.write("cache memory and cross-instance visibility\n");
    reader = await startService(readerOrigin, { PROFILE_CACHE_ENABLED: "true" });
    const memory = await measureCacheMemory({
      origin: readerOrigin,
      pid: reader.pid ?? 0,
      headers: auth,
      fillBodies: batchesOver(1, settings.profiles),
      dryBodies: batchesOver(settings.profiles + 1, settings.profiles),
      rounds: settings.memoryRounds,
      settleMs: settings.settleMs,
    });
    const visibility = await measureVisibility({
      writer: origin,
      reader: readerOrigin,
      headers: auth,
      userIds: Array.from({ length: settings.visibilityUpdates }, (_, i) =>
        idOf(1 + ((i * 7919) % settings.profiles)),
      ),
      timeoutMs: settings.visibilityTimeoutMs,
    });
    await stop(reader);
    reader = undefined;
    await stop(service);
    service = undefined;

    const columns = "user_id, display_name, avatar_url, bio, version, created_at, updated_at";
    const ids = [...batchIds].map((id) => `"${id}"`).join(",");
    for (const [scenario, script] of [
      ["GetProfile SQL", `SELECT ${columns} FROM profiles WHERE user_id = '${idOf(1)}';\n`],
      [
        scenarios.batchSql,
        `SELECT ${columns} FROM profiles WHERE user_id = ANY('{${ids}}'::uuid[]);\n`,
      ],
      [
        scenarios.updateSql,
        [
          "\\set n random(1, 1000)",
          "\\set r random(1, 1000000000)",
          "INSERT INTO profiles (user_id, bio) VALUES (('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))::uuid, 'pgbench ' || :r)",
          "  ON CONFLICT (user_id) DO UPDATE SET bio = 'pgbench ' || :r, version = profiles.version + 1, updated_at = now()",
          `  WHERE profiles.bio IS DISTINCT FROM 'pgbench ' || :r RETURNING ${columns};`,
          "",
        ].join("\n"),
      ],
    ] as const) {
      const result = await pgbench(database, script);
      record({
        scenario,
        driver: "pgbench -M prepared",
        load: `${streams} clients`,
        ...result,
        errors: result.failed,
      });
    }

    const referencePort = port + 500;
    reference = spawn(
      "node",
      ["--import", "tsx", "bench/reference/grpc-js-reference.ts", String(referencePort)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await untilReady(reference);
    await measureTrivialCall(`http://127.0.0.1:${referencePort}`, scenarios.grpcJs);
    await stop(reference);
    reference = undefined;

    const errors = await report({
      smoke,
      settings: { ...settings, databaseUrl: undefined },
      rows,
      serviceRss,
      visibility,
      memory,
      targets: targets({
        rows,
        servicePeakRssMiB: serviceRss.peakMiB,
        visibility,
        memory,
        cacheBudgetBytes: settings.cacheBudgetBytes,
      }),
    });
    if (errors.length > 0) throw new Error(`calls failed:\n${errors.join("\n")}`);
  } finally {
    for (const child of [service, cacheOff, connectOnly, obvious, reader, reference]) {
      await stop(child);
    }
    await psql(
      new URL(settings.databaseUrl).pathname.slice(1),
      `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
    ).catch(() => {});
  }
}

await main();

// Issue 13, kept apart from the rows above: the social graph's rows beside their pgbench SQL.
process.stdout.write(
  `\nSocial graph (bench/scenarios/graph.ts)\n${graphBenchTable(await benchGraph(settings))}\n`,
);
