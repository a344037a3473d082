import type { ProfileFeed, ProfileFeedListener } from "./feed.js";

/** The in-process fan-out of the profile feed: sources report to `source`, listeners hear it. */
export interface ProfileFeedHub {
  readonly feed: ProfileFeed;
  /** Where the instance's own writes and the broker subscription report. */
  readonly source: ProfileFeedListener;
}

export interface ProfileFeedHubOptions {
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
export function createProfileFeedHub(options: ProfileFeedHubOptions): ProfileFeedHub {
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
