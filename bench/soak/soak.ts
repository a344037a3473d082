// npm run soak: the production build on PostgreSQL with NATS under a fixed-rate mixed load for
// SOAK_MINUTES (default 5) or SOAK_SECONDS, while the database connections are killed twice, the
// broker restarts once and one attacker of each kind runs at a low rate. Prints errors by code,
// p50/p99 latency and RSS per minute, the attackers' results and the end checks; exits 1 on any
// breach. See README.md, "Soak".
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import pg from "pg";
import { z } from "zod";
import { testAuth, tokenFor } from "../../tests/support/auth.js";
import { withAdminClient } from "../../tests/support/databases.js";
import { testDatabaseUrl } from "../../tests/support/environment.js";
import { freePort, startNatsServer, storedEvents } from "../../tests/support/nats.js";
import { latencySummary } from "../harness/stats.js";
import { type AttackKind, type AttackReport, attackKinds, runAttackers } from "./attacks.js";
import { type CallRecord, runLegitimateLoad } from "./load.js";
import { type StoredProfile, verifyEvents, verifyUpdates } from "./verify.js";

const run = promisify(execFile);

const positive = z.coerce.number().positive();
const variables = z.object({
  SOAK_MINUTES: positive.default(5),
  SOAK_SECONDS: positive.optional(),
  SOAK_RATE: positive.default(200),
  SOAK_PROFILES: z.coerce.number().int().min(2000).default(10_000),
  SOAK_WRITERS: z.coerce.number().int().min(1).max(1000).default(1000),
  SOAK_ATTACKS: z.string().default("all"),
  SOAK_HEALTHZ_MAX_MS: positive.default(1000),
  SOAK_RSS_GROWTH_MIB: positive.default(150),
  SOAK_UNAVAILABLE_WINDOW_MS: positive.default(2000),
  SOAK_DRAIN_S: positive.default(60),
  // README "Memory": the heap flags a deployment sets to keep RSS flat; without them V8 grows its
  // heap lazily for minutes, which the RSS check could not tell from a leak.
  SOAK_SERVICE_NODE_OPTIONS: z
    .string()
    .default("--max-semi-space-size=16 --max-old-space-size=192"),
});

function readSettings() {
  const present = Object.fromEntries(
    Object.entries(process.env).filter(
      // Empty counts as unset, except for NODE_OPTIONS, where it means none.
      ([name, value]) =>
        name.startsWith("SOAK_") && (value !== "" || name === "SOAK_SERVICE_NODE_OPTIONS"),
    ),
  );
  const parsed = variables.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${String(issue.path[0])}: ${issue.message}`,
    );
    throw new Error(`invalid soak settings: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const requested = e.SOAK_ATTACKS.split(",").map((name) => name.trim());
  const attacks: AttackKind[] =
    e.SOAK_ATTACKS === "all"
      ? [...attackKinds]
      : e.SOAK_ATTACKS === "none"
        ? []
        : requested.map((name) => {
            const kind = attackKinds.find((known) => known === name);
            if (kind === undefined) {
              throw new Error(
                `invalid soak settings: SOAK_ATTACKS: unknown attack "${name}" (all, none, or a list of ${attackKinds.join(", ")})`,
              );
            }
            return kind;
          });
  const seconds = e.SOAK_SECONDS ?? e.SOAK_MINUTES * 60;
  return {
    seconds,
    /** Rows of the table: a minute, or 10 s in runs shorter than two minutes. */
    intervalS: seconds >= 120 ? 60 : 10,
    rate: e.SOAK_RATE,
    profiles: e.SOAK_PROFILES,
    writers: e.SOAK_WRITERS,
    attacks,
    healthzMaxMs: e.SOAK_HEALTHZ_MAX_MS,
    rssGrowthMiB: e.SOAK_RSS_GROWTH_MIB,
    unavailableWindowMs: e.SOAK_UNAVAILABLE_WINDOW_MS,
    drainS: e.SOAK_DRAIN_S,
    serviceNodeOptions: e.SOAK_SERVICE_NODE_OPTIONS,
  };
}

const settings = readSettings();
const seededId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const isSeeded = (userId: string) => userId.startsWith("00000000-0000-4000-8000-");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rounded = (ms: number) => Math.round(ms * 10) / 10;

