import type { Profile } from "../profile.js";
import type { OwnerVisibility } from "../store.js";
import { type UserId, uniqueUserIds } from "../user-id.js";
import {
  defaultPrivacySettings,
  isWithheld,
  NO_RELATION,
  type PrivacySettings,
  type ProfileView,
  type RelationFacts,
  seesEverything,
  TRUSTED_VIEWER,
  type Viewer,
  viewFor,
} from "../visibility.js";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchClosed,
  WatchLimitReached,
  WatchTooLarge,
} from "./errors.js";
import type { ProfileFeed, RelationChange } from "./feed.js";

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

/** What a user's latest accepted state is, pending or already delivered. */
interface Known {
  readonly version: number;
  readonly deleted: boolean;
}

interface Entry {
  known: Known | undefined;
  pending: ViewState | undefined;
  pendingIsSnapshot: boolean;
  /** For a watch that may see less than everything: what it knows to project the latest state. */
  seen?: ViewerSide;
}

/** A watch's side of one watched user when it may see less than the whole profile. */
interface ViewerSide {
  /** The latest accepted state as stored (what is projected). */
  latest: ProfileState | undefined;
  settings: PrivacySettings;
  facts: RelationFacts;
  /** The feed told of the settings or the relation since `open`: the snapshot's read is older. */
  settingsHeard: boolean;
  factsHeard: boolean;
  /** What the last message sent or pending showed ("missing", "deleted" or a view's etag). */
  lastShown: string | undefined;
  /** The version of the last message sent or pending. */
  lastVersion: number;
}

interface OpenWatch extends Watch {
  readonly viewer: Viewer;
  offer(state: ProfileState): void;
  /** The owner's settings changed. */
  offerSettings(settings: PrivacySettings): void;
  /** How an owner stands to this watch's viewer changed. */
  offerRelation(change: RelationChange): void;
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

function createWatch(
  userIds: readonly UserId[],
  viewer: Viewer,
  metrics: WatchMetrics,
  release: () => void,
): OpenWatch {
  const entries = new Map<UserId, Entry>(
    userIds.map((userId) => [
      userId,
      {
        known: undefined,
        pending: undefined,
        pendingIsSnapshot: false,
        seen: seesEverything(viewer, userId) ? undefined : newViewerSide(userId),
      },
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

  /**
   * Makes what this watch's viewer sees of the latest state pending, unless it shows what the last
   * message showed: a change of a hidden field, or of the relation or settings that changes
   * nothing visible, sends nothing.
   */
  const show = (userId: UserId, entry: Entry, seen: ViewerSide) => {
    if (seen.latest === undefined) return;
    const state = projected(seen.latest, viewer, seen);
    if (state === undefined) return;
    if (entry.pending !== undefined && started) metrics.coalesced();
    seen.lastShown = shownBy(state);
    seen.lastVersion = state.version;
    entry.pending = state;
    due.add(userId);
    if (started) wakeReader();
  };

  return {
    viewer,

    offer(state) {
      const entry = entries.get(state.userId);
      if (entry === undefined || ended !== undefined || !isNewer(state, entry.known)) return;
      entry.known = knownOf(state);
      if (entry.seen !== undefined) {
        entry.seen.latest = state;
        // Before the snapshot, only the latest state is kept: start() projects it.
        if (started) show(state.userId, entry, entry.seen);
        return;
      }
      if (entry.pending !== undefined && started) metrics.coalesced();
      entry.pending = state;
      due.add(state.userId);
      if (started) wakeReader();
    },

    offerSettings(settings) {
      const entry = entries.get(settings.userId);
      const seen = entry?.seen;
      if (entry === undefined || seen === undefined || ended !== undefined) return;
      if (settings.version <= seen.settings.version) return;
      seen.settings = settings;
      seen.settingsHeard = true;
      if (started) show(settings.userId, entry, seen);
    },

    offerRelation(change) {
      const entry = entries.get(change.ownerId);
      const seen = entry?.seen;
      if (entry === undefined || seen === undefined || ended !== undefined) return;
      seen.facts =
        change.kind === "contact"
          ? { ...seen.facts, isContact: change.present }
          : { ...seen.facts, blocked: change.present };
      seen.factsHeard = true;
      if (started) show(change.ownerId, entry, seen);
    },

    start(found, visibility = new Map()) {
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
        const seen = entry.seen;
        if (seen !== undefined) {
          // What the feed told since `open` is newer than what the snapshot read.
          if (seen.latest === undefined || !isNewer(seen.latest, knownOf(read))) {
            seen.latest = read;
            entry.known = knownOf(read);
          }
          const owner = visibility.get(userId);
          if (!seen.settingsHeard && owner !== undefined) seen.settings = owner.settings;
          if (!seen.factsHeard && owner !== undefined) seen.facts = owner.facts;
          show(userId, entry, seen);
          entry.pendingIsSnapshot = true;
          continue;
        }
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

function newViewerSide(userId: UserId): ViewerSide {
  return {
    latest: undefined,
    settings: defaultPrivacySettings(userId),
    facts: NO_RELATION,
    settingsHeard: false,
    factsHeard: false,
    lastShown: undefined,
    lastVersion: 0,
  };
}

/** What a message shows, to tell whether the next one would show anything new. */
function shownBy(state: ViewState): string {
  return state.kind === "profile" ? state.profile.etag : state.kind;
}

/**
 * The message `viewer` gets for `latest`, or undefined when it would show what the last one did.
 * A whole profile keeps its version when that still grows the stream's; otherwise (a withheld
 * view, or a view changed by the settings or the relation) the version is the stream's last + 1,
 * which says nothing of changes the viewer cannot see.
 */
function projected(latest: ProfileState, viewer: Viewer, seen: ViewerSide): ViewState | undefined {
  const state: ViewState =
    latest.kind === "profile"
      ? { ...latest, profile: viewFor(latest.profile, viewer, seen.settings, seen.facts) }
      : latest;
  if (shownBy(state) === seen.lastShown) return undefined;
  if (state.kind === "missing") return state;
  const whole = state.kind === "deleted" || !isWithheld(state.profile);
  if (whole && state.version > seen.lastVersion) {
    const unchanged =
      latest.kind === "profile" && state.kind === "profile" && state.profile === latest.profile;
    return unchanged ? latest : state;
  }
  return { ...state, version: seen.lastVersion + 1 };
}

/** Versions of one user only grow; a deletion may carry the version of the last profile. */
function isNewer(state: ViewState, known: Known | undefined): boolean {
  if (known === undefined) return true;
  if (state.kind === "deleted") {
    return state.version > known.version || (state.version === known.version && !known.deleted);
  }
  return state.version > known.version;
}

function knownOf(state: ViewState): Known {
  return { version: state.version, deleted: state.kind === "deleted" };
}

function first<T>(items: Set<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}
