// RealChat's gateway's call pattern (issue 19): BatchGetProfiles of a conversation's other
// participants, 2 to 20 random users, through the trusted internal door as the gateway calls it
// (x-user-id and x-request-id, no token, a 2 s deadline), beside the same calls on the public
// port with each caller's bearer token, in the same run on the same instance. `npm run
// bench:gateway` builds the service and runs `node dist/main.js` as production does, on a fresh
// PostgreSQL database and a nats-server of its own (so the profile cache serves, as in RealChat),
// and prints req/s, p50 and p99 per row.
//
//   BENCH_GATEWAY_SECONDS  measured seconds per row (default 10; BENCH_SMOKE=1: 2)
//   BENCH_CONNECTIONS      HTTP/2 connections (default 4), BENCH_STREAMS calls in flight on each
//                          (default 16)
//   BENCH_PROFILES         profiles seeded (default 10,000), BENCH_CALLERS signed-in users (1000)
//   TEST_DATABASE_URL      the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_JSON             where the rows go as JSON (default bench/results/gateway.json)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import type http2 from "node:http2";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import pg from "pg";
import { BatchGetProfilesRequestSchema } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { freePort, startNatsServer } from "../../tests/support/nats.js";
import { connect, grpcFrame, unaryCall } from "../harness/load.js";
import { latencySummary } from "../harness/stats.js";

const env = process.env;
const smoke = env.BENCH_SMOKE === "1";
const settings = {
  seconds: Number(env.BENCH_GATEWAY_SECONDS ?? (smoke ? 2 : 10)),
  warmUpSeconds: smoke ? 1 : 2,
  connections: Number(env.BENCH_CONNECTIONS ?? 4),
  streamsPerConnection: Number(env.BENCH_STREAMS ?? 16),
  profiles: Number(env.BENCH_PROFILES ?? (smoke ? 1000 : 10_000)),
  callers: Number(env.BENCH_CALLERS ?? (smoke ? 100 : 1000)),
  databaseUrl: env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  jsonFile: env.BENCH_JSON ?? "bench/results/gateway.json",
};
/** Calls prepared beforehand (caller and participants), sent in turn. */
const PREPARED_CALLS = 20_000;
const BATCH_PATH = "/realchat.profile.v1.ProfileApi/BatchGetProfiles";

import { root } from "../harness/processes.js";

const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

