import type { CacheMemoryResult } from "./memory.js";
import type { VisibilityResult } from "./visibility.js";

/** One measured row of the table. */
export interface Row {
  readonly scenario: string;
  readonly driver: string;
  readonly load: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The profile cache's hits / lookups over the row, on the service's rows (cache-metrics.ts). */
  readonly hitRatio?: string;
}

/** How the rows are named, so that the targets find them. */
export const scenarios = {
  get: "GetProfile",
  batch: "BatchGetProfiles (100 ids)",
  update: "UpdateProfile",
  /** The realistic mix of issue 12, over Zipf-distributed ids (bench/README.md). */
  zipfMix: "Zipf mix: 95 % BatchGetProfiles (100 ids), 5 % UpdateProfile",
  batchSql: "BatchGetProfiles SQL (100 ids)",
  updateSql: "UpdateProfile SQL (upsert + outbox trigger)",
  transport: "trivial RPC (Health/Check)",
  grpcJs: "trivial RPC, @grpc/grpc-js reference",
} as const;
/** Who answered a row, after its scenario: `${scenario}, ${variant}`. */
export const variants = {
  warm: "cache warm",
  off: "cache off",
  obvious: "obvious server (grpc-js + pg)",
} as const;

export interface Measured {
  readonly rows: readonly Row[];
  /** The main (cache-warm) service's RSS over its rows, sampled. */
  readonly servicePeakRssMiB: number;
  readonly visibility: VisibilityResult;
  readonly memory: CacheMemoryResult;
  /** PROFILE_CACHE_MAX_BYTES of the instances. */
  readonly cacheBudgetBytes: number;
}

export interface Target {
  readonly issue: string;
  readonly measure: string;
  readonly value: number;
  /** e.g. ">= 2.0", "<= 10". */
  readonly target: string;
  /** What the value was computed from, e.g. "5100 / 2400 req/s". */
  readonly from: string;
  readonly met: boolean;
}

/** The targets of issue 12 ("Targets"), then the earlier ones the README keeps. */
export function targets(measured: Measured): Target[] {
  const { rows, visibility, memory } = measured;
  const row = (scenario: string, driver?: string) =>
    rows.find((r) => r.scenario === scenario && (driver === undefined || r.driver === driver));
  const ratio = (a: Row | undefined, b: Row | undefined) => ({
    value: a === undefined || b === undefined || b.rps === 0 ? Number.NaN : round(a.rps / b.rps),
    from: `${a?.rps ?? "?"} / ${b?.rps ?? "?"} req/s`,
  });
  const p99 = (r: Row | undefined) => ({ value: r?.p99 ?? Number.NaN, from: r?.scenario ?? "?" });
  const { warm, off, obvious } = variants;
  const h2 = "h2load";
  const getWarm = row(`${scenarios.get}, ${warm}`, h2);
  const batchWarm = row(`${scenarios.batch}, ${warm}`, h2);
  const settled = memory.rounds.map((r) => r.settledMiB);
  const firstSettled = settled[0] ?? Number.NaN;
  const budgetMiB = measured.cacheBudgetBytes / 2 ** 20;
  const list: Array<Omit<Target, "met">> = [
    {
      issue: "12",
      measure: "GetProfile, cache warm / obvious server",
      ...ratio(getWarm, row(`${scenarios.get}, ${obvious}`)),
      target: ">= 2.0",
    },
    {
      issue: "12",
      measure: "BatchGetProfiles (100 ids), cache warm / obvious server",
      ...ratio(batchWarm, row(`${scenarios.batch}, ${obvious}`)),
      target: ">= 3.0",
    },
    {
      issue: "12",
      measure: "BatchGetProfiles (100 ids), cache warm / pgbench, same query and concurrency",
      ...ratio(batchWarm, row(scenarios.batchSql)),
      target: ">= 1.0",
    },
    {
      issue: "12",
      measure: "BatchGetProfiles (100 ids), cache warm, p99 at 16 streams (ms)",
      ...p99(batchWarm),
      target: "<= 10",
    },
    {
      issue: "12",
      measure: "Zipf mix, cache warm / obvious server",
      ...ratio(row(`${scenarios.zipfMix}, ${warm}`), row(`${scenarios.zipfMix}, ${obvious}`)),
      target: ">= 2.0",
    },
    {
      issue: "12",
      measure: "GetProfile, cache off / obvious server",
      ...ratio(row(`${scenarios.get}, ${off}`, h2), row(`${scenarios.get}, ${obvious}`)),
      target: ">= 1.0",
    },
    {
      issue: "12",
      measure: "BatchGetProfiles (100 ids), cache off / obvious server",
      ...ratio(row(`${scenarios.batch}, ${off}`, h2), row(`${scenarios.batch}, ${obvious}`)),
      target: ">= 1.0",
    },
    {
      issue: "12",
      measure: "cross-instance visibility p99 (ms)",
      value: visibility.p99,
      from: `${visibility.updates} updates, ${visibility.timeouts} timeouts (counted as the timeout)`,
      target: "<= 50",
    },
    {
      issue: "12",
      measure: "peak RSS with the cache full (MiB)",
      value: Math.max(...memory.rounds.map((r) => r.peakMiB)),
      from: `VmHWM; cache budget ${round(budgetMiB)} MiB + 200`,
      target: `<= ${round(budgetMiB + 200)}`,
    },
    {
      issue: "12",
      measure: "settled RSS growth, first round to last (%)",
      value: round((100 * ((settled.at(-1) ?? Number.NaN) - firstSettled)) / firstSettled),
      from: `settled ${settled.join(", ")} MiB`,
      target: "<= 10",
    },
    {
      issue: "earlier",
      measure: "BatchGetProfiles / database limit",
      ...ratio(batchWarm, row(scenarios.batchSql)),
      target: ">= 0.5",
    },
    {
      issue: "earlier",
      measure: "BatchGetProfiles p99 at 16 streams (ms)",
      ...p99(batchWarm),
      target: "< 20",
    },
    {
      issue: "earlier",
      measure: "transport limit / @grpc/grpc-js",
      ...ratio(row(scenarios.transport), row(scenarios.grpcJs)),
      target: ">= 0.5",
    },
    {
      issue: "earlier",
      measure: "GetProfile / transport limit",
      ...ratio(getWarm, row(scenarios.transport)),
      target: ">= 0.7",
    },
    {
      issue: "earlier",
      measure: "GetProfile p99 at 16 streams (ms)",
      ...p99(getWarm),
      target: "< 10",
    },
    {
      issue: "earlier",
      measure: "UpdateProfile / database limit",
      ...ratio(row(`${scenarios.update}, ${warm}`, "node http2"), row(scenarios.updateSql)),
      target: ">= 0.5",
    },
    {
      issue: "earlier",
      measure: "service peak RSS (MiB)",
      value: measured.servicePeakRssMiB,
      from: "the cache-warm service over its rows",
      target: "< 250",
    },
  ];
  return list.map((target) => ({ ...target, met: meets(target.value, target.target) }));
}

function meets(value: number, target: string): boolean {
  const [op, bound] = target.split(" ") as [string, string];
  if (op === ">=") return value >= Number(bound);
  if (op === "<=") return value <= Number(bound);
  return value < Number(bound);
}

const round = (value: number) => Math.round(value * 100) / 100;
