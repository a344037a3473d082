// Alternated A/B of two builds (bench/README.md, "Lean path"): one seeded PostgreSQL database,
// both servers up side by side, h2load rounds A B A B … against each; medians of req/s (B ÷ A)
// and of the server process's CPU time per call (A ÷ B: above 1 when B is cheaper).
//
//   tsx bench/scenarios/ab.ts <A> <B>
//
// A side is a directory holding a production build (`dist/main.js`, e.g. a checkout after
// `npm run build`), a git revision (exported to a temporary directory and built there, with this
// checkout's node_modules), or `obvious` (bench/reference/obvious-server.ts). Knobs: AB_ROUNDS
// (3), AB_DURATION_S (4 per round, after 1 s of warm-up), AB_PROFILES (100000), AB_RPCS
// (GetProfile,BatchGetProfiles), AB_PORT (19101: A there, B on the next port), AB_NATS_URL
// (empty: no events), AB_LOG_LEVEL (info), AB_SIMULTANEOUS, AB_VARIED_IDS, TEST_DATABASE_URL.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken, bearer } from "../harness/auth.js";
import { createDatabase, migrate, seededId, seedProfiles } from "../harness/database.js";
import { h2load } from "../harness/h2load.js";
import { grpcMessage, runLoad } from "../harness/load.js";
import { cpuSeconds } from "../harness/proc.js";
import { build, root, startScript, startService, stopProcess } from "../harness/processes.js";
import { median } from "../harness/stats.js";

const run = promisify(execFile);
const env = process.env;
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
   * Random ids on every call (bench/harness/load.ts as the client) instead of one body repeated
   * by h2load: calls in flight together then share no ids.
   */
  variedIds: env.AB_VARIED_IDS === "1",
};
/** Connections × streams of every round, and the warm-up before its measured seconds. */
const shape = { connections: 4, streamsPerConnection: 4, warmUpMs: 1000 };
const randomId = () => seededId(1 + Math.floor(Math.random() * settings.profiles));
const cleanups: Array<() => Promise<unknown>> = [];

/** The directory holding `dist/` for one side: as given, or a git revision exported and built. */
async function buildOf(side: string): Promise<string> {
  if (side === "obvious" || existsSync(path.join(side, "dist", "main.js"))) return side;
  const dir = await mkdtemp(path.join(os.tmpdir(), "ab-build-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await run("sh", ["-c", `git -C "${root}" archive "${side}" | tar -x -C "${dir}"`]);
  await symlink(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  await build(dir);
  return dir;
}

/** Starts one side on `port`; its process id, for its CPU time. */
async function startSide(side: string, port: number, databaseUrl: URL): Promise<number> {
  if (side === "obvious") {
    const file = path.join(import.meta.dirname, "..", "reference", "obvious-server.ts");
    const child = await startScript(file, [`${port}`, `${databaseUrl}`]);
    cleanups.push(() => stopProcess(child));
    return child.pid ?? 0;
  }
  const service = await startService({
    port,
    databaseUrl,
    natsUrl: settings.natsUrl,
    logLevel: settings.logLevel,
    buildDir: side,
  });
  cleanups.push(() => service.stop());
  return service.pid;
}

/**
 * Requests per second of `load`, and the server's CPU time per call in µs over the measured
 * seconds (after the warm-up). The CPU figure is the steadier one on a shared machine: other
 * processes take throughput from the server, much less CPU per call.
 */
async function measured(pid: number, load: () => Promise<{ rps: number; calls: number }>) {
  const cpuAfterWarmUp = new Promise<number>((resolve) =>
    setTimeout(() => resolve(cpuSeconds(pid)), shape.warmUpMs),
  );
  const { rps, calls } = await load();
  const cpu = (await cpuSeconds(pid)) - (await cpuAfterWarmUp);
  return { rps: Math.round(rps), cpuMicros: Math.round((cpu * 1e6) / calls) };
}

/** A request of `rpc` for random ids: one, or 100 distinct ones. */
function randomBody(rpc: string): Buffer {
  if (rpc === "GetProfile") return grpcMessage(GetProfileRequestSchema, { userId: randomId() });
  const ids = new Set<string>();
  while (ids.size < 100) ids.add(randomId());
  return grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...ids] });
}

async function main(): Promise<void> {
  const [sideA, sideB] = process.argv.slice(2);
  if (sideA === undefined || sideB === undefined) {
    throw new Error("usage: tsx bench/scenarios/ab.ts <A: dir|git revision|obvious> <B: same>");
  }
  const sides = [await buildOf(sideA), await buildOf(sideB)] as const;
  const database = await createDatabase(settings.databaseUrl, "ab");
  cleanups.push(() => database.drop());
  await migrate(database.url, sides.find((side) => side !== "obvious") ?? root);
  await seedProfiles(database.url, settings.profiles);
  const ports = [settings.port, settings.port + 1] as const;
  const pids = [
    await startSide(sides[0], ports[0], database.url),
    await startSide(sides[1], ports[1], database.url),
  ] as const;
  const auth = bearer(await adminToken());
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
    const method = `/realchat.profile.v1.ProfileApi/${rpc}`;
    const origin = (i: 0 | 1) => `http://127.0.0.1:${ports[i]}`;
    const load = { path: method, headers: auth, durationMs: settings.durationS * 1000 };
    // h2load counts a gRPC error (HTTP 200) as success: each side must answer OK first.
    for (const i of [0, 1] as const) {
      const check = await runLoad({
        ...load,
        origin: origin(i),
        bodies: [body],
        connections: 1,
        streamsPerConnection: 1,
        durationMs: 200,
        warmUpMs: 0,
      });
      if (check.errors > 0 || check.requests === 0) throw new Error(`${rpc} fails on ${origin(i)}`);
    }
    const rates: [number[], number[]] = [[], []];
    const cpu: [number[], number[]] = [[], []];
    const variedBodies = Array.from({ length: 1000 }, () => randomBody(rpc));
    const measure = (i: 0 | 1) =>
      measured(pids[i], async () => {
        if (settings.variedIds) {
          const result = await runLoad({
            ...shape,
            ...load,
            origin: origin(i),
            bodies: variedBodies,
          });
          if (result.errors > 0) throw new Error(`${result.errors} calls failed on ${origin(i)}`);
          return { rps: result.requests / result.seconds, calls: result.requests };
        }
        const { rps, failed } = await h2load({
          ...shape,
          url: `${origin(i)}${method}`,
          body,
          headers: auth,
          durationS: settings.durationS,
          warmUpS: shape.warmUpMs / 1000,
          latencies: false,
        });
        if (failed > 0) throw new Error(`h2load: ${failed} requests failed against ${origin(i)}`);
        return { rps, calls: rps * settings.durationS };
      });
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
