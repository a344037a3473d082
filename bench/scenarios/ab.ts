// Alternated A/B of two builds (bench/README.md, "Lean path"): one seeded PostgreSQL database,
// both servers up side by side, h2load rounds A B A B … against each; medians of req/s (B ÷ A) and of
// the server process's CPU time per call (A ÷ B: above 1 when B is cheaper).
//
//   tsx bench/scenarios/ab.ts <A> <B>
//
// A side is a directory holding a production build (`dist/main.js`, e.g. a checkout after
// `npm run build`), a git revision (exported to a temporary directory and built there, with this
// checkout's node_modules), or `obvious` (bench/reference/obvious-server.ts). Knobs: AB_ROUNDS (3),
// AB_DURATION_S (4 per round, after 1 s of warm-up), AB_PROFILES (100000), AB_RPCS
// (GetProfile,BatchGetProfiles), AB_PORT (19101: A there, B on the next port), AB_NATS_URL (empty:
// no events), AB_LOG_LEVEL (info), TEST_DATABASE_URL.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { grpcFrame, runLoad } from "../harness/load.js";

const run = promisify(execFile);
const env = process.env;
const root = path.join(import.meta.dirname, "..", "..");
const settings = {
  rounds: Number(env.AB_ROUNDS ?? 3),
  durationS: Number(env.AB_DURATION_S ?? 4),
  profiles: Number(env.AB_PROFILES ?? 100_000),
  rpcs: (env.AB_RPCS ?? "GetProfile,BatchGetProfiles").split(","),
  port: Number(env.AB_PORT ?? 19_101),
  natsUrl: env.AB_NATS_URL ?? "",
  logLevel: env.AB_LOG_LEVEL ?? "info",
  databaseUrl: env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  /** Load A and B at the same time (each its own h2load): both see the same drift. */
  simultaneous: env.AB_SIMULTANEOUS === "1",
  /**
   * Random ids on every call (bench/harness/load.ts as the client) instead of one body repeated by
   * h2load: calls in flight together then share no ids.
   */
  variedIds: env.AB_VARIED_IDS === "1",
};
const secret = randomBytes(32).toString("hex");
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const randomId = () => idOf(1 + Math.floor(Math.random() * settings.profiles));
const cleanups: Array<() => Promise<unknown>> = [];

