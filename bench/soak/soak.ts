// npm run soak: the production build on PostgreSQL with NATS under a fixed-rate mixed load for
// SOAK_MINUTES (default 5) or SOAK_SECONDS, while the database connections are killed twice, the
// broker restarts once and one attacker of each kind runs at a low rate. Prints errors by code,
// p50/p99 latency and RSS per minute, the attackers' results and the end checks; exits 1 on any
// breach. See README.md, "Soak", and bench/README.md, "npm run soak".
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import pg from "pg";
import { testDatabaseUrl } from "../../tests/support/environment.js";
import { freePort, startNatsServer, storedEvents } from "../../tests/support/nats.js";
import { benchAuth, benchToken } from "../harness/auth.js";
import {
  createDatabase,
  isSeeded,
  migrate,
  seededId,
  seedProfiles,
  sql,
} from "../harness/database.js";
import { countedCalls } from "../harness/metrics.js";
import { processMemory, sampleRss } from "../harness/proc.js";
import { build, type RunningService, sleep, startService, waitFor } from "../harness/processes.js";
import { resultsDir, resultsFile } from "../harness/results.js";
import { runAttackers } from "./attackers.js";
import { scheduleFaults } from "./faults.js";
import { probeHealth } from "./health-probe.js";
import { runLegitimateLoad } from "./load.js";
import { report } from "./report.js";
import { settings } from "./settings.js";
import { type StoredProfile, verifyEvents, verifyUpdates } from "./verify.js";

/**
 * A profile's stored version (0 if none), on a connection of its own: the soak's database kills
 * end every connection to the database but the killer's.
 */
async function storedVersion(url: URL, userId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await sql(url, "SELECT version FROM profiles WHERE user_id = $1", [userId]);
      return Number(rows[0]?.version ?? 0);
    } catch (error) {
      // A database kill of the soak's own may hit this connection too: try again, a few times.
      if (attempt === 5) throw error;
      await sleep(500);
    }
  }
}

/** What to undo however the soak ends: the service, the broker, the database. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => {});
}
let aborting = false;
const abort = async (reason: string) => {
  process.stderr.write(`soak: ${reason}\n`);
  if (aborting) return;
  aborting = true;
  await cleanUp();
  process.exit(2);
};
process.on("uncaughtException", (error) => void abort(`unexpected error: ${error.stack}`));
process.on("SIGINT", () => void abort("interrupted"));

async function main(): Promise<number> {
  const when = new Date().toISOString();
  const logFile = resultsFile("soak", when, "service.log");
  await mkdir(resultsDir, { recursive: true });
  await build();

  const database = await createDatabase(testDatabaseUrl, "soak");
  cleanups.push(() => database.drop());
  const nats = await startNatsServer();
  cleanups.push(() => nats.dispose());
  const port = await freePort();
  let service: RunningService | undefined;
  cleanups.push(async () => service?.stop());
  try {
    await migrate(database.url);
    process.stderr.write(`seeding ${settings.profiles} profiles in ${database.name}\n`);
    await seedProfiles(database.url, settings.profiles);

    service = await startService({
      port,
      databaseUrl: database.url,
      natsUrl: nats.url,
      nodeOptions: settings.serviceNodeOptions,
      log: createWriteStream(logFile),
      readyTimeoutMs: 30_000,
    });
    const { origin, pid } = service;
    const idleRss = (await processMemory(pid)).rss / 2 ** 20;

    const expiresIn = `${Math.ceil(settings.seconds) + 3600}s`;
    const tokens = await Promise.all(
      Array.from({ length: settings.writers }, (_, i) =>
        benchToken(seededId(i + 1), { expiresIn }),
      ),
    );

    const durationMs = settings.seconds * 1000;
    let stopped = false;
    const answered = new Map<string, number>();
    const busy: { kind: string; start: number; end: number }[] = [];
    const rss = sampleRss(pid, 1000);
    const health = probeHealth(origin);
    const start = performance.now();
    process.stderr.write(
      `soak: ${settings.seconds} s at ${settings.rate} req/s, attacks: ${settings.attacks.join(", ") || "none"}\n`,
    );

    const { faults, done: faultsDone } = scheduleFaults({
      serverUrl: testDatabaseUrl,
      database: database.name,
      nats,
      durationMs,
    });
    const attacking = runAttackers(
      {
        origin,
        port,
        secret: benchAuth.secret,
        issuer: benchAuth.issuer,
        audience: benchAuth.audience,
        tokenFor: (userId) => benchToken(userId, { expiresIn }),
        victimUserId: seededId(settings.profiles),
        seededId,
        profiles: settings.profiles,
        durationMs,
        stopped: () => stopped,
        versionOf: (userId) => storedVersion(database.url, userId),
        answered: (procedure) => answered.set(procedure, (answered.get(procedure) ?? 0) + 1),
        busy: (kind, from, to) => busy.push({ kind, start: from, end: to }),
      },
      settings.attacks,
    );
    const load = await runLegitimateLoad({
      origin,
      ratePerSecond: settings.rate,
      durationMs,
      profiles: settings.profiles,
      writers: settings.writers,
      seededId,
      tokens,
    });
    stopped = true;
    const attackReports = await Promise.race([attacking, sleep(30_000).then(() => undefined)]);
    await faultsDone;
    await health.stop();
    rss.stop();
    const verifier = new pg.Client({ connectionString: database.url.toString() });
    await verifier.connect();

    // The relay must catch up on what waited while the broker was away.
    process.stderr.write("load done; waiting for the outbox to drain\n");
    const pending = async () =>
      Number(
        (await verifier.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"))
          .rows[0]?.n,
      );
    const drainStart = performance.now();
    await waitFor(
      async () => (await pending()) === 0,
      "the outbox draining",
      settings.drainS * 1000,
    ).catch(() => {});
    const undrained = await pending();
    const drainS = (performance.now() - drainStart) / 1000;
    const rows = (
      await verifier.query<{ user_id: string; bio: string; version: number }>(
        `SELECT user_id::text, bio, version FROM profiles
         WHERE version > 1 OR user_id::text NOT LIKE '00000000-0000-4000-8000-%'`,
      )
    ).rows;
    await verifier.end();
    const stored = new Map<string, StoredProfile>(
      rows.map((row) => [row.user_id, { userId: row.user_id, bio: row.bio, version: row.version }]),
    );
    const events = await storedEvents(nats.url);
    const counted = await countedCalls(origin);
    const stoppedCleanly = await service.stop();
    service = undefined;

    return await report({
      when,
      logFile,
      start,
      calls: load.calls,
      messages: load.messages,
      updatesCheck: verifyUpdates(load.updates, stored),
      eventsCheck: verifyEvents(events, stored, isSeeded, load.updates),
      undrained,
      drainS,
      attackReports,
      faults,
      busy,
      probes: health.probes,
      rssSamples: rss.samples,
      idleRss,
      answered,
      counted,
      stoppedCleanly,
    });
  } finally {
    await cleanUp();
  }
}

const deadline = setTimeout(
  () => void abort("still running 10 minutes after its end: giving up"),
  (settings.seconds + 600) * 1000,
);
deadline.unref();
// Exit rather than wait: attackers' and clients' sockets are closed, but not all at once.
process.exit(await main());
