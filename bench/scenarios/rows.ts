// The rows of npm run bench's table: how they are named, recorded, and measured on a service
// instance (a warm-up pass first, the cache's hit ratio and the calls the service counted as
// failed over the row).
import { h2load } from "../harness/h2load.js";
import { type LoadResult, sendEach, summarize } from "../harness/load.js";
import { failedCalls, withHitRatio } from "../harness/metrics.js";
import type { RequestBodies } from "./bodies.js";
import { api, closedLoop, h2loadShape } from "./settings.js";

/** One measured row of the table. */
export interface Row {
  readonly scenario: string;
  readonly driver: string;
  readonly load: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The profile cache's hits / lookups over the row, on the service's rows (harness/metrics.ts). */
  readonly hitRatio?: string;
  /** The failed calls the service counted over the row, e.g. "UpdateProfile Unavailable ×3". */
  readonly failures?: string;
}

/** How the rows are named, so that the targets find them. */
export const scenarios = {
  get: "GetProfile",
  batch: "BatchGetProfiles (100 ids)",
  update: "UpdateProfile",
  /** The realistic mix of issue 12, over Zipf-distributed ids (bench/README.md). */
  zipfMix: "Zipf mix: 95 % BatchGetProfiles (100 ids), 5 % UpdateProfile",
  getSql: "GetProfile SQL",
  batchSql: "BatchGetProfiles SQL (100 ids)",
  updateSql: "UpdateProfile SQL (upsert + outbox trigger)",
  transport: "trivial RPC (Health/Check)",
  connectHandler: "trivial RPC, Connect's gRPC handler (GRPC_UNARY_FAST_PATH=false)",
  grpcJs: "trivial RPC, @grpc/grpc-js reference",
} as const;
/** Who answered a row, after its scenario: `${scenario}, ${variant}`. */
export const variants = {
  warm: "cache warm",
  off: "cache off",
  obvious: "obvious server (grpc-js + pg)",
} as const;

/** What the scenarios of one run share: the servers, the caller's token, the request bodies. */
export interface Bench {
  /** The service's instances (cache warm, cache off, the direct gRPC path off), the obvious server. */
  readonly warm: string;
  readonly off: string;
  readonly connectOnly: string;
  readonly obvious: string;
  /** The authorization header of a service token (scope profile:admin). */
  readonly auth: Readonly<Record<string, string>>;
  readonly bodies: RequestBodies;
}

export const rows: Row[] = [];

/** Adds a row to the table, and says so on stderr. */
export function record(row: Row): void {
  rows.push(row);
  const hits = row.hitRatio === undefined ? "" : `, cache hits ${row.hitRatio}`;
  process.stderr.write(`  ${row.scenario} [${row.driver}, ${row.load}]: ${row.rps} req/s${hits}\n`);
}

/** An h2load row: closed loop, `streams` calls of `body` in flight; errors are its failures. */
export async function h2loadRow(
  scenario: string,
  url: string,
  body: Buffer,
  headers: Readonly<Record<string, string>>,
): Promise<Row> {
  const result = await h2load({ ...h2loadShape, url, body, headers });
  // `failed` stays in the table beside `errors`, which adds what the service counted.
  return { scenario, driver: "h2load", load: closedLoop, ...result, errors: result.failed };
}

/** A row of the Node load generator (harness/load.ts): errors are the calls not answered OK. */
export function loadRow(scenario: string, load: string, result: LoadResult): Row {
  return { scenario, driver: "node http2", load, ...summarize(result) };
}

/**
 * Records a row on one of the service's instances: a warm-up pass over the ids it reads first
 * (on both instances alike), then the measurement with the cache's hit ratio over it, and the
 * failed calls the service counted.
 */
export async function serviceRow(
  at: string,
  auth: Readonly<Record<string, string>>,
  warmUp: readonly Buffer[],
  measure: () => Promise<Row>,
): Promise<void> {
  const failed = await sendEach(at, `${api}/BatchGetProfiles`, auth, warmUp);
  if (failed > 0) throw new Error(`${failed} calls of the warm-up pass failed on ${at}`);
  const before = await failedCalls(at);
  const { result, hitRatio } = await withHitRatio(at, measure);
  const failures = [...(await failedCalls(at))]
    .map(([call, count]) => [call, count - (before.get(call) ?? 0)] as const)
    .filter(([, count]) => count > 0);
  // h2load counts gRPC errors as successes (they travel in HTTP 200 answers): the service's
  // count adds them. harness/load.ts counts them itself.
  const serviceCounted = failures.reduce((sum, [, count]) => sum + count, 0);
  record({
    ...result,
    errors: result.errors + (result.driver === "h2load" ? serviceCounted : 0),
    hitRatio,
    failures:
      [result.failures, ...failures.map(([call, count]) => `${call} ×${count}`)]
        .filter((failure) => failure !== undefined)
        .join(", ") || undefined,
  });
}
