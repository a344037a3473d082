import type { Profile } from "../profile.js";
import { type UserId, uniqueUserIds } from "../user-id.js";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchClosed,
  WatchLimitReached,
  WatchTooLarge,
} from "./errors.js";
import type { ProfileFeed } from "./feed.js";

/** What one user's profile is, at a version. One object is shared by every watch of that user. */
export type ProfileState =
  | {
      readonly kind: "profile";
      readonly userId: UserId;
      readonly version: number;
      readonly profile: Profile;
    }
  | { readonly kind: "missing"; readonly userId: UserId; readonly version: 0 }
  | { readonly kind: "deleted"; readonly userId: UserId; readonly version: number };

/** One message for a watcher: a state, and whether it is the first one about its user. */
export interface WatchUpdate {
  readonly state: ProfileState;
  readonly snapshot: boolean;
}

/**
 * Bounds on open watches (docs/transport.md "Live profiles"); one more is refused with
 * WatchTooLarge or WatchLimitReached.
 */
export interface WatchLimits {
  readonly maxIdsPerWatch: number;
  readonly maxWatchesPerCaller: number;
  readonly maxWatchers: number;
}

/** What the hub counts as it goes. */
export interface WatchMetrics {
  watcherOpened(): void;
  watcherClosed(): void;
  /** An update was handed to a watcher's stream. */
  delivered(): void;
  /** A pending update was replaced by a newer one before its watcher took it. */
  coalesced(): void;
}

/** One open watch: a few users' states, in order, with at most one pending state per user. */
export interface Watch {
  /**
   * Gives the profiles read after `open` (the snapshot); ids without one are missing. A change
   * seen since `open` that is newer than what was read takes the snapshot's place.
   */
  start(found: readonly Profile[]): void;
  /**
   * The next update, once there is one. Rejects when the watch ends: with `signal`'s reason,
   * FeedLost when the feed is lost, InstanceShuttingDown when the hub closes, or WatchClosed.
   */
  next(signal: AbortSignal): Promise<WatchUpdate>;
  /** Stops watching; call it when the stream ends, however it ends. */
  close(): void;
}

export interface WatchHub {
  /**
   * Opens a watch of `rawUserIds` (any case, duplicates collapse) for `caller`, watching the
   * returned `userIds`. Throws WatchTooLarge or WatchLimitReached when a limit is reached,
   * InvalidUserId for a malformed id, FeedNotLive or InstanceShuttingDown.
   */
  open(
    caller: string,
    rawUserIds: readonly string[],
  ): Watch & { readonly userIds: readonly UserId[] };
  /** Ends every watch with InstanceShuttingDown and refuses new ones (shutdown). */
  close(): void;
}

/** What a user's latest accepted state is, pending or already delivered. */
interface Known {
  readonly version: number;
  readonly deleted: boolean;
}

interface Entry {
  known: Known | undefined;
  pending: ProfileState | undefined;
  pendingIsSnapshot: boolean;
}

interface OpenWatch extends Watch {
  offer(state: ProfileState): void;
  end(reason: Error): void;
}

/**
 * In-process fan-out of one ProfileFeed to many watches: one feed subscription for the instance,
 * an index from user to watches, and per watch at most one pending state per user (a newer
 * version replaces an undelivered older one), so a client that does not read holds a bounded
 * amount of memory however many changes happen.
 */
