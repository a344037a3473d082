import type { ProfileCacheStats } from "../../src/profile/live/cache.js";
import { scrape } from "../../tests/support/metrics.js";

/** The profile cache's gauges and counters from one scrape of /metrics (issue 12). */
export type CacheMetrics = ProfileCacheStats;

/**
 * The cache's metrics on the instance at `origin`, or undefined when it exports none (a build
 * without the cache): the rows then print "n/a" rather than fail.
 */
export async function cacheMetrics(origin: string): Promise<CacheMetrics | undefined> {
  const sample = await scrape(origin);
  try {
    return {
      hits: sample("profile_cache_hits_total"),
      misses: sample("profile_cache_misses_total"),
      evictions: sample("profile_cache_evictions_total"),
      entries: sample("profile_cache_entries"),
      bytes: sample("profile_cache_bytes"),
      serving: sample("profile_cache_serving") === 1,
    };
  } catch {
    return undefined;
  }
}

/**
 * Measures the cache around `work`: the hit ratio over it (hits / lookups, per profile looked
 * up), "n/a" without cache metrics, "no lookups" when nothing was looked up.
 */
export async function withHitRatio<T>(
  origin: string,
  work: () => Promise<T>,
): Promise<{ result: T; hitRatio: string }> {
  const before = await cacheMetrics(origin);
  const result = await work();
  const after = await cacheMetrics(origin);
  return { result, hitRatio: formatHitRatio(before, after) };
}

function formatHitRatio(before?: CacheMetrics, after?: CacheMetrics): string {
  if (before === undefined || after === undefined) return "n/a";
  const hits = after.hits - before.hits;
  const lookups = hits + after.misses - before.misses;
  return lookups === 0 ? "no lookups" : `${((100 * hits) / lookups).toFixed(1)} %`;
}

/** One sample of profile_rpc_requests_total: calls a procedure ended with a code, so far. */
export interface RpcCount {
  /** e.g. "realchat.profile.v1.ProfileApi/GetProfile" */
  readonly procedure: string;
  /** e.g. "ok", "NotFound", "Canceled" */
  readonly code: string;
  readonly count: number;
}

/** The service's RPC counters, from one scrape of its /metrics. */
export async function rpcCounts(origin: string): Promise<RpcCount[]> {
  const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(30_000) });
  return [
    ...(await response.text()).matchAll(
      /^profile_rpc_requests_total\{procedure="([^"]+)",code="([^"]+)"\} (\d+)/gm,
    ),
  ].map(([, procedure = "", code = "", count]) => ({ procedure, code, count: Number(count) }));
}

/**
 * Failed calls the service counted, by method and code ("GetProfile NotFound"). Canceled calls
 * are left out: h2load resets the streams still in flight when its time is up.
 */
export async function failedCalls(origin: string): Promise<Map<string, number>> {
  const failed = new Map<string, number>();
  for (const { procedure, code, count } of await rpcCounts(origin)) {
    if (code !== "ok" && code !== "Canceled") {
      failed.set(`${procedure.split("/").at(-1)} ${code}`, count);
    }
  }
  return failed;
}

/** Calls the service counted per procedure, whatever their code. */
export async function countedCalls(origin: string): Promise<Map<string, number>> {
  const counted = new Map<string, number>();
  for (const { procedure, count } of await rpcCounts(origin)) {
    counted.set(procedure, (counted.get(procedure) ?? 0) + count);
  }
  return counted;
}
