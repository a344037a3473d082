import type { Profile } from "../profile.js";
import type { OwnerVisibility } from "../store.js";
import { type UserId, uniqueUserIds } from "../user-id.js";
import {
  type PrivacySettings,
  type ProfileView,
  TRUSTED_VIEWER,
  type Viewer,
} from "../visibility.js";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchLimitReached,
  WatchTooLarge,
} from "./errors.js";
import type { ProfileFeed, RelationChange } from "./feed.js";
import { createWatch, type OpenWatch } from "./watch-queue.js";

/** What one user's profile is, at a version, with the profile as `P` (whole, or a view). */
type StateOf<P> =
  | {
      readonly kind: "profile";
      readonly userId: UserId;
      readonly version: number;
      readonly profile: P;
    }
  | { readonly kind: "missing"; readonly userId: UserId; readonly version: 0 }
  | { readonly kind: "deleted"; readonly userId: UserId; readonly version: number };

/** A state as stored. One object is shared by every watch of that user that sees it whole. */
export type ProfileState = StateOf<Profile>;

/** A state as one watcher may see it: a watch that sees less than the whole makes its own. */
export type ViewState = StateOf<ProfileView>;

/** One message for a watcher: a state, and whether it is the first one about its user. */
export interface WatchUpdate {
  readonly state: ViewState;
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
   * seen since `open` that is newer than what was read takes the snapshot's place. `visibility`:
   * the owners' settings and relations to the viewer, read after `open` too (an owner not in it
   * has the defaults and no relation); what the feed said of them since `open` wins.
   */
  start(found: readonly Profile[], visibility?: ReadonlyMap<UserId, OwnerVisibility>): void;
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
    viewer?: Viewer,
  ): Watch & { readonly userIds: readonly UserId[] };
  /** Ends every watch with InstanceShuttingDown and refuses new ones (shutdown). */
  close(): void;
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
  const offerSettings = (settings: PrivacySettings) => {
    const watches = watchesByUser.get(settings.userId);
    if (watches !== undefined) for (const watch of watches) watch.offerSettings(settings);
  };
  const offerRelation = (change: RelationChange) => {
    const watches = watchesByUser.get(change.ownerId);
    if (watches === undefined) return;
    for (const watch of watches) {
      if (watch.viewer.kind === "user" && watch.viewer.userId === change.otherUserId) {
        watch.offerRelation(change);
      }
    }
  };
  const endAll = (reason: Error) => {
    for (const watch of [...open]) watch.end(reason);
  };
  const unsubscribe = feed.subscribe({
    changed: (profile) =>
      offer({ kind: "profile", userId: profile.userId, version: profile.version, profile }),
    removed: (userId, version) => offer({ kind: "deleted", userId, version }),
    privacyChanged: offerSettings,
    relationChanged: offerRelation,
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
    open(caller, rawUserIds, viewer = TRUSTED_VIEWER) {
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
      const watch = createWatch(userIds, viewer, metrics, () => release(watch, caller, userIds));
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