/** The directory holding `dist/` for one side: as given, or a git revision exported and built. */
async function buildOf(side: string): Promise<string> {
  if (side === "obvious" || existsSync(path.join(side, "dist", "main.js"))) return side;
  const dir = await mkdtemp(path.join(os.tmpdir(), "ab-build-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await run("sh", ["-c", `git -C "${root}" archive "${side}" | tar -x -C "${dir}"`]);
  await symlink(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  await run("npm", ["run", "--silent", "build"], { cwd: dir });
  return dir;
}

async function psql(url: URL, sql: string): Promise<void> {
  await run("psql", [url.toString(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
}

async function startServer(side: string, port: number, databaseUrl: string): Promise<ChildProcess> {
  const child =
    side === "obvious"
      ? spawn(
          "node",
          ["--import", "tsx", "bench/reference/obvious-server.ts", `${port}`, databaseUrl],
          {
            cwd: root,
            stdio: ["ignore", "ignore", "inherit"],
          },
        )
      : spawn("node", ["dist/main.js"], {
          cwd: side,
          env: {
            ...env,
            PORT: `${port}`,
            HOST: "127.0.0.1",
            DATABASE_URL: databaseUrl,
            JWT_SECRET: secret,
            NATS_URL: settings.natsUrl,
            LOG_LEVEL: settings.logLevel,
          },
          stdio: ["ignore", "ignore", "inherit"],
        });
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });
  // Both kinds answer gRPC on the port; a TCP connect is the common readiness test.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(socket.end() !== undefined));
      socket.once("error", () => resolve(false));
    });
    if (listening) break;
    if (Date.now() > deadline) throw new Error(`${side} did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (side !== "obvious") {
    while (
      !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return child;
}

/** CPU time (user + system) a process has used so far, in seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 1/100 s on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * h2load, 4 connections × 4 streams: requests per second, and the server's CPU time per call in
 * µs over the measured seconds (after the warm-up). The CPU figure is the steadier one on a
 * shared machine: other processes take throughput from the server, much less CPU per call.
 */
async function h2load(url: string, bodyFile: string, token: string, pid: number) {
  const warmUpMs = 1000;
  const cpuAfterWarmUp = new Promise<number>((resolve) =>
    setTimeout(() => resolve(cpuSeconds(pid)), warmUpMs),
  );
  const { stdout } = await run(
    "h2load",
    [
      "-c4",
      "-m4",
      `-D${settings.durationS * 1000}ms`,
      `--warm-up-time=${warmUpMs}ms`,
      `-d${bodyFile}`,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "-H",
      `authorization: Bearer ${token}`,
      url,
    ],
    { maxBuffer: 1 << 24 },
  );
  const failed = Number(/(\d+) failed, (\d+) errored/.exec(stdout)?.[1] ?? 0);
  const cpu = (await cpuSeconds(pid)) - (await cpuAfterWarmUp);
  if (failed > 0) throw new Error(`h2load: ${failed} requests failed against ${url}`);
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? Number.NaN);
  return { rps: Math.round(rps), cpuMicros: Math.round((cpu * 1e6) / (rps * settings.durationS)) };
}

/** A request of `rpc` for random ids: one, or 100 distinct ones. */
function randomBody(rpc: string): Uint8Array {
  if (rpc === "GetProfile") {
    return toBinary(
      GetProfileRequestSchema,
      create(GetProfileRequestSchema, { userId: randomId() }),
    );
  }
  const ids = new Set<string>();
  while (ids.size < 100) ids.add(randomId());
  return toBinary(
    BatchGetProfilesRequestSchema,
    create(BatchGetProfilesRequestSchema, { userIds: [...ids] }),
  );
}

/**
 * The same load as `h2load`, from bench/harness/load.ts with a different body on each call, so that
 * calls in flight together do not ask for the same ids (h2load sends one body).
 */
async function variedLoad(
  port: number,
  rpc: string,
  bodies: readonly Buffer[],
  token: string,
  pid: number,
) {
  const warmUpMs = 1000;
  const cpuAfterWarmUp = new Promise<number>((resolve) =>
    setTimeout(() => resolve(cpuSeconds(pid)), warmUpMs),
  );
  const result = await runLoad({
    origin: `http://127.0.0.1:${port}`,
    path: `/realchat.profile.v1.ProfileApi/${rpc}`,
    headers: { authorization: `Bearer ${token}` },
    bodies,
    connections: 4,
    streamsPerConnection: 4,
    durationMs: settings.durationS * 1000,
    warmUpMs,
  });
  const cpu = (await cpuSeconds(pid)) - (await cpuAfterWarmUp);
  if (result.errors > 0) throw new Error(`${result.errors} calls failed on port ${port}`);
  const rps = result.requests / result.seconds;
  return { rps: Math.round(rps), cpuMicros: Math.round((cpu * 1e6) / result.requests) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const [sideA, sideB] = process.argv.slice(2);
  if (sideA === undefined || sideB === undefined) {
    throw new Error("usage: tsx bench/scenarios/ab.ts <A: dir|git revision|obvious> <B: same>");
  }
  const sides = [await buildOf(sideA), await buildOf(sideB)];
  const admin = new URL(settings.databaseUrl);
  const database = `ab_${randomBytes(4).toString("hex")}`;
  await psql(admin, `CREATE DATABASE ${database}`);
  const databaseUrl = new URL(settings.databaseUrl);
  databaseUrl.pathname = `/${database}`;
  cleanups.push(() => psql(admin, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  const work = await mkdtemp(path.join(os.tmpdir(), "ab-"));
  cleanups.push(() => rm(work, { recursive: true, force: true }));

  const migrator = sides.find((side) => side !== "obvious") ?? root;
  await run("node", [path.join(migrator, "dist", "migrate.js")], {
    cwd: migrator,
    env: { ...env, DATABASE_URL: `${databaseUrl}`, JWT_SECRET: secret, LOG_LEVEL: "warn" },
  });
  await psql(
    databaseUrl,
    `SET session_replication_role = replica;
     INSERT INTO profiles (user_id, display_name, avatar_url, bio)
     SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'User ' || n,
            'https://cdn.example/avatars/' || n || '.png', 'The bio of user number ' || n
     FROM generate_series(1, ${settings.profiles}) AS n;
     ANALYZE profiles;`,
  );
  const ports = [settings.port, settings.port + 1];
  const pids: number[] = [];
  for (const [i, side] of sides.entries()) {
    pids.push((await startServer(side ?? "", ports[i] ?? 0, `${databaseUrl}`)).pid ?? 0);
  }
  const token = await signHs256Token({
    secret,
    subject: "bench",
    scopes: ["profile:admin"],
    issuer: "realchat-auth",
    audience: "realchat-clients",
    expiresIn: "2h",
  });
  process.stdout.write(
    `A = ${sideA}, B = ${sideB}; ${settings.rounds} × ${settings.durationS} s, ` +
      `${settings.simultaneous ? "both at once" : "alternated"}` +
      `${settings.variedIds ? ", random ids on every call (bench/harness/load.ts)" : ", h2load"}\n`,
  );
  for (const rpc of settings.rpcs) {
    if (rpc !== "GetProfile" && rpc !== "BatchGetProfiles") {
      throw new Error(`AB_RPCS: GetProfile or BatchGetProfiles, not ${rpc}`);
    }
    const body = randomBody(rpc);
    const bodyFile = path.join(work, rpc);
    await writeFile(bodyFile, grpcFrame(body));
    // h2load counts a gRPC error (HTTP 200) as success: each side must answer OK first.
    for (const port of ports) {
      const check = await runLoad({
        origin: `http://127.0.0.1:${port}`,
        path: `/realchat.profile.v1.ProfileApi/${rpc}`,
        headers: { authorization: `Bearer ${token}` },
        bodies: [grpcFrame(body)],
        connections: 1,
        durationMs: 200,
        warmUpMs: 0,
        streamsPerConnection: 1,
      });
      if (check.errors > 0 || check.requests === 0) throw new Error(`${rpc} fails on port ${port}`);
    }
    const rates: [number[], number[]] = [[], []];
    const cpu: [number[], number[]] = [[], []];
    const variedBodies = Array.from({ length: 1000 }, () => grpcFrame(randomBody(rpc)));
    const measure = (i: 0 | 1) =>
      settings.variedIds
        ? variedLoad(ports[i] ?? 0, rpc, variedBodies, token, pids[i] ?? 0)
        : h2load(
            `http://127.0.0.1:${ports[i]}/realchat.profile.v1.ProfileApi/${rpc}`,
            bodyFile,
            token,
            pids[i] ?? 0,
          );
    for (let round = 0; round < settings.rounds; round++) {
      // Alternated, A first in even rounds and B first in odd ones; or both at once.
      const results = settings.simultaneous
        ? await Promise.all([measure(0), measure(1)])
        : round % 2 === 0
          ? [await measure(0), await measure(1)]
          : [await measure(1), await measure(0)].reverse();
      for (const i of [0, 1] as const) {
        rates[i].push(results[i]?.rps ?? Number.NaN);
        cpu[i].push(results[i]?.cpuMicros ?? Number.NaN);
      }
    }
    const ratios = (values: [number[], number[]], of: (a: number, b: number) => number) =>
      median(values[0].map((a, round) => of(a, values[1][round] ?? Number.NaN))).toFixed(2);
    process.stdout.write(
      `${rpc} req/s: A ${rates[0].join(" / ")}, B ${rates[1].join(" / ")}; ` +
        `median of each round's B ÷ A = ${ratios(rates, (a, b) => b / a)}\n` +
        `${rpc} CPU µs per call: A ${cpu[0].join(" / ")}, B ${cpu[1].join(" / ")}; ` +
        `median of each round's A ÷ B = ${ratios(cpu, (a, b) => a / b)}\n`,
    );
  }
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}