/** Samples the service's resident memory every second. */
function watchRss(pid: number) {
  const samples: { at: number; mib: number }[] = [];
  const timer = setInterval(async () => {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    if (kib > 0) samples.push({ at: performance.now(), mib: kib / 1024 });
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

/**
 * GET /healthz every 250 ms, each bounded to 10 s, from a worker thread of its own: the soak's
 * main thread drives the load and the attackers, and its event-loop delay must not count as the
 * service's.
 */
function probeHealth(origin: string) {
  const probes: { at: number; ms: number; ok: boolean }[] = [];
  const worker = new Worker(healthProbeSource, { eval: true, workerData: { origin } });
  worker.on("message", (probe: { atEpochMs: number; ms: number; ok: boolean }) => {
    probes.push({ at: probe.atEpochMs - performance.timeOrigin, ms: probe.ms, ok: probe.ok });
  });
  const done = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    probes,
    stop: async () => {
      worker.postMessage("stop");
      await done;
    },
  };
}

/** The probe loop, as plain JavaScript for the worker. */
const healthProbeSource = `
const { parentPort, workerData } = require("node:worker_threads");
let running = true;
parentPort.once("message", () => { running = false; });
(async () => {
  while (running) {
    const start = performance.now();
    const ok = await fetch(workerData.origin + "/healthz", { signal: AbortSignal.timeout(10000) }).then(
      async (response) => { await response.arrayBuffer(); return response.ok; },
      () => false,
    );
    parentPort.postMessage({ atEpochMs: performance.timeOrigin + start, ms: performance.now() - start, ok });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.exit(0);
})();
`;

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Total RPCs the service counted per procedure, from its /metrics. */
async function countedCalls(origin: string): Promise<Map<string, number>> {
  const text = await (
    await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(30_000) })
  ).text();
  const counted = new Map<string, number>();
  for (const match of text.matchAll(
    /^profile_rpc_requests_total\{procedure="([^"]+)",code="[^"]+"\} (\d+)/gm,
  )) {
    counted.set(match[1] ?? "", (counted.get(match[1] ?? "") ?? 0) + Number(match[2]));
  }
  return counted;
}

/**
 * A profile's stored version (0 if none), on a connection of its own: the soak's database kills
 * end every connection to the database but the killer's.
 */
async function storedVersion(url: string, userId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => {});
    try {
      await client.connect();
      const { rows } = await client.query("SELECT version FROM profiles WHERE user_id = $1", [
        userId,
      ]);
      return Number(rows[0]?.version ?? 0);
    } catch (error) {
      // A database kill of the soak's own may hit this connection too: try again, a few times.
      if (attempt === 5) throw error;
      await sleep(500);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

async function stopService(child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!stopped) {
    child.kill("SIGKILL");
    await exited;
  }
  return stopped;
}

