import type { ProfileFeedListener } from "./profile-feed.js";
import type { ProfileStore } from "./profile-store.js";

/**
 * The profile store that tells the profile feed of every change it commits, before the call that
 * made it answers: the cache then serves this instance's own writes at once (read-your-writes),
 * and local watchers hear them without waiting for the broker.
 */
export function announcingProfileStore(
  store: ProfileStore,
  feed: Pick<ProfileFeedListener, "changed">,
): ProfileStore {
  return {
    ...store,
    async apply(change, signal) {
      const profile = await store.apply(change, signal);
      if (profile !== undefined) feed.changed(profile);
      return profile;
    },
    async createIfMissing(userId, displayName) {
      const created = await store.createIfMissing(userId, displayName);
      // Registrations are rare: one more read to announce the new profile costs nothing.
      const profile = created ? await store.find(userId) : undefined;
      if (profile !== undefined) feed.changed(profile);
      return created;
    },
  };
}
