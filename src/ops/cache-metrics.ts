import { Counter, Gauge, type Registry } from "prom-client";
import type { ProfileCacheStats } from "../profile/live/cache.js";

/**
 * The read cache's metrics, read from its running totals at scrape time, so that serving from
 * the cache costs no metric update per call. Counters advance by what the cache counted since
 * the last scrape.
 */
export function registerCacheMetrics(registers: Registry[], stats: () => ProfileCacheStats): void {
  const totals = (name: string, help: string, read: (s: ProfileCacheStats) => number) => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read(stats());
        this.inc(now - reported);
        reported = now;
      },
    });
  };
  const gauge = (name: string, help: string, read: (s: ProfileCacheStats) => number) => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(stats()));
      },
    });
  };
  totals("profile_cache_hits_total", "Profiles answered from the cache.", (s) => s.hits);
  totals(
    "profile_cache_misses_total",
    "Profiles looked up in the serving cache and not found there (read from the database).",
    (s) => s.misses,
  );
  totals(
    "profile_cache_evictions_total",
    "Entries evicted to stay within PROFILE_CACHE_MAX_BYTES.",
    (s) => s.evictions,
  );
  gauge("profile_cache_entries", "Profiles in the cache.", (s) => s.entries);
  gauge("profile_cache_bytes", "Bytes the cache counts against its budget.", (s) => s.bytes);
  gauge(
    "profile_cache_serving",
    "1 while the cache answers reads: it is on and the profile feed is live (always with PGlite).",
    (s) => (s.serving ? 1 : 0),
  );
}
