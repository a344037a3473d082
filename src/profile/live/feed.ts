import type { Profile } from "../profile.js";
import type { UserId } from "../user-id.js";
import type { PrivacySettings } from "../visibility.js";

/** An edge of the social graph that the visibility rules read, added or removed. */
export interface RelationChange {
  /** The owner of the address book, or the blocker. */
  readonly ownerId: UserId;
  /** The contact, or the blocked user. */
  readonly otherUserId: UserId;
  readonly kind: "contact" | "block";
  /** Whether the edge exists after the change. */
  readonly present: boolean;
}

/** What a listener of the profile feed is told. */
export interface ProfileFeedListener {
  /**
   * A profile was created or changed to at least this version. Duplicates and out-of-order
   * versions can arrive: compare versions.
   */
  changed(profile: Profile): void;
  /** A profile was deleted at this final version. */
  removed(userId: UserId, version: number): void;
  /** A user's privacy settings changed to at least this version (compare versions). */
  privacyChanged?(settings: PrivacySettings): void;
  /**
   * A contact or block was added or removed. The events of one owner arrive in commit order, so
   * the last one heard of an edge says whether it exists.
   */
  relationChanged?(change: RelationChange): void;
  /** The feed was lost: changes may be missed from now until `resumed`. */
  lost(): void;
  /** The feed is live again: every change from now on arrives; what came in between did not. */
  resumed(): void;
}

/**
 * Every change to any profile, to its privacy settings, and to the contacts and blocks that decide
 * who sees what, as this instance learns of it: its sources are its own writes after commit
 * (announcing-store.ts, graph/live/announcing-store.ts) and the events of every instance (the broker
 * subscriptions, events/profile-event-subscription.ts). Its listeners are the read cache
 * (cache.ts) and WatchProfiles (watch.ts); one broker subscription serves them all.
 */
export interface ProfileFeed {
  /** Whether every change is being received now (false while the broker is away or unset). */
  live(): boolean;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ProfileFeedListener): () => void;
}

/** Both ends of the profile feed: sources report to `source`, listeners subscribe to `feed`. */
export interface ProfileFeedEnds {
  readonly feed: ProfileFeed;
  /** Where the instance's own writes and the broker subscription report. */
  readonly source: ProfileFeedListener;
}

export interface ProfileFeedOptions {
  /**
   * True when no other instance can write (embedded PGlite): the instance's own writes are then
   * every change, so the feed is always live and the broker's state does not matter to it.
   */
  readonly alwaysLive: boolean;
}

/**
 * Fans every change out to the listeners, synchronously and in arrival order, so that a write
 * has reached the cache before its call answers. Listeners must not throw.
 */
export function createProfileFeed(options: ProfileFeedOptions): ProfileFeedEnds {
  const listeners = new Set<ProfileFeedListener>();
  let live = options.alwaysLive;
  return {
    feed: {
      live: () => live,
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    source: {
      changed(profile) {
        for (const listener of listeners) listener.changed(profile);
      },
      removed(userId, version) {
        for (const listener of listeners) listener.removed(userId, version);
      },
      privacyChanged(settings) {
        for (const listener of listeners) listener.privacyChanged?.(settings);
      },
      relationChanged(change) {
        for (const listener of listeners) listener.relationChanged?.(change);
      },
      lost() {
        if (options.alwaysLive || !live) return;
        live = false;
        for (const listener of listeners) listener.lost();
      },
      resumed() {
        if (options.alwaysLive) return;
        // Also when already live: a reconnect whose loss went unseen may still have missed changes.
        live = true;
        for (const listener of listeners) listener.resumed();
      },
    },
  };
}
