// npm run bench's settings, from the environment (bench/README.md, "npm run bench").
import path from "node:path";
import { resultsDir } from "../harness/results.js";

const env = process.env;

export const smoke = env.BENCH_SMOKE === "1";
export const settings = {
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
  /** The service's LOG_LEVEL: info, as in production. */
  logLevel: env.BENCH_LOG_LEVEL ?? "info",
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
  jsonFile: env.BENCH_JSON ?? path.join(resultsDir, "bench-results.json"),
};

export const streams = settings.connections * settings.streamsPerConnection;
/** The load column of the closed-loop rows. */
export const closedLoop = `${streams} streams`;
export const api = "/realchat.profile.v1.ProfileApi";

/** What every h2load row shares: closed loop, `streams` calls in flight. */
export const h2loadShape = {
  connections: settings.connections,
  streamsPerConnection: settings.streamsPerConnection,
  durationS: settings.durationS,
  warmUpS: settings.warmUpS,
} as const;

/** What every row of the Node load generator (`runLoad`) shares. */
export const loadShape = {
  connections: settings.connections,
  durationMs: settings.durationS * 1000,
  warmUpMs: settings.warmUpS * 1000,
} as const;