export function createWatchHub(
  feed: ProfileFeed,
  limits: WatchLimits,
  metrics: WatchMetrics,
): WatchHub {
  const watchesByUser = new Map<UserId, Set<OpenWatch>>();
  const watchesByCaller = new Map<string, number>();
  const open = new Set<OpenWatch>();
  let closed = false;

  const offer = (state: ProfileState) => {
    const watches = watchesByUser.get(state.userId);
    if (watches !== undefined) for (const watch of watches) watch.offer(state);
  };
  const endAll = (reason: Error) => {
    for (const watch of [...open]) watch.end(reason);
  };
  const unsubscribe = feed.subscribe({
    changed: (profile) =>
      offer({ kind: "profile", userId: profile.userId, version: profile.version, profile }),
    removed: (userId, version) => offer({ kind: "deleted", userId, version }),
    lost: () => endAll(new FeedLost()),
    // Watches opened from now on start with a fresh snapshot; the ended ones were told to.
    resumed: () => {},
  });

  const release = (watch: OpenWatch, caller: string, userIds: readonly UserId[]) => {
    if (!open.delete(watch)) return;
    for (const userId of userIds) {
      const watches = watchesByUser.get(userId);
      watches?.delete(watch);
      if (watches?.size === 0) watchesByUser.delete(userId);
    }
    const count = (watchesByCaller.get(caller) ?? 1) - 1;
    if (count === 0) watchesByCaller.delete(caller);
    else watchesByCaller.set(caller, count);
    metrics.watcherClosed();
  };

  return {
    open(caller, rawUserIds) {
      if (rawUserIds.length > limits.maxIdsPerWatch) {
        throw new WatchTooLarge(limits.maxIdsPerWatch, rawUserIds.length);
      }
      const userIds = uniqueUserIds(rawUserIds, "user_ids");
      if (closed) throw new InstanceShuttingDown();
      if (!feed.live()) throw new FeedNotLive();
      if (open.size >= limits.maxWatchers) {
        throw new WatchLimitReached("instance", limits.maxWatchers);
      }
      const callerCount = watchesByCaller.get(caller) ?? 0;
      if (callerCount >= limits.maxWatchesPerCaller) {
        throw new WatchLimitReached("caller", limits.maxWatchesPerCaller);
      }
      const watch = createWatch(userIds, metrics, () => release(watch, caller, userIds));
      open.add(watch);
      watchesByCaller.set(caller, callerCount + 1);
      for (const userId of userIds) {
        const watches = watchesByUser.get(userId);
        if (watches === undefined) watchesByUser.set(userId, new Set([watch]));
        else watches.add(watch);
      }
      metrics.watcherOpened();
      return Object.assign(watch, { userIds });
    },

    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      endAll(new InstanceShuttingDown({ endsWatch: true }));
    },
  };
}

function createWatch(
  userIds: readonly UserId[],
  metrics: WatchMetrics,
  release: () => void,
): OpenWatch {
  const entries = new Map<UserId, Entry>(
    userIds.map((userId) => [
      userId,
      { known: undefined, pending: undefined, pendingIsSnapshot: false },
    ]),
  );
  /** Users with a pending state, in the order they got one. */
  const due = new Set<UserId>();
  let started = false;
  let ended: Error | undefined;
  let wake: (() => void) | undefined;

  const wakeReader = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };

  return {
    offer(state) {
      const entry = entries.get(state.userId);
      if (entry === undefined || ended !== undefined || !isNewer(state, entry.known)) return;
      if (entry.pending !== undefined && started) metrics.coalesced();
      entry.pending = state;
      entry.known = knownOf(state);
      due.add(state.userId);
      if (started) wakeReader();
    },

    start(found) {
      if (started || ended !== undefined) return;
      started = true;
      const foundById = new Map(found.map((profile) => [profile.userId, profile]));
      due.clear();
      for (const [userId, entry] of entries) {
        const profile = foundById.get(userId);
        const read: ProfileState =
          profile === undefined
            ? { kind: "missing", userId, version: 0 }
            : { kind: "profile", userId, version: profile.version, profile };
        // A change seen while the snapshot was read may be newer than what the read returned.
        if (entry.pending === undefined || !isNewer(entry.pending, knownOf(read))) {
          entry.pending = read;
          entry.known = knownOf(read);
        }
        entry.pendingIsSnapshot = true;
        due.add(userId);
      }
      wakeReader();
    },

    async next(signal) {
      for (;;) {
        if (ended !== undefined) throw ended;
        signal.throwIfAborted();
        const userId = started ? first(due) : undefined;
        const entry = userId === undefined ? undefined : entries.get(userId);
        if (userId !== undefined && entry?.pending !== undefined) {
          due.delete(userId);
          const update = { state: entry.pending, snapshot: entry.pendingIsSnapshot };
          entry.pending = undefined;
          entry.pendingIsSnapshot = false;
          metrics.delivered();
          return update;
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          signal.addEventListener("abort", stop, { once: true });
          wake = () => {
            signal.removeEventListener("abort", stop);
            resolve();
          };
        });
      }
    },

    end(reason) {
      if (ended !== undefined) return;
      ended = reason;
      due.clear();
      for (const entry of entries.values()) entry.pending = undefined;
      release();
      wakeReader();
    },

    close() {
      if (ended === undefined) ended = new WatchClosed();
      release();
      wakeReader();
    },
  };
}

/** Versions of one user only grow; a deletion may carry the version of the last profile. */
function isNewer(state: ProfileState, known: Known | undefined): boolean {
  if (known === undefined) return true;
  if (state.kind === "deleted") {
    return state.version > known.version || (state.version === known.version && !known.deleted);
  }
  return state.version > known.version;
}

function knownOf(state: ProfileState): Known {
  return { version: state.version, deleted: state.kind === "deleted" };
}

function first<T>(items: Set<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}