interface Row {
  readonly scenario: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** One prepared call: who calls, and the gRPC-framed request naming 2 to 20 others. */
interface PreparedCall {
  readonly caller: number;
  readonly body: Buffer;
}

async function main(): Promise<void> {
  if (env.BENCH_GATEWAY_SKIP_BUILD !== "1") {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
  }
  const database = `gateway_bench_${crypto.randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: settings.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(settings.databaseUrl);
  databaseUrl.pathname = `/${database}`;
  const nats = await startNatsServer();
  let service: ChildProcess | undefined;
  try {
    const secret = crypto.randomUUID() + crypto.randomUUID();
    const [port, internalPort] = [await freePort(), await freePort()];
    service = spawn(process.execPath, ["dist/main.js"], {
      cwd: root,
      env: {
        ...env,
        DATABASE_URL: databaseUrl.toString(),
        NATS_URL: nats.url,
        JWT_SECRET: secret,
        HOST: "127.0.0.1",
        PORT: String(port),
        INTERNAL_PORT: String(internalPort),
        INTERNAL_HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const publicOrigin = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${publicOrigin}/readyz`)).ok);
    await seed(databaseUrl.toString(), settings.profiles);
    await waitFor(async () =>
      /^profile_cache_serving 1$/m.test(await (await fetch(`${publicOrigin}/metrics`)).text()),
    );

    const calls = prepareCalls();
    const tokens = await Promise.all(
      Array.from({ length: settings.callers }, (_, n) =>
        signHs256Token({
          secret,
          subject: idOf(n + 1),
          scopes: [],
          issuer: "realchat-auth",
          audience: "realchat-clients",
          expiresIn: "1h",
        }),
      ),
    );
    const asGateway = (call: PreparedCall) => ({
      "x-user-id": idOf(call.caller),
      "x-request-id": crypto.randomUUID(),
    });
    const withToken = (call: PreparedCall) => ({
      authorization: `Bearer ${tokens[call.caller - 1]}`,
      "x-request-id": crypto.randomUUID(),
    });
    const internalOrigin = `http://127.0.0.1:${internalPort}`;
    const rows: Row[] = [];
    // Alternated, so that neither door always runs on a warmer process.
    for (const round of [1, 2]) {
      rows.push(
        await measure(
          `internal door, x-user-id (round ${round})`,
          internalOrigin,
          calls,
          asGateway,
        ),
      );
      rows.push(
        await measure(`public port, bearer token (round ${round})`, publicOrigin, calls, withToken),
      );
    }
    printTable(rows);
    await mkdir(path.dirname(path.resolve(root, settings.jsonFile)), { recursive: true });
    await writeFile(
      path.resolve(root, settings.jsonFile),
      `${JSON.stringify({ settings: { ...settings, databaseUrl: undefined }, rows }, null, 2)}\n`,
    );
  } finally {
    if (service !== undefined && service.exitCode === null) {
      service.kill("SIGTERM");
      await once(service, "exit");
    }
    await nats.dispose();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

/** Callers 1..callers, each asking for 2 to 20 distinct others among all the profiles. */
function prepareCalls(): PreparedCall[] {
  const random = (below: number) => Math.floor(Math.random() * below);
  return Array.from({ length: PREPARED_CALLS }, () => {
    const caller = 1 + random(settings.callers);
    const participants = new Set<string>();
    const wanted = 2 + random(19);
    while (participants.size < wanted) {
      const other = 1 + random(settings.profiles);
      if (other !== caller) participants.add(idOf(other));
    }
    const request = create(BatchGetProfilesRequestSchema, { userIds: [...participants] });
    return { caller, body: grpcFrame(toBinary(BatchGetProfilesRequestSchema, request)) };
  });
}

/**
 * Closed loop: connections × streams calls in flight, each starting when one ends, for the warm-up
 * and then the measured seconds; every call with the gateway's 2 s deadline.
 */
async function measure(
  scenario: string,
  origin: string,
  calls: readonly PreparedCall[],
  headersOf: (call: PreparedCall) => Record<string, string>,
): Promise<Row> {
  const sessions: http2.ClientHttp2Session[] = await Promise.all(
    Array.from({ length: settings.connections }, () => connect(origin)),
  );
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const measureFrom = performance.now() + settings.warmUpSeconds * 1000;
  const end = measureFrom + settings.seconds * 1000;
  const loop = async (session: http2.ClientHttp2Session) => {
    while (performance.now() < end) {
      const call = calls[next++ % calls.length];
      if (call === undefined) return;
      const sent = performance.now();
      const headers = { ...headersOf(call), "grpc-timeout": "2S" };
      const answer = await unaryCall(session, BATCH_PATH, headers, call.body);
      if (sent < measureFrom) continue;
      latencies.push(performance.now() - sent);
      if (!answer.ok) errors += 1;
    }
  };
  await Promise.all(
    sessions.flatMap((session) =>
      Array.from({ length: settings.streamsPerConnection }, () => loop(session)),
    ),
  );
  for (const session of sessions) session.close();
  const { p50, p99 } = latencySummary(latencies);
  return { scenario, rps: Math.round(latencies.length / settings.seconds), p50, p99, errors };
}

/** Profiles 1..count, with names and bios, and nothing of the seed left in the outbox. */
async function seed(databaseUrl: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO profiles (user_id, display_name, avatar_url, bio)
       SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'User ' || n,
         'https://avatars.example/' || n || '.png', 'Bio of user ' || n
       FROM generate_series(1, $1) n`,
      [count],
    );
    await client.query("DELETE FROM outbox");
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
}

async function waitFor(ready: () => Promise<boolean>): Promise<void> {
  const giveUpAt = Date.now() + 60_000;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (Date.now() > giveUpAt) throw new Error("the service did not get ready in 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function printTable(rows: readonly Row[]): void {
  const load = `${settings.connections} connections × ${settings.streamsPerConnection} streams`;
  const lines = [
    `BatchGetProfiles of 2–20 random participants (of ${settings.profiles} profiles), ` +
      `${settings.callers} callers, ${load}, ${settings.seconds} s per row`,
    "",
    "| scenario | req/s | p50 ms | p99 ms | errors |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (row) => `| ${row.scenario} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.errors} |`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:gateway failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
