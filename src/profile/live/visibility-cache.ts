import { LRUCache } from "lru-cache";
import type { OwnerVisibility, PrivacyStore } from "../store.js";
import type { UserId } from "../user-id.js";
import {
  defaultPrivacySettings,
  NO_RELATION,
  type PrivacySettings,
  type RelationFacts,
} from "../visibility.js";
import type { ProfileFeedListener, RelationChange } from "./feed.js";

export interface VisibilityCacheOptions {
  /** Most owners whose settings are kept, and most (viewer, owner) pairs whose facts are. */
  readonly maxEntries: number;
  /** The longest an entry is served after it was stored, whatever the feed says. */
  readonly ttlMs: number;
  /** Whether the feed is live when the cache starts. */
  readonly serving: boolean;
  /** Milliseconds for the TTL; `performance.now` by default. */
  readonly clock?: { now(): number };
}

/** A read's place in the cache's history, taken before it asks the database. */
interface FillTicket {
  readonly generation: number;
  readonly change: number;
}

/**
 * How many changed keys are remembered, so that a read begun before a change does not put what it
 * found back. A read that began before the oldest remembered change is not stored at all.
 */
const REMEMBERED_CHANGES = 16_384;

export type VisibilityCache = ReturnType<typeof createVisibilityCache>;

/** The four facts a pair can have: shared objects, so a cached pair costs its key only. */
const FACTS: readonly RelationFacts[] = [
  NO_RELATION,
  { isContact: true, blocked: false },
  { isContact: false, blocked: true },
  { isContact: true, blocked: true },
];
const factsOf = (isContact: boolean, blocked: boolean): RelationFacts =>
  FACTS[(isContact ? 1 : 0) + (blocked ? 2 : 0)] ?? NO_RELATION;

const pairKeyOf = (viewerId: UserId, ownerId: UserId) => `${viewerId}${ownerId}`;

/** A viewer's known pairs, by owner; one cache entry per viewer, weighed by its pairs. */
type ViewerFacts = Map<UserId, RelationFacts>;

/**
 * What the visibility rules need beside the profiles, kept beside the profile cache and with its
 * rules (docs/cache.md): each owner's privacy settings, and for each (viewer, owner) pair a reader
 * asked about, whether the viewer is the owner's contact and whether the owner blocks them, kept
 * by viewer (a batch looks its viewer up once, then each owner in a plain Map). Kept
 * coherent by the profile feed (settings and graph changes of every instance, in commit order per
 * owner); it serves only while the feed is live, empties on its loss and return, and a read that
 * raced a change does not store what it found.
 */