/** Rows of equal keys as a plain text table, numbers right-aligned. */
function plainTable(rows: readonly Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? "")));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => (line[i] ?? "").length)),
  );
  const line = (values: readonly string[], numeric: (i: number) => boolean) =>
    values
      .map((value, i) =>
        numeric(i) ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0),
      )
      .join(" | ")
      .trimEnd();
  const isNumber = (i: number) => typeof rows[0]?.[columns[i] ?? ""] === "number";
  return [
    line(columns, isNumber),
    widths.map((width) => "-".repeat(width)).join("-|-"),
    ...cells.map((values) => line(values, isNumber)),
  ].join("\n");
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
  const stamp = when.replace(/[:.]/g, "-");
  await mkdir("bench/results", { recursive: true });
  const logFile = `bench/results/soak-${stamp}.service.log`;
  process.stderr.write("building: npm run build\n");
  await run("npm", ["run", "--silent", "build"]);

  const database = `soak_${randomBytes(4).toString("hex")}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${database}`));
  cleanups.push(() =>
    withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)),
  );
  const databaseUrl = new URL(testDatabaseUrl);
  databaseUrl.pathname = `/${database}`;
  const nats = await startNatsServer();
  cleanups.push(() => nats.dispose());
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const sql = new pg.Client({ connectionString: databaseUrl.toString() });
  let service: ChildProcess | undefined;
  cleanups.push(async () => {
    await sql.end().catch(() => {});
    if (service !== undefined) await stopService(service);
  });
  try {
    const serviceEnv = {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl.toString(),
      JWT_SECRET: testAuth.secret,
      JWT_ISSUER: testAuth.issuer,
      JWT_AUDIENCE: testAuth.audience,
      NATS_URL: nats.url,
      LOG_LEVEL: "info",
      NODE_OPTIONS: settings.serviceNodeOptions,
    };
    await run("node", ["dist/migrate.js"], { env: { ...serviceEnv, LOG_LEVEL: "warn" } });
    await sql.connect();
    sql.on("error", () => {});
    process.stderr.write(`seeding ${settings.profiles} profiles in ${database}\n`);
    // Without the outbox triggers: seeded profiles (version 1) have no event.
    await sql.query(`SET session_replication_role = replica;
      INSERT INTO profiles (user_id, display_name, bio)
      SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'User ' || n, 'seed ' || n
      FROM generate_series(1, ${settings.profiles}) AS n;
      SET session_replication_role = origin;
      ANALYZE profiles;`);
    await sql.end();

    const log = createWriteStream(logFile);
    service = spawn("node", ["dist/main.js"], {
      env: serviceEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    service.stdout?.pipe(log);
    service.stderr?.pipe(log);
    await waitFor(
      async () => (await fetch(`${origin}/readyz`)).ok,
      "the service getting ready",
      30_000,
    );
    const pid = service.pid ?? 0;
    const idleRss =
      Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

    const expiresIn = `${Math.ceil(settings.seconds) + 3600}s`;
    const tokens = await Promise.all(
      Array.from({ length: settings.writers }, (_, i) => tokenFor(seededId(i + 1), { expiresIn })),
    );

    const durationMs = settings.seconds * 1000;
    let stopped = false;
    const answered = new Map<string, number>();
    const busy: { kind: string; start: number; end: number }[] = [];
    const faults: { what: string; at: number; end: number }[] = [];
    const rss = watchRss(pid);
    const health = probeHealth(origin);
    const start = performance.now();
    process.stderr.write(
      `soak: ${settings.seconds} s at ${settings.rate} req/s, attacks: ${settings.attacks.join(", ") || "none"}\n`,
    );

    const killDatabaseConnections = async () => {
      const at = performance.now();
      const { rowCount } = await withAdminClient((client) =>
        client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [database],
        ),
      );
      faults.push({ what: `killed ${rowCount} database connections`, at, end: performance.now() });
    };
    const restartBroker = async () => {
      const at = performance.now();
      await nats.stop();
      await sleep(2000);
      await nats.start();
      faults.push({ what: "restarted the broker (down 2 s)", at, end: performance.now() });
    };
    const faultsDone = Promise.all([
      sleep(durationMs * 0.3).then(killDatabaseConnections),
      sleep(durationMs * 0.5).then(restartBroker),
      sleep(durationMs * 0.7).then(killDatabaseConnections),
    ]);
    const attacking = runAttackers(
      {
        origin,
        port,
        secret: testAuth.secret ?? "",
        issuer: testAuth.issuer,
        audience: testAuth.audience,
        tokenFor: (userId) => tokenFor(userId, { expiresIn }),
        victimUserId: seededId(settings.profiles),
        seededId,
        profiles: settings.profiles,
        durationMs,
        stopped: () => stopped,
        versionOf: (userId) => storedVersion(databaseUrl.toString(), userId),
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
    const verifier = new pg.Client({ connectionString: databaseUrl.toString() });
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
    const stoppedCleanly = await stopService(service);
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

interface Outcome {
  when: string;
  logFile: string;
  start: number;
  calls: CallRecord[];
  /** The first message the legitimate load got with each error code. */
  messages: Map<string, string>;
  updatesCheck: { summary: string; breaches: string[] };
  eventsCheck: { summary: string; breaches: string[] };
  undrained: number;
  drainS: number;
  attackReports: AttackReport[] | undefined;
  faults: { what: string; at: number; end: number }[];
  busy: { kind: string; start: number; end: number }[];
  probes: { at: number; ms: number; ok: boolean }[];
  rssSamples: { at: number; mib: number }[];
  idleRss: number;
  answered: Map<string, number>;
  counted: Map<string, number>;
  stoppedCleanly: boolean;
}

async function report(o: Outcome): Promise<number> {
  const breaches: string[] = [];
  const secondsOf = (at: number) => rounded((at - o.start) / 1000);
  const kills = o.faults
    .filter((fault) => fault.what.startsWith("killed"))
    .map((fault) => fault.at);

  // Legitimate errors: UNAVAILABLE only for calls in flight within the window after a kill.
  const allowed = (call: CallRecord) =>
    call.code === "UNAVAILABLE" &&
    kills.some((kill) => call.endAt >= kill && call.dueAt <= kill + settings.unavailableWindowMs);
  const errorsByCode: Record<string, { allowed: number; breach: number }> = {};
  for (const call of o.calls) {
    if (call.code === "OK") continue;
    const entry = errorsByCode[call.code] ?? { allowed: 0, breach: 0 };
    if (allowed(call)) entry.allowed += 1;
    else entry.breach += 1;
    errorsByCode[call.code] = entry;
  }
  for (const [code, { breach }] of Object.entries(errorsByCode)) {
    const example = o.messages.get(code) ? ` (first: "${o.messages.get(code)}")` : "";
    if (breach > 0) {
      breaches.push(
        code === "UNAVAILABLE"
          ? `legitimate load: ${breach} UNAVAILABLE outside ${settings.unavailableWindowMs} ms after a database kill${example}`
          : `legitimate load: ${breach} ${code}${example}`,
      );
    }
  }

  // Per interval: requests, latency from when each call was due, errors, peak RSS.
  const intervalMs = settings.intervalS * 1000;
  const intervals = Math.max(1, Math.ceil((settings.seconds * 1000) / intervalMs));
  const table = Array.from({ length: intervals }, (_, i) => {
    const from = o.start + i * intervalMs;
    const to = from + intervalMs;
    const calls = o.calls.filter((call) => call.dueAt >= from && call.dueAt < to);
    const { p50, p99 } = latencySummary(calls.map((call) => call.endAt - call.dueAt));
    const errors: Record<string, number> = {};
    for (const call of calls)
      if (call.code !== "OK") errors[call.code] = (errors[call.code] ?? 0) + 1;
    const rss = o.rssSamples.filter((sample) => sample.at >= from && sample.at < to);
    return {
      [settings.intervalS === 60 ? "minute" : "from s"]:
        settings.intervalS === 60 ? i + 1 : i * settings.intervalS,
      requests: calls.length,
      "p50 ms": p50,
      "p99 ms": p99,
      "RSS MiB": Math.round(Math.max(0, ...rss.map((sample) => sample.mib))),
      errors:
        Object.entries(errors)
          .map(([code, n]) => `${code} ${n}`)
          .join(", ") || "-",
    };
  });
  const rssPeaks = table.map((row) => row["RSS MiB"] ?? 0);
  const baseline = rssPeaks[0] ?? 0;
  const laterPeak = Math.max(0, ...rssPeaks.slice(1));
  if (rssPeaks.length > 1 && laterPeak > baseline + settings.rssGrowthMiB) {
    breaches.push(
      `RSS grew from ${baseline} MiB (first ${settings.intervalS} s) to ${laterPeak} MiB, more than ${settings.rssGrowthMiB} MiB (SOAK_RSS_GROWTH_MIB)`,
    );
  }

  // /healthz: every probe answered 200 within the bound; say what was going on when it was slow.
  const slow = o.probes.filter((probe) => !probe.ok || probe.ms > settings.healthzMaxMs);
  const healthSummary = latencySummary(o.probes.map((probe) => probe.ms));
  if (slow.length > 0) {
    // Attacker calls that began before the slow probe and were still running when it began,
    // oldest first: the one that started the stall leads the list.
    const during = (probe: { at: number; ms: number }) => {
      const earliest = new Map<string, number>();
      for (const b of o.busy) {
        if (b.start <= probe.at && b.end >= probe.at) {
          earliest.set(b.kind, Math.min(earliest.get(b.kind) ?? b.start, b.start));
        }
      }
      const end = probe.at + probe.ms;
      const kinds = new Set(
        [...earliest]
          .sort((a, b) => a[1] - b[1])
          .slice(0, 3)
          .map(([kind, from]) => `${kind} (from ${rounded((from - probe.at) / 1000)} s)`),
      );
      for (const fault of o.faults) {
        if (fault.at < end && fault.end + 2000 > probe.at) kinds.add(fault.what);
      }
      return [...kinds].join(", ") || "nothing in particular";
    };
    const shown = [...slow]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(
        (probe) =>
          `${probe.ok ? `${Math.round(probe.ms)} ms` : "failed"} at ${secondsOf(probe.at)} s (in flight: ${during(probe)})`,
      );
    breaches.push(
      `/healthz: ${slow.length} of ${o.probes.length} probes slower than ${settings.healthzMaxMs} ms or failed, worst: ${shown.join("; ")}`,
    );
  }

  // Every call the service answered is counted in its metrics (malformed ones too).
  const uncounted: string[] = [];
  const answered = new Map(o.answered);
  for (const call of o.calls) {
    if (
      call.code === "UNAVAILABLE" ||
      call.code === "DEADLINE_EXCEEDED" ||
      call.code === "CANCELED"
    )
      continue;
    const procedure = `realchat.profile.v1.ProfileApi/${call.procedure}`;
    answered.set(procedure, (answered.get(procedure) ?? 0) + 1);
  }
  for (const [procedure, n] of answered) {
    const counted = o.counted.get(procedure) ?? 0;
    if (counted < n) uncounted.push(`${procedure}: ${n} answered, ${counted} counted`);
  }
  if (uncounted.length > 0) {
    breaches.push(`calls answered but missing from /metrics: ${uncounted.join("; ")}`);
  }

  breaches.push(...o.updatesCheck.breaches, ...o.eventsCheck.breaches);
  if (o.undrained > 0) {
    breaches.push(
      `${o.undrained} outbox events still unpublished ${settings.drainS} s after the load`,
    );
  }
  if (!o.stoppedCleanly) breaches.push("the service did not exit within 20 s of SIGTERM");
  if (o.attackReports === undefined)
    breaches.push("the attackers did not stop within 30 s of the end");
  const attackerBreaches = (o.attackReports ?? []).flatMap((r) =>
    r.breaches.map((text) => `attack ${r.item} (${r.kind}): ${text}`),
  );
  breaches.push(...attackerBreaches);

  const log = await readFile(o.logFile, "utf8").catch(() => "");
  const overflowWarnings = log
    .split("\n")
    .filter((line) => line.includes("TimeoutOverflowWarning")).length;
  if (overflowWarnings > 0)
    breaches.push(`${overflowWarnings} TimeoutOverflowWarning lines in the service log`);

  const out = (text = "") => process.stdout.write(`${text}\n`);
  out();
  out(
    `Soak: ${settings.seconds} s at ${settings.rate} req/s (80 % BatchGetProfiles(100), 15 % GetProfile, 5 % UpdateProfile), ${settings.profiles} profiles, ${settings.writers} writers; ${os.cpus().length} cores, Node ${process.version}`,
  );
  out(
    `service: node dist/main.js (NODE_OPTIONS "${settings.serviceNodeOptions}") on PostgreSQL and its own nats-server; RSS idle ${Math.round(o.idleRss)} MiB`,
  );
  out(`faults: ${o.faults.map((fault) => `${fault.what} at ${secondsOf(fault.at)} s`).join("; ")}`);
  out(plainTable(table));
  out(
    `errors by code (legitimate load): ${
      Object.entries(errorsByCode)
        .map(
          ([code, n]) =>
            `${code} ${n.allowed + n.breach} (${n.allowed} within ${settings.unavailableWindowMs} ms of a database kill)`,
        )
        .join(", ") || "none"
    }`,
  );
  out(
    `/healthz: ${o.probes.length} probes, p50 ${healthSummary.p50} ms, p99 ${healthSummary.p99} ms, max ${healthSummary.max} ms (bound ${settings.healthzMaxMs} ms)`,
  );
  out();
  out(
    `attacks (SOAK_ATTACKS=${settings.attacks.length === attackKinds.length ? "all" : settings.attacks.join(",") || "none"}):`,
  );
  for (const r of o.attackReports ?? []) {
    const outcomes = Object.entries(r.outcomes)
      .map(([k, n]) => `${k} ×${n}`)
      .join(", ");
    out(`  ${r.item}. ${r.kind}: ${r.what}`);
    out(`     rule: ${r.rule}`);
    out(`     ${r.calls} calls: ${outcomes || "-"}`);
    for (const note of r.notes) out(`     ${note}`);
    out(`     ${r.breaches.length === 0 ? "held" : `BREACH: ${r.breaches.join("; ")}`}`);
  }
  out(
    "  11. two instances on one embedded data directory: not applicable (this soak runs on PostgreSQL)",
  );
  out("  12. Node 20: not applicable (the soak runs the service on the Node that runs it)");
  out();
  out(`acknowledged updates: ${o.updatesCheck.summary}`);
  out(
    `events: ${o.eventsCheck.summary}; outbox drained in ${o.drainS.toFixed(1)} s (${o.undrained} left)`,
  );
  out(`service log: ${o.logFile}`);
  out();
  const results = {
    when: o.when,
    settings,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    table,
    errorsByCode,
    healthz: healthSummary,
    faults: o.faults.map((fault) => ({ what: fault.what, atS: secondsOf(fault.at) })),
    attacks: o.attackReports ?? null,
    updates: o.updatesCheck,
    events: o.eventsCheck,
    breaches,
    passed: breaches.length === 0,
  };
  const file = `bench/results/soak-${o.when.replace(/[:.]/g, "-")}.json`;
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  out(`results: ${file}`);
  if (breaches.length === 0) {
    out("soak passed");
    return 0;
  }
  out(`soak FAILED: ${breaches.length} breaches`);
  for (const text of breaches) out(`  - ${text}`);
  return 1;
}

const deadline = setTimeout(
  () => void abort("still running 10 minutes after its end: giving up"),
  (settings.seconds + 600) * 1000,
);
deadline.unref();
// Exit rather than wait: attackers' and clients' sockets are closed, but not all at once.
process.exit(await main());
