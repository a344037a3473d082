import { LRUCache } from "lru-cache";
import type { QuotaLimits } from "../../config/config.js";

/** One token bucket per key (a caller's subject), for one class of callers. */
export interface QuotaBuckets {
  /**
   * Takes `cost` tokens from `key`'s bucket if it holds that many. Returns 0 when granted, else
   * the milliseconds until it will hold them (nothing is taken then), or Infinity when `cost` is
   * larger than the burst and can never be granted.
   */
  take(key: string, cost: number): number;
}

interface Bucket {
  tokens: number;
  /** The clock reading `tokens` was computed at. */
  at: number;
}

/**
 * Token buckets for many keys in bounded memory: each refills at `perSecond` tokens up to
 * `burst` (the largest cost it can ever grant at once); `perSecond` 0 grants everything. A full bucket is the same as no bucket, so a
 * bucket exists only once its key has spent something; past `maxKeys` the least recently used
 * goes (a key that waited that long has most likely refilled anyway). The clock is in
 * milliseconds and must not go back (performance.now by default).
 */
export function createQuotaBuckets(
  limits: QuotaLimits,
  options: { readonly maxKeys: number; readonly now?: () => number },
): QuotaBuckets {
  const { perSecond, burst } = limits;
  if (perSecond === 0) return { take: () => 0 };
  const { maxKeys, now = () => performance.now() } = options;
  const perMs = perSecond / 1000;
  const buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  return {
    take(key, cost) {
      if (cost > burst) return Number.POSITIVE_INFINITY;
      const at = now();
      const bucket = buckets.get(key);
      const tokens =
        bucket === undefined ? burst : Math.min(burst, bucket.tokens + (at - bucket.at) * perMs);
      if (tokens < cost) {
        if (bucket !== undefined) {
          bucket.tokens = tokens;
          bucket.at = at;
        }
        return (cost - tokens) / perMs;
      }
      if (bucket === undefined) buckets.set(key, { tokens: tokens - cost, at });
      else {
        bucket.tokens = tokens - cost;
        bucket.at = at;
      }
      return 0;
    },
  };
}
