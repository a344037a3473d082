import type { Profile } from "../profile.js";
import type { UserId } from "../user-id.js";

/** What a listener of the profile feed is told. */
export interface ProfileFeedListener {
  /**
   * A profile was created or changed to at least this version. Duplicates and out-of-order
   * versions can arrive: compare versions.
   */
  changed(profile: Profile): void;
  /** A profile was deleted at this final version. */
  removed(userId: UserId, version: number): void;
  /** The feed was lost: changes may be missed from now until `resumed`. */
  lost(): void;
  /** The feed is live again: every change from now on arrives; what came in between did not. */
  resumed(): void;
}

/**
 * Every change to any profile, as this instance learns of it: its own writes after commit, and
 * the profile events of every instance. The read cache and live watchers listen here; the
 * instance holds one broker subscription for all of them.
 */
export interface ProfileFeed {
  /** Whether every change is being received now (false while the broker is away or unset). */
  live(): boolean;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ProfileFeedListener): () => void;
}
