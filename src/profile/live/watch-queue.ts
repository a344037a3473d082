import type { UserId } from "../user-id.js";
import { type PrivacySettings, seesEverything, type Viewer } from "../visibility.js";
import { WatchClosed } from "./errors.js";
import type { RelationChange } from "./feed.js";
import type { ProfileState, ViewState, Watch, WatchMetrics } from "./watch.js";
import {
  adoptSnapshotVisibility,
  hearRelation,
  hearSettings,
  newViewerSide,
  nextView,
  type ViewerSide,
} from "./watch-views.js";

/** One watch as the hub drives it: the feed's news about the watched users goes in here. */
export interface OpenWatch extends Watch {
  readonly viewer: Viewer;
  offer(state: ProfileState): void;
  /** The owner's settings changed. */
  offerSettings(settings: PrivacySettings): void;
  /** How an owner stands to this watch's viewer changed. */
  offerRelation(change: RelationChange): void;
  end(reason: Error): void;
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

/**
 * One watch's queue: per watched user at most one pending state, a newer one replacing an
 * undelivered older one, delivered in the order users got one; `release` unhooks it from the hub.
 */
export function createWatch(
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

  const makePending = (userId: UserId, entry: Entry, state: ViewState) => {
    if (entry.pending !== undefined && started) metrics.coalesced();
    entry.pending = state;
    due.add(userId);
    if (started) wakeReader();
  };

  /** Makes what this watch's viewer sees of the latest state pending, if it shows anything new. */
  const show = (userId: UserId, entry: Entry, seen: ViewerSide) => {
    const state = nextView(seen, viewer);
    if (state !== undefined) makePending(userId, entry, state);
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
      makePending(state.userId, entry, state);
    },

    offerSettings(settings) {
      const entry = entries.get(settings.userId);
      const seen = entry?.seen;
      if (entry === undefined || seen === undefined || ended !== undefined) return;
      if (!hearSettings(seen, settings)) return;
      if (started) show(settings.userId, entry, seen);
    },

    offerRelation(change) {
      const entry = entries.get(change.ownerId);
      const seen = entry?.seen;
      if (entry === undefined || seen === undefined || ended !== undefined) return;
      hearRelation(seen, change);
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
          adoptSnapshotVisibility(seen, visibility.get(userId));
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
