import type { Profile } from "./profile.js";
import type { UserId } from "./user-id.js";

export interface ProfileFeedListener {
  /** A profile was created or changed to at least this version. Duplicates and out-of-order versions can arrive: compare versions. */
  changed(profile: Profile): void;
  /** A profile was deleted at this final version (once deletion exists). */
  removed(userId: UserId, version: number): void;
  /** The feed was lost: changes may have been missed from now until it is live again. */
  lost(): void;
}
export interface ProfileFeed {
  /** Whether every change is being received now (false while NATS is away or unset). */
  live(): boolean;
  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ProfileFeedListener): () => void;
}
