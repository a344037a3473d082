import type { Profile } from "../profile.js";
import type { UserId } from "../user-id.js";

export type HandleIndex = ReturnType<typeof createHandleIndex>;

/**
 * Handle → user id for the profiles the read cache holds, kept by the cache itself (cache.ts):
 * an entry is added when a profile with a handle is stored, and dropped when that profile is
 * replaced by a version without it, evicted, expired or deleted, or the cache empties. It holds
 * no more than the cache does and no negative entries: a handle it does not know is looked up in
 * the database. A reader still checks the profile it leads to, which holds the handle at the
 * newest version this instance has seen.
 */
export function createHandleIndex() {
  const users = new Map<string, UserId>();
  const forget = (profile: Profile) => {
    if (profile.handle !== "" && users.get(profile.handle) === profile.userId) {
      users.delete(profile.handle);
    }
  };
  return {
    /** `next` replaces `previous` (undefined: none) in the cache. */
    stored(previous: Profile | undefined, next: Profile): void {
      if (previous !== undefined && previous.handle !== next.handle) forget(previous);
      if (next.handle !== "") users.set(next.handle, next.userId);
    },
    /** `profile` left the cache. */
    removed: forget,
    clear: () => users.clear(),
    userOf: (handle: string): UserId | undefined => users.get(handle),
  };
}
