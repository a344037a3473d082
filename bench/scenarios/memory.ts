// The cache's memory (bench/README.md, "Cache memory"): a fresh instance's RSS as its profile
// cache fills with every profile, round after round.
import { setTimeout as sleep } from "node:timers/promises";
import { sendEach } from "../harness/load.js";
import { type CacheMetrics, cacheMetrics } from "../harness/metrics.js";
import { processMemory, toMiB } from "../harness/proc.js";

export interface CacheMemorySpec {
  readonly origin: string;
  readonly pid: number;
  readonly headers: Readonly<Record<string, string>>;
  /** BatchGetProfiles bodies that together read every profile: one pass fills the cache. */
  readonly fillBodies: readonly Buffer[];
  /**
   * The same calls for ids that do not exist, sent once before the baseline: the heap grows to
   * what this load needs, and nothing is cached (missing ids are not), so the RSS growth after
   * it is the cache's.
   */
  readonly dryBodies: readonly Buffer[];
  readonly rounds: number;
  /** How long to wait after a fill before reading the settled RSS. */
  readonly settleMs: number;
}

export interface CacheMemoryRound {
  /** After the fill, in MiB. */
  readonly rssMiB: number;
  /** The process's peak so far (VmHWM), in MiB. */
  readonly peakMiB: number;
  /** After `settleMs` more, in MiB. */
  readonly settledMiB: number;
  /** The cache's own figures (undefined without cache metrics). */
  readonly entries?: number;
  readonly cacheMiB?: number;
}

export interface CacheMemoryResult {
  /** Before the first fill (after the dry pass), in MiB, and the cache's entries then. */
  readonly startMiB: number;
  readonly startEntries?: number;
  readonly rounds: readonly CacheMemoryRound[];
  /** profile_cache_bytes / profile_cache_entries after the last round. */
  readonly cacheBytesPerProfile?: number;
  /** (settled RSS after the last round − RSS before the first fill) / entries. */
  readonly rssBytesPerProfile?: number;
  /** Calls of the fills that did not answer OK. */
  readonly errors: number;
}

/**
 * After a dry pass, fills the cache of a fresh instance `rounds` times with BatchGetProfiles over
 * every profile and reads its RSS after each fill and after a pause: peak and settled memory with
 * the cache full, and whether it keeps growing from round to round.
 */
export async function measureCacheMemory(spec: CacheMemorySpec): Promise<CacheMemoryResult> {
  const batch = "/realchat.profile.v1.ProfileApi/BatchGetProfiles";
  let errors = await sendEach(spec.origin, batch, spec.headers, spec.dryBodies);
  await sleep(spec.settleMs);
  const start = await processMemory(spec.pid);
  const startEntries = (await cacheMetrics(spec.origin))?.entries;
  const rounds: CacheMemoryRound[] = [];
  let cache: CacheMetrics | undefined;
  let settled = start;
  for (let round = 1; round <= spec.rounds; round++) {
    errors += await sendEach(spec.origin, batch, spec.headers, spec.fillBodies);
    const filled = await processMemory(spec.pid);
    cache = await cacheMetrics(spec.origin);
    await sleep(spec.settleMs);
    settled = await processMemory(spec.pid);
    rounds.push({
      rssMiB: toMiB(filled.rss),
      peakMiB: toMiB(settled.hwm),
      settledMiB: toMiB(settled.rss),
      entries: cache?.entries,
      cacheMiB: cache === undefined ? undefined : toMiB(cache.bytes),
    });
  }
  const entries = cache?.entries ?? 0;
  const perEntry = (bytes: number) => (entries > 0 ? Math.round(bytes / entries) : undefined);
  return {
    startMiB: toMiB(start.rss),
    startEntries,
    rounds,
    cacheBytesPerProfile: perEntry(cache?.bytes ?? 0),
    rssBytesPerProfile: perEntry(settled.rss - start.rss),
    errors,
  };
}
