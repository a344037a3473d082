// npm run bench: BatchGetProfiles, GetProfile and UpdateProfile against the limits the service
// cannot beat and the obvious server, measured in the same run on the same machine (see
// bench/README.md).
import { deepStrictEqual } from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../src/auth/token-signer.js";
import { benchGraph, graphBenchTable } from "./graph.js";
import { grpcFrame, type LoadResult, runLoad } from "./load.js";
import { latencySummary } from "./stats.js";
import { zipfSampler } from "./zipf.js";

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
};
const streams = settings.connections * settings.streamsPerConnection;
const secret = randomBytes(32).toString("hex");
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const randomId = () => idOf(1 + Math.floor(Math.random() * settings.profiles));

interface Row {
  readonly scenario: string;
  readonly driver: string;
  readonly load: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}
const rows: Row[] = [];
/** How the rows of bench/obvious-server.ts are named. */
const obviousServer = "obvious server (grpc-js + pg)";
/** The realistic mix of issue 12, over Zipf-distributed ids (bench/README.md). */
const zipfMix = "Zipf mix: 95 % BatchGetProfiles (100 ids), 5 % UpdateProfile";
const record = (row: Row) => {
  rows.push(row);
  process.stderr.write(`  ${row.scenario} [${row.driver}, ${row.load}]: ${row.rps} req/s\n`);
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

function message<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Buffer {
  return grpcFrame(toBinary(schema, create(schema, init)));
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
    return { rps: Math.round(rps), failed, ...percentiles(latencies) };
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

/** Peak resident memory of a process, sampled every 250 ms. */
function watchRss(pid: number) {
  let peakKiB = 0;
  const samples: number[] = [];
  const timer = setInterval(async () => {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const kiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    samples.push(kiB);
    peakKiB = Math.max(peakKiB, kiB);
  }, 250);
  return {
    stop: () => clearInterval(timer),
    peakMiB: () => Math.round(peakKiB / 1024),
    lastMiB: () => Math.round((samples.at(-1) ?? 0) / 1024),
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
 * Failed calls the service counted for one procedure, from its /metrics. Canceled calls are left
 * out: h2load resets the streams still in flight when its time is up.
 */
async function failedCalls(origin: string, procedure: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let failed = 0;
  for (const match of text.matchAll(
    /^profile_rpc_requests_total\{procedure="([^"]+)",code="([^"]+)"\} (\d+)/gm,
  )) {
    if (match[1] === procedure && match[2] !== "ok" && match[2] !== "Canceled") {
      failed += Number(match[3]);
    }
  }
  return failed;
}

type Call = readonly [method: string, request: object];

/**
 * Requires the obvious server (bench/obvious-server.ts) to answer like the service, or its rows
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
    includeDirs: [path.join(import.meta.dirname, "..", "proto")],
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
  const connectOnlyOrigin = `http://127.0.0.1:${port + 1}`;
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
    service = await startService(origin);
    // A second instance with the direct unary gRPC path off, for the trivial call through
    // Connect's own gRPC handler: what the direct path gains, measured minutes apart at most.
    connectOnly = await startService(connectOnlyOrigin, {
      GRPC_UNARY_FAST_PATH: "false",
      NATS_URL: "",
    });
    const rss = watchRss(service.pid ?? 0);

    const token = await signHs256Token({
      secret,
      subject: "bench",
      scopes: ["profile:admin"],
      issuer: "realchat-auth",
      audience: "realchat-clients",
      expiresIn: "2h",
    });
    const auth = { authorization: `Bearer ${token}` };
    const api = `${origin}/realchat.profile.v1.ProfileApi`;
    const getId = randomId();
    const getBody = message(GetProfileRequestSchema, { userId: getId });
    const batchIds = new Set<string>();
    while (batchIds.size < 100) batchIds.add(randomId());
    const batchBody = message(BatchGetProfilesRequestSchema, { userIds: [...batchIds] });
    const updateBodies = Array.from({ length: 2000 }, (_, i) =>
      message(UpdateProfileRequestSchema, { userId: idOf(1 + (i % 1000)), bio: `bench ${i}` }),
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
      return message(BatchGetProfilesRequestSchema, { userIds: [...ids] });
    });
    const mixLength = 40_000;
    const isUpdate = (i: number) => i % 20 === 19;
    const mixPaths = Array.from({ length: mixLength }, (_, i) =>
      isUpdate(i)
        ? "/realchat.profile.v1.ProfileApi/UpdateProfile"
        : "/realchat.profile.v1.ProfileApi/BatchGetProfiles",
    );
    const mixBodies = (round: number) =>
      Array.from({ length: mixLength }, (_, i) =>
        isUpdate(i)
          ? message(UpdateProfileRequestSchema, { userId: zipfId(), bio: `mix ${round}.${i}` })
          : (mixBatches[i % mixBatches.length] ?? Buffer.alloc(0)),
      );
    const closedLoop = `${streams} streams`;
    // The obvious server (bench/README.md), on the same database, idle except for its rows; it
    // must answer like the service first: found, missing, duplicate and upper-case ids.
    const obviousOrigin = `http://127.0.0.1:${port + 2}`;
    obvious = spawn(
      "node",
      [
        "--import",
        "tsx",
        "bench/obvious-server.ts",
        new URL(obviousOrigin).port,
        `${serviceDbUrl}`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await untilReady(obvious);
    const missingId = idOf(settings.profiles + 1);
    await requireSameAnswers(origin, obviousOrigin, token, [
      // First, while no read has touched this profile: the row the update answers is the row the
      // service then reads, version and updated_at included.
      {
        onObvious: ["UpdateProfile", { user_id: idOf(3), display_name: "Checked", bio: "check" }],
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
    /** grpc.health.v1.Health/Check: no database, no token, the least a server does per call. */
    const measureTrivialCall = async (at: string, scenario: string) => {
      const result = await h2load(
        `${at}/grpc.health.v1.Health/Check`,
        message(HealthCheckRequestSchema, {}),
        {},
      );
      record({ scenario, driver: "h2load", load: closedLoop, ...result, errors: result.failed });
    };
    const load = {
      origin,
      headers: auth,
      connections: settings.connections,
      durationMs: settings.durationS * 1000,
      warmUpMs: settings.warmUpS * 1000,
    };

    const afterRound: number[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      process.stderr.write(`measuring (round ${round} of ${settings.rounds})\n`);
      await measureTrivialCall(origin, "trivial RPC (Health/Check)");
      await measureTrivialCall(
        connectOnlyOrigin,
        "trivial RPC, Connect's gRPC handler (GRPC_UNARY_FAST_PATH=false)",
      );
      for (const [scenario, procedure, body] of [
        ["GetProfile", "GetProfile", getBody],
        ["BatchGetProfiles (100 ids)", "BatchGetProfiles", batchBody],
      ] as const) {
        const before = await failedCalls(origin, `realchat.profile.v1.ProfileApi/${procedure}`);
        const result = await h2load(`${api}/${procedure}`, body, auth);
        const errors =
          result.failed +
          (await failedCalls(origin, `realchat.profile.v1.ProfileApi/${procedure}`)) -
          before;
        record({ scenario, driver: "h2load", load: closedLoop, ...result, errors });
        // The same h2load row against the obvious server, right after ours. It has no metrics:
        // its errors are h2load's failed requests (requireSameAnswers checked its answers).
        const baseline = await h2load(
          `${obviousOrigin}/realchat.profile.v1.ProfileApi/${procedure}`,
          body,
          {},
        );
        record({
          scenario: `${scenario}, ${obviousServer}`,
          driver: "h2load",
          load: closedLoop,
          ...baseline,
          errors: baseline.failed,
        });
      }
      const updates = await runLoad({
        ...load,
        path: "/realchat.profile.v1.ProfileApi/UpdateProfile",
        bodies: updateBodies,
        streamsPerConnection: settings.streamsPerConnection,
      });
      record({
        scenario: "UpdateProfile",
        driver: "node http2",
        load: closedLoop,
        ...fromLoad(updates),
      });
      // The mix on ours, then the same calls in the same order on the obvious server.
      const bodies = mixBodies(round);
      for (const [scenario, at, headers] of [
        [zipfMix, origin, auth],
        [`${zipfMix}, ${obviousServer}`, obviousOrigin, {}],
      ] as const) {
        const mix = await runLoad({
          ...load,
          origin: at,
          headers,
          path: "",
          paths: mixPaths,
          bodies,
          streamsPerConnection: settings.streamsPerConnection,
        });
        record({ scenario, driver: "node http2", load: closedLoop, ...fromLoad(mix) });
      }
      for (const [scenario, procedure, bodies] of [
        ["GetProfile", "GetProfile", [getBody]],
        ["BatchGetProfiles (100 ids)", "BatchGetProfiles", [batchBody]],
        ["UpdateProfile", "UpdateProfile", updateBodies],
      ] as const) {
        const result = await runLoad({
          ...load,
          path: `/realchat.profile.v1.ProfileApi/${procedure}`,
          bodies,
          ratePerSecond: settings.ratePerSecond,
        });
        record({
          scenario,
          driver: "node http2",
          load: `${settings.ratePerSecond} req/s`,
          ...fromLoad(result),
        });
      }
      afterRound.push(rss.lastMiB());
    }
    const serviceRss = { peakMiB: rss.peakMiB(), endMiB: rss.lastMiB(), afterRound };
    rss.stop();
    await stop(service);
    service = undefined;
    await stop(connectOnly);
    connectOnly = undefined;
    await stop(obvious);
    obvious = undefined;

    const columns = "user_id, display_name, avatar_url, bio, version, created_at, updated_at";
    const ids = [...batchIds].map((id) => `"${id}"`).join(",");
    for (const [scenario, script] of [
      ["GetProfile SQL", `SELECT ${columns} FROM profiles WHERE user_id = '${idOf(1)}';\n`],
      [
        "BatchGetProfiles SQL (100 ids)",
        `SELECT ${columns} FROM profiles WHERE user_id = ANY('{${ids}}'::uuid[]);\n`,
      ],
      [
        "UpdateProfile SQL (upsert + outbox trigger)",
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
      ["--import", "tsx", "bench/grpc-js-reference.ts", String(referencePort)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await untilReady(reference);
    await measureTrivialCall(
      `http://127.0.0.1:${referencePort}`,
      "trivial RPC, @grpc/grpc-js reference",
    );
    await stop(reference);
    reference = undefined;

    report(serviceRss);
  } finally {
    await stop(service);
    await stop(connectOnly);
    await stop(obvious);
    await stop(reference);
    await psql(
      new URL(settings.databaseUrl).pathname.slice(1),
      `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
    ).catch(() => {});
  }
}

function report(rss: { peakMiB: number; endMiB: number; afterRound: number[] }): void {
  const find = (scenario: string, driver?: string) =>
    rows.find(
      (row) => row.scenario === scenario && (driver === undefined || row.driver === driver),
    );
  const ratio = (a: Row | undefined, b: Row | undefined) =>
    a === undefined || b === undefined || b.rps === 0
      ? Number.NaN
      : Math.round((a.rps / b.rps) * 100) / 100;
  const transport = find("trivial RPC (Health/Check)");
  const get = find("GetProfile", "h2load");
  const batch = find("BatchGetProfiles (100 ids)", "h2load");
  const update = find("UpdateProfile", "node http2");
  const targets = [
    [
      "BatchGetProfiles / database limit",
      ratio(batch, find("BatchGetProfiles SQL (100 ids)")),
      ">= 0.5",
    ],
    ["BatchGetProfiles p99 at 16 streams (ms)", batch?.p99 ?? Number.NaN, "< 20"],
    [
      "transport limit / @grpc/grpc-js",
      ratio(transport, find("trivial RPC, @grpc/grpc-js reference")),
      ">= 0.5",
    ],
    ["GetProfile / transport limit", ratio(get, transport), ">= 0.7"],
    ["GetProfile p99 at 16 streams (ms)", get?.p99 ?? Number.NaN, "< 10"],
    [
      "UpdateProfile / database limit",
      ratio(update, find("UpdateProfile SQL (upsert + outbox trigger)")),
      ">= 0.5",
    ],
    ["service peak RSS (MiB)", rss.peakMiB, "< 250"],
    [
      "GetProfile, ours / obvious server",
      ratio(get, find(`GetProfile, ${obviousServer}`)),
      ">= 2.0",
    ],
    [
      "BatchGetProfiles (100 ids), ours / obvious server",
      ratio(batch, find(`BatchGetProfiles (100 ids), ${obviousServer}`)),
      ">= 3.0",
    ],
    [
      "Zipf mix, ours / obvious server",
      ratio(find(zipfMix), find(`${zipfMix}, ${obviousServer}`)),
      ">= 2.0",
    ],
  ] as const;
  const meets = (value: number, target: string) => {
    const [op, bound] = target.split(" ") as [string, string];
    return op === ">=" ? value >= Number(bound) : value < Number(bound);
  };
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  process.stdout.write(
    `\nProfile service benchmark${smoke ? " (SMOKE: tiny, not for comparison)" : ""}\n` +
      `machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
      `Node ${process.version}; load generator, database and service share the cores\n` +
      `run: ${settings.profiles} profiles, ${settings.durationS} s per measurement after ` +
      `${settings.warmUpS} s warm-up, ${streams} streams (${settings.connections} connections × ` +
      `${settings.streamsPerConnection}), fixed rate ${settings.ratePerSecond} req/s, ` +
      `service NODE_OPTIONS "${settings.serviceNodeOptions}"\n\n`,
  );
  console.table(rows);
  console.table(
    targets.map(([measure, value, target]) => ({
      measure,
      value,
      target,
      met: meets(value, target) ? "yes" : "NO",
    })),
  );
  process.stdout.write(
    `service RSS: peak ${rss.peakMiB} MiB, at the end ${rss.endMiB} MiB; ` +
      `after each round: ${rss.afterRound.join(", ")} MiB\n`,
  );
  const results = {
    when: new Date().toISOString(),
    smoke,
    machine: {
      cores: os.cpus().length,
      cpu,
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
    },
    settings: { ...settings, databaseUrl: undefined },
    rows,
    targets: targets.map(([measure, value, target]) => ({
      measure,
      value,
      target,
      met: meets(value, target),
    })),
    rss,
  };
  void (async () => {
    await mkdir("bench/results", { recursive: true });
    const file = `bench/results/bench-${results.when.replace(/[:.]/g, "-")}.json`;
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`results: ${file}\n`);
  })();
}

await main();

// Issue 13, kept apart from the rows above: the social graph's rows beside their pgbench SQL.
process.stdout.write(
  `\nSocial graph (bench/graph.ts)\n${graphBenchTable(await benchGraph(settings))}\n`,
);