export function createVisibilityCache(options: VisibilityCacheOptions) {
  let serving = options.serving;
  let generation = 0;
  let change = 0;
  /** The change number of the newest change forgotten from `changedAt`. */
  let forgotten = 0;
  const changedAt = new Map<string, number>();
  const lru = {
    ttl: options.ttlMs,
    ...(options.clock === undefined ? {} : { perf: options.clock, ttlResolution: 0 }),
  };
  const settings = new LRUCache<UserId, PrivacySettings>({ max: options.maxEntries, ...lru });
  const facts = new LRUCache<UserId, ViewerFacts>({
    maxSize: options.maxEntries,
    sizeCalculation: (known) => Math.max(1, known.size),
    ...lru,
  });

  const mark = (key: string) => {
    change += 1;
    changedAt.delete(key);
    changedAt.set(key, change);
    if (changedAt.size > REMEMBERED_CHANGES) {
      const [oldest, at] = changedAt.entries().next().value ?? ["", 0];
      changedAt.delete(oldest);
      forgotten = at;
    }
  };
  const changedSince = (key: string, ticket: FillTicket) =>
    (changedAt.get(key) ?? 0) > ticket.change;

  const empty = () => {
    generation += 1;
    settings.clear();
    facts.clear();
    changedAt.clear();
  };

  const restart = (live: boolean) => {
    empty();
    serving = live;
  };

  const applyRelation = (relation: RelationChange) => {
    mark(pairKeyOf(relation.otherUserId, relation.ownerId));
    const known = facts.peek(relation.otherUserId)?.get(relation.ownerId);
    if (known === undefined) return;
    facts
      .peek(relation.otherUserId)
      ?.set(
        relation.ownerId,
        relation.kind === "contact"
          ? factsOf(relation.present, known.blocked)
          : factsOf(known.isContact, relation.present),
      );
  };

  const listener: ProfileFeedListener = {
    changed() {},
    removed(userId) {
      if (!serving) return;
      // The account's contacts and blocks went with it, announced by this event alone.
      settings.delete(userId);
      mark(userId);
      facts.delete(userId);
      mark(`viewer:${userId}`);
    },
    privacyChanged(changed) {
      if (!serving) return;
      mark(changed.userId);
      const known = settings.peek(changed.userId, { allowStale: true });
      if (known === undefined || known.version < changed.version) {
        settings.set(changed.userId, changed);
      }
    },
    relationChanged(relation) {
      if (serving) applyRelation(relation);
    },
    // Either way what was known may be stale: a loss stops serving, a return starts again empty.
    lost: () => restart(false),
    resumed: () => restart(true),
  };

  return {
    /** Hears the profile feed: settings and graph changes, and the feed's loss and return. */
    listener,

    serving: () => serving,

    /**
     * What is known of each owner for `viewerId`: the owners with non-default settings or a
     * relation in `found`, the owners not known in `missing`.
     */
    lookUp(ownerIds: readonly UserId[], viewerId: UserId | undefined) {
      const found = new Map<UserId, OwnerVisibility>();
      const missing: UserId[] = [];
      const known = viewerId === undefined ? undefined : facts.get(viewerId);
      for (const ownerId of ownerIds) {
        const owned = settings.get(ownerId);
        const pair = viewerId === undefined ? NO_RELATION : known?.get(ownerId);
        if (owned === undefined || pair === undefined) missing.push(ownerId);
        else if (owned.version > 1 || pair !== NO_RELATION) {
          found.set(ownerId, { settings: owned, facts: pair });
        }
      }
      return { found, missing };
    },

    ticket(): FillTicket | undefined {
      return serving ? { generation, change } : undefined;
    },

    /** Stores what a read of `ownerIds` begun at `ticket` found, except what changed meanwhile. */
    fill(
      ticket: FillTicket | undefined,
      ownerIds: readonly UserId[],
      viewerId: UserId | undefined,
      read: ReadonlyMap<UserId, OwnerVisibility>,
    ): void {
      if (ticket === undefined || !serving || ticket.generation !== generation) return;
      if (ticket.change < forgotten) return;
      const viewerGone = viewerId !== undefined && changedSince(`viewer:${viewerId}`, ticket);
      const known =
        viewerId === undefined || viewerGone
          ? undefined
          : (facts.peek(viewerId) ?? new Map<UserId, RelationFacts>());
      const before = known?.size;
      for (const ownerId of ownerIds) {
        const found = read.get(ownerId);
        if (!changedSince(ownerId, ticket)) {
          const known = settings.peek(ownerId, { allowStale: true });
          const stored = found?.settings ?? defaultPrivacySettings(ownerId);
          if (known === undefined || known.version <= stored.version) settings.set(ownerId, stored);
        }
        if (viewerId === undefined || known === undefined) continue;
        if (changedSince(pairKeyOf(viewerId, ownerId), ticket)) continue;
        const pair = found?.facts ?? NO_RELATION;
        known.set(ownerId, factsOf(pair.isContact, pair.blocked));
      }
      // Set again when it grew, so that the cache weighs the viewer's pairs anew.
      if (viewerId !== undefined && known !== undefined && known.size !== before) {
        facts.set(viewerId, known);
      }
    },

    stats() {
      return { settings: settings.size, pairs: facts.calculatedSize, serving };
    },
  };
}

/**
 * The privacy store with the visibility cache in front of its one read: what the cache does not
 * know goes to `store` in one query, and fills the cache. Writes go straight to `store`; their
 * results reach the cache through the feed.
 */
export function cachedPrivacyStore(store: PrivacyStore, cache: VisibilityCache): PrivacyStore {
  const visibility: PrivacyStore["visibility"] = async (ownerIds, viewerId, signal) => {
    if (!cache.serving()) return store.visibility(ownerIds, viewerId, signal);
    const { found, missing } = cache.lookUp(ownerIds, viewerId);
    if (missing.length === 0) return found;
    const ticket = cache.ticket();
    const read = await store.visibility(missing, viewerId, signal);
    cache.fill(ticket, missing, viewerId, read);
    for (const [ownerId, visibility] of read) found.set(ownerId, visibility);
    return found;
  };
  return {
    ...store,
    visibility,
    // The cached pairs' facts are complete (the store behind a cache reads both facts of a pair):
    // each direction is one pair, (viewer, owner) and (owner, viewer).
    async blockedEitherWay(userId, otherUserId, signal) {
      if (!cache.serving()) return store.blockedEitherWay(userId, otherUserId, signal);
      const [one, other] = await Promise.all([
        visibility([userId], otherUserId, signal),
        visibility([otherUserId], userId, signal),
      ]);
      return (
        (one.get(userId)?.facts.blocked ?? false) ||
        (other.get(otherUserId)?.facts.blocked ?? false)
      );
    },
  };
}
