import { LRUCache } from "lru-cache";
import type { Profile } from "../profile.js";
import type { UserId } from "../user-id.js";
import { keepViewsOf } from "../visibility.js";
import type { ProfileFeedListener } from "./feed.js";
import { createHandleIndex } from "./handle-index.js";

export interface ProfileCacheOptions {
  /** The byte budget: least recently used entries are evicted beyond it. */
  readonly maxBytes: number;
  /** The longest an entry is served after it was stored, whatever the feed says. */
  readonly ttlMs: number;
  /** What one entry costs in bytes, as counted against `maxBytes`. */
  readonly weigh: (profile: Profile) => number;
  /** Whether the feed is live when the cache starts (it then follows `listener`). */
  readonly serving: boolean;
  /** Milliseconds for the TTL; `performance.now` by default. */
  readonly clock?: { now(): number };
}

/** A read's place in the cache's history, taken before it asks the database. */
export interface FillTicket {
  readonly generation: number;
  readonly removals: number;
}

/** Running totals for metrics, read at scrape time. */
export interface ProfileCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
  readonly serving: boolean;
}

export type ProfileCache = ReturnType<typeof createProfileCache>;

/**
 * How many removed keys (evicted, expired, deleted) keep their last version, so that a slow read
 * or a late duplicate event cannot put an older version back. A read that saw more removals than
 * this during its flight is not stored at all.
 */
export const REMEMBERED_REMOVALS = 16_384;

/**
 * Profiles by user id, each at the newest version this instance has seen, bounded by bytes and
 * aged out by a TTL. It serves only while the profile feed is live: on loss it empties and stops
 * serving, and when the feed returns it empties again, since what changed in between never
 * arrives. An entry is never replaced by an older version, and a database read that raced a
 * loss or a newer version is not stored (`ticket` then `fill`).
 */
export function createProfileCache(options: ProfileCacheOptions) {
  let serving = options.serving;
  /** Bumped when the cache empties: reads from before then must not fill it. */
  let generation = 0;
  let removals = 0;
  let clearing = false;
  const lastRemoved = new Map<UserId, number>();
  const counts = { hits: 0, misses: 0, evictions: 0 };
  const handles = createHandleIndex();

  const remember = (userId: UserId, version: number) => {
    removals += 1;
    lastRemoved.delete(userId);
    lastRemoved.set(userId, version);
    if (lastRemoved.size > REMEMBERED_REMOVALS) {
      const oldest = lastRemoved.keys().next().value;
      if (oldest !== undefined) lastRemoved.delete(oldest);
    }
  };

  const entries = new LRUCache<UserId, Profile>({
    maxSize: options.maxBytes,
    sizeCalculation: options.weigh,
    ttl: options.ttlMs,
    // lru-cache keeps a reading of its clock for a millisecond, on a real timer; a given clock is
    // read every time instead.
    ...(options.clock === undefined ? {} : { perf: options.clock, ttlResolution: 0 }),
    dispose(profile, userId, reason) {
      if (reason === "set" || clearing) return;
      handles.removed(profile);
      if (reason === "evict") counts.evictions += 1;
      remember(userId, profile.version);
    },
  });

  /** The newest version known for `userId`, cached (even expired) or lately removed. */
  const floorOf = (userId: UserId): number => {
    const cached = entries.peek(userId, { allowStale: true })?.version ?? 0;
    return Math.max(cached, lastRemoved.get(userId) ?? 0);
  };

  const install = (profile: Profile) => {
    const floor = floorOf(profile.userId);
    if (profile.version < floor) return;
    if (profile.version === floor && entries.has(profile.userId)) return;
    keepViewsOf(profile);
    handles.stored(entries.peek(profile.userId, { allowStale: true }), profile);
    entries.set(profile.userId, profile);
  };

  const empty = () => {
    generation += 1;
    clearing = true;
    try {
      entries.clear();
    } finally {
      clearing = false;
    }
    handles.clear();
    lastRemoved.clear();
  };

  const get = (userId: UserId): Profile | undefined => {
    if (!serving) return undefined;
    const profile = entries.get(userId);
    if (profile === undefined) counts.misses += 1;
    else counts.hits += 1;
    return profile;
  };

  const listener: ProfileFeedListener = {
    changed(profile) {
      if (serving) install(profile);
    },
    removed(userId, version) {
      if (!serving) return;
      entries.delete(userId);
      remember(userId, version);
    },
    lost() {
      serving = false;
      empty();
    },
    resumed() {
      empty();
      serving = true;
    },
  };

  return {
    /** Hears the profile feed: changes, removals, and its loss and return. */
    listener,

    serving: () => serving,

    /** The cached profile of `userId`; undefined on a miss or while not serving. */
    get,

    /**
     * The cached profile holding `handle` (canonical); undefined on a miss or while not serving.
     * Counted as a hit or miss of its profile.
     */
    getByHandle(handle: string): Profile | undefined {
      const userId = serving ? handles.userOf(handle) : undefined;
      if (userId === undefined) {
        if (serving) counts.misses += 1;
        return undefined;
      }
      const profile = get(userId);
      return profile?.handle === handle ? profile : undefined;
    },

    /** Taken before a database read whose rows will `fill` the cache; undefined: do not fill. */
    ticket(): FillTicket | undefined {
      return serving ? { generation, removals } : undefined;
    },

    /** Stores what a read begun at `ticket` found, unless the read may have raced a newer write. */
    fill(profiles: readonly Profile[], ticket: FillTicket | undefined): void {
      if (ticket === undefined || !serving || ticket.generation !== generation) return;
      if (removals - ticket.removals > REMEMBERED_REMOVALS) return;
      for (const profile of profiles) install(profile);
    },

    stats(): ProfileCacheStats {
      return { ...counts, entries: entries.size, bytes: entries.calculatedSize, serving };
    },
  };
}
