// The targets npm run bench checks its rows against: issue 12's, then the earlier ones the
// README keeps (bench/README.md, "What the figures mean"). A missed target is printed, not failed.
import type { CacheMemoryResult } from "./memory.js";
import { type Row, scenarios, variants } from "./rows.js";
import type { VisibilityResult } from "./visibility.js";

export interface Measured {
  readonly rows: readonly Row[];
  /** The main (cache-warm) service's RSS over its rows, sampled. */
  readonly servicePeakRssMiB: number;
  readonly visibility: VisibilityResult;
  readonly memory: CacheMemoryResult;
  /** PROFILE_CACHE_MAX_BYTES of the instances. */
  readonly cacheBudgetBytes: number;
}

/** A measured value and what it was computed from, e.g. the two req/s of a ratio. */
interface Measure {
  readonly value: number;
  readonly from: string;
}

export interface Target {
  readonly issue: string;
  readonly measure: string;
  readonly value: number;
  /** e.g. ">= 2.0", "<= 10". */
  readonly target: string;
  /** What the value was computed from, e.g. "<req/s of one row> / <of the other> req/s". */
  readonly from: string;
  readonly met: boolean;
}

/** The targets of issue 12 ("Targets"), then the earlier ones the README keeps. */
export function targets(measured: Measured): Target[] {
  const { rows, visibility, memory } = measured;
  // The closed-loop rows (16 streams, or 16 pgbench clients), not the fixed-rate ones.
  const row = (scenario: string) =>
    rows.find((r) => r.scenario === scenario && !r.load.endsWith("req/s"));
  const ratio = (a: Row | undefined, b: Row | undefined): Measure => ({
    value: a === undefined || b === undefined || b.rps === 0 ? Number.NaN : round(a.rps / b.rps),
    from: `${a?.rps ?? "?"} / ${b?.rps ?? "?"} req/s`,
  });
  const p99 = (r: Row | undefined): Measure => ({
    value: r?.p99 ?? Number.NaN,
    from: r?.scenario ?? "?",
  });
  const { warm, off, obvious } = variants;
  const getWarm = row(`${scenarios.get}, ${warm}`);
  const batchWarm = row(`${scenarios.batch}, ${warm}`);
  const settled = memory.rounds.map((r) => r.settledMiB);
  const firstSettled = settled[0] ?? Number.NaN;
  const budgetMiB = measured.cacheBudgetBytes / 2 ** 20;
  const visibilityValue = {
    value: visibility.p99,
    from: `${visibility.updates} updates, ${visibility.timeouts} timeouts (counted as the timeout)`,
  };
  const peakValue = {
    value: Math.max(...memory.rounds.map((r) => r.peakMiB)),
    from: `VmHWM; cache budget ${round(budgetMiB)} MiB + 200`,
  };
  const growthValue = {
    value: round((100 * ((settled.at(-1) ?? Number.NaN) - firstSettled)) / firstSettled),
    from: `settled ${settled.join(", ")} MiB`,
  };
  const list: Array<[issue: string, measure: string, Measure, target: string]> = [
    [
      "12",
      "GetProfile, cache warm / obvious server",
      ratio(getWarm, row(`${scenarios.get}, ${obvious}`)),
      ">= 2.0",
    ],
    [
      "12",
      "BatchGetProfiles (100 ids), cache warm / obvious server",
      ratio(batchWarm, row(`${scenarios.batch}, ${obvious}`)),
      ">= 3.0",
    ],
    [
      "12",
      "BatchGetProfiles (100 ids), cache warm / pgbench, same query and concurrency",
      ratio(batchWarm, row(scenarios.batchSql)),
      ">= 1.0",
    ],
    [
      "12",
      "BatchGetProfiles (100 ids), cache warm, p99 at 16 streams (ms)",
      p99(batchWarm),
      "<= 10",
    ],
    [
      "12",
      "Zipf mix, cache warm / obvious server",
      ratio(row(`${scenarios.zipfMix}, ${warm}`), row(`${scenarios.zipfMix}, ${obvious}`)),
      ">= 2.0",
    ],
    [
      "12",
      "GetProfile, cache off / obvious server",
      ratio(row(`${scenarios.get}, ${off}`), row(`${scenarios.get}, ${obvious}`)),
      ">= 1.0",
    ],
    [
      "12",
      "BatchGetProfiles (100 ids), cache off / obvious server",
      ratio(row(`${scenarios.batch}, ${off}`), row(`${scenarios.batch}, ${obvious}`)),
      ">= 1.0",
    ],
    ["12", "cross-instance visibility p99 (ms)", visibilityValue, "<= 50"],
    ["12", "peak RSS with the cache full (MiB)", peakValue, `<= ${round(budgetMiB + 200)}`],
    ["12", "settled RSS growth, first round to last (%)", growthValue, "<= 10"],
    // The earlier targets the README keeps; issue 12's supersede its batch ratio and p99.
    [
      "earlier",
      "transport limit / @grpc/grpc-js",
      ratio(row(scenarios.transport), row(scenarios.grpcJs)),
      ">= 0.5",
    ],
    [
      "earlier",
      "GetProfile, cache warm / transport limit",
      ratio(getWarm, row(scenarios.transport)),
      ">= 0.7",
    ],
    ["earlier", "GetProfile, cache warm, p99 at 16 streams (ms)", p99(getWarm), "< 10"],
    [
      "earlier",
      "UpdateProfile, cache warm / database limit",
      ratio(row(`${scenarios.update}, ${warm}`), row(scenarios.updateSql)),
      ">= 0.5",
    ],
    [
      "earlier",
      "service peak RSS (MiB)",
      { value: measured.servicePeakRssMiB, from: "the cache-warm service over its rows" },
      "< 250",
    ],
  ];
  return list.map(([issue, measure, { value, from }, target]) => ({
    issue,
    measure,
    value,
    target,
    from,
    met: meets(value, target),
  }));
}

function meets(value: number, target: string): boolean {
  const [op, bound] = target.split(" ") as [string, string];
  if (op === ">=") return value >= Number(bound);
  if (op === "<=") return value <= Number(bound);
  return value < Number(bound);
}

const round = (value: number) => Math.round(value * 100) / 100;
