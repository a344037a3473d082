// npm run bench: BatchGetProfiles, GetProfile and UpdateProfile against the limits the service
// cannot beat and the obvious server, measured in the same run on the same machine (see
// bench/README.md). This file starts and stops the servers; the rows are the scenarios'.
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { adminToken, bearer } from "../harness/auth.js";
import { createDatabase, migrate, seededId, seedProfiles } from "../harness/database.js";
import { cacheMetrics } from "../harness/metrics.js";
import { sampleRss } from "../harness/proc.js";
import {
  build,
  type RunningService,
  requireTool,
  startScript,
  startService,
  stopProcess,
} from "../harness/processes.js";
import { requestBodies } from "./bodies.js";
import { measureFixedRate, measureReads, measureUpdates } from "./cache-rows.js";
import { measureDatabaseLimit } from "./database-limit.js";
import { benchGraph, graphBenchTable } from "./graph.js";
import { measureCacheMemory } from "./memory.js";
import { benchPeople, peopleOptions } from "./people.js";
import { peopleBenchTable } from "./people-report.js";
import { report } from "./report.js";
import { type Bench, rows } from "./rows.js";
import { requireObviousAnswersLikeService } from "./same-answers.js";
import { settings, smoke } from "./settings.js";
import { targets } from "./targets.js";
import { measureGrpcJsReference, measureTransport } from "./transport.js";
import { measureVisibility } from "./visibility.js";
import { measureZipfMix, zipfMix } from "./zipf-mix.js";

async function main(): Promise<void> {
  await requireTool("h2load", "apt-get install nghttp2-client");
  await requireTool("pgbench", "apt-get install postgresql-client");
  await build();

  const database = await createDatabase(settings.databaseUrl, "bench");
  const port = 18_400 + Math.floor(Math.random() * 500);
  const originOf = (n: number) => `http://127.0.0.1:${port + n}`;
  const running: RunningService[] = [];
  const start = async (n: number, env: Record<string, string>, natsUrl = settings.natsUrl) => {
    const service = await startService({
      port: port + n,
      databaseUrl: database.url,
      natsUrl,
      logLevel: settings.logLevel,
      nodeOptions: settings.serviceNodeOptions,
      env,
    });
    running.push(service);
    return service;
  };
  let obvious: ChildProcess | undefined;
  try {
    process.stderr.write(`seeding ${settings.profiles} profiles\n`);
    await migrate(database.url);
    await seedProfiles(database.url, settings.profiles);

    // The instances of the rows: the cache on (warm once read), and the same with it off; and one
    // with the direct unary gRPC path off, for the trivial call through Connect's own handler.
    const warm = await start(0, { PROFILE_CACHE_ENABLED: "true" });
    const off = await start(3, { PROFILE_CACHE_ENABLED: "false" });
    const connectOnly = await start(1, { GRPC_UNARY_FAST_PATH: "false" }, "");
    const rss = sampleRss(warm.pid, 250);
    const serving = await cacheMetrics(warm.origin);
    process.stderr.write(
      serving === undefined
        ? "the service exports no profile_cache_* metrics: cache rows measure no cache, hit ratio n/a\n"
        : `profile cache serving: ${serving.serving ? "yes" : "NO (warm rows will miss)"}\n`,
    );

    const token = await adminToken();
    const bench: Bench = {
      warm: warm.origin,
      off: off.origin,
      connectOnly: connectOnly.origin,
      obvious: originOf(2),
      auth: bearer(token),
      bodies: requestBodies(settings.profiles),
    };
    const mix = zipfMix(settings.profiles);
    // The obvious server (bench/README.md), on the same database, idle except for its rows; it
    // must answer like the service first.
    obvious = await startScript(
      path.join(import.meta.dirname, "..", "reference", "obvious-server.ts"),
      [String(port + 2), `${database.url}`],
    );
    await requireObviousAnswersLikeService(
      [warm.origin, off.origin],
      bench.obvious,
      token,
      bench.bodies,
    );

    const afterRound: number[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      process.stderr.write(`measuring (round ${round} of ${settings.rounds})\n`);
      await measureTransport(bench);
      await measureReads(bench);
      await measureUpdates(bench, round);
      await measureZipfMix(bench, mix, round);
      await measureFixedRate(bench, round);
      afterRound.push(rss.lastMiB());
    }
    const serviceRss = { peakMiB: rss.peakMiB(), endMiB: rss.lastMiB(), afterRound };
    rss.stop();
    for (const service of [off, connectOnly]) await service.stop();
    await stopProcess(obvious);

    // Two instances on one database and one broker: a fresh one (B) first fills its cache with
    // every profile for the memory rounds, then serves the reads of the visibility rows while
    // the service (A) takes the updates.
    process.stderr.write("cache memory and cross-instance visibility\n");
    const reader = await start(4, { PROFILE_CACHE_ENABLED: "true" });
    const memory = await measureCacheMemory({
      origin: reader.origin,
      pid: reader.pid,
      headers: bench.auth,
      fillBodies: bench.bodies.batchesOver(1, settings.profiles),
      dryBodies: bench.bodies.batchesOver(settings.profiles + 1, settings.profiles),
      rounds: settings.memoryRounds,
      settleMs: settings.settleMs,
    });
    const visibility = await measureVisibility({
      writer: warm.origin,
      reader: reader.origin,
      headers: bench.auth,
      userIds: Array.from({ length: settings.visibilityUpdates }, (_, i) =>
        seededIdAt(i, settings.profiles),
      ),
      timeoutMs: settings.visibilityTimeoutMs,
    });
    for (const service of [reader, warm]) await service.stop();

    await measureDatabaseLimit(database.url, bench.bodies);
    await measureGrpcJsReference(port + 500);

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
    for (const service of running) await service.stop();
    await stopProcess(obvious);
    await database.drop().catch(() => {});
  }
}

/** The i-th profile of the visibility rows: spread over the table, 7919 (a prime) apart. */
const seededIdAt = (i: number, profiles: number) => seededId(1 + ((i * 7919) % profiles));

await main();

// Issue 13, kept apart from the rows above: the social graph's rows beside their pgbench SQL.
process.stdout.write(
  `\nSocial graph (bench/scenarios/graph.ts)\n${graphBenchTable(await benchGraph(settings))}\n`,
);

// Issue 21: finding people, on a seed of its own (reused across runs): SearchProfiles beside
// pgbench of its SQL, ResolveHandle beside GetProfile.
const people = await benchPeople(peopleOptions(process.env, smoke));
process.stdout.write(`\nFind people (bench/scenarios/people.ts)\n${peopleBenchTable(people)}\n`);
if (people.errors.length > 0) throw new Error(`people: calls failed:\n${people.errors.join("\n")}`);
