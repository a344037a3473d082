// npm run bench's report: the table, the memory rounds, visibility and the targets on stdout,
// and all of it as JSON.
import { machine, writeResults } from "../harness/results.js";
import type { CacheMemoryResult } from "./memory.js";
import type { Row } from "./rows.js";
import type { Target } from "./targets.js";
import type { VisibilityResult } from "./visibility.js";

export interface Results {
  readonly smoke: boolean;
  readonly settings: {
    readonly profiles: number;
    readonly durationS: number;
    readonly warmUpS: number;
    readonly connections: number;
    readonly streamsPerConnection: number;
    readonly ratePerSecond: number;
    readonly serviceNodeOptions: string;
    readonly jsonFile: string;
  } & Readonly<Record<string, unknown>>;
  readonly rows: readonly Row[];
  /** The cache-warm service's RSS over its rows, in MiB. */
  readonly serviceRss: { peakMiB: number; endMiB: number; afterRound: number[] };
  readonly visibility: VisibilityResult;
  readonly memory: CacheMemoryResult;
  readonly targets: readonly Target[];
}

/**
 * Prints the rows, the memory rounds, visibility and the targets, and writes them all to the
 * JSON file. Returns what went wrong (calls that failed: wrong, not slow); a missed target is
 * not an error.
 */
export async function report(results: Results): Promise<string[]> {
  const { settings, rows, memory, visibility, serviceRss } = results;
  const { cores, cpu, memoryGiB } = machine();
  const streams = settings.connections * settings.streamsPerConnection;
  process.stdout.write(
    `\nProfile service benchmark${results.smoke ? " (SMOKE: tiny, not for comparison)" : ""}\n` +
      `machine: ${cores} cores (${cpu}), ${memoryGiB} GiB, ` +
      `Node ${process.version}; load generator, database and service share the cores\n` +
      `run: ${settings.profiles} profiles, ${settings.durationS} s per measurement after ` +
      `${settings.warmUpS} s warm-up, ${streams} streams (${settings.connections} connections × ` +
      `${settings.streamsPerConnection}), fixed rate ${settings.ratePerSecond} req/s, ` +
      `service NODE_OPTIONS "${settings.serviceNodeOptions}"\n\n`,
  );
  console.table(rows.map(({ failures, ...row }) => ({ ...row, hitRatio: row.hitRatio ?? "" })));
  process.stdout.write(
    `service RSS: peak ${serviceRss.peakMiB} MiB, at the end ${serviceRss.endMiB} MiB; ` +
      `after each round: ${serviceRss.afterRound.join(", ")} MiB\n\n` +
      `cache memory: a fresh instance, ${memory.startMiB} MiB before the first fill ` +
      `(after a dry pass; cache entries then: ${memory.startEntries ?? "n/a"}); ` +
      `bytes per cached profile: ${memory.cacheBytesPerProfile ?? "n/a"} by the cache's count, ` +
      `${memory.rssBytesPerProfile ?? "n/a"} by RSS growth\n`,
  );
  console.table(
    memory.rounds.map((round, i) => ({
      round: i + 1,
      "RSS after fill (MiB)": round.rssMiB,
      "peak VmHWM (MiB)": round.peakMiB,
      "settled RSS (MiB)": round.settledMiB,
      "cache entries": round.entries ?? "n/a",
      "cache MiB": round.cacheMiB ?? "n/a",
    })),
  );
  process.stdout.write(
    `\ncross-instance visibility (update on A, read on B until seen): ` +
      `${visibility.updates} updates, p50 ${visibility.p50} ms, p99 ${visibility.p99} ms, ` +
      `max ${visibility.max} ms, ${visibility.timeouts} timeouts, ${visibility.errors} errors; ` +
      `${visibility.readsPerUpdate} reads of B per update\n\n`,
  );
  console.table(
    results.targets.map(({ issue, measure, value, target, from, met }) => ({
      issue,
      measure,
      value,
      target,
      met: met ? "yes" : "NO",
      from,
    })),
  );
  const file = await writeResults(settings.jsonFile, {
    when: new Date().toISOString(),
    machine: machine(),
    ...results,
  });
  process.stdout.write(`results: ${file}\n`);
  return [
    ...rows
      .filter((row) => row.errors > 0)
      .map((row) => `${row.errors} errors: ${row.scenario} (${row.failures ?? "no detail"})`),
    ...(visibility.errors > 0 ? [`${visibility.errors} errors in the visibility rows`] : []),
    ...(memory.errors > 0 ? [`${memory.errors} failed calls filling the cache`] : []),
  ];
}
