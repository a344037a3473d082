import type { PrivacyStore, ProfileStore } from "../store.js";
import type { ProfileFeedListener } from "./feed.js";

/**
 * The profile store that tells the profile feed of every change it commits, before the call that
 * made it answers: the cache then serves this instance's own writes at once (read-your-writes),
 * and local watchers hear them without waiting for the broker.
 */
export function announcingProfileStore(
  store: ProfileStore,
  feed: Pick<ProfileFeedListener, "changed" | "removed">,
): ProfileStore {
  return {
    ...store,
    async apply(change, signal) {
      const profile = await store.apply(change, signal);
      if (profile !== undefined) feed.changed(profile);
      return profile;
    },
    async createIfMissing(userId, displayName, handle) {
      const created = await store.createIfMissing(userId, displayName, handle);
      // Registrations are rare: one more read to announce the new profile costs nothing.
      const profile = created ? await store.findLatest(userId) : undefined;
      if (profile !== undefined) feed.changed(profile);
      return created;
    },
    async setHandle(change, signal) {
      const outcome = await store.setHandle(change, signal);
      if (outcome.kind === "changed") feed.changed(outcome.profile);
      return outcome;
    },
    async delete(userId, signal) {
      const version = await store.delete(userId, signal);
      if (version !== undefined) feed.removed(userId, version);
      return version;
    },
  };
}

/** The privacy store that tells the feed of every settings change it commits, as above. */
export function announcingPrivacyStore(
  store: PrivacyStore,
  feed: Pick<ProfileFeedListener, "privacyChanged">,
): PrivacyStore {
  return {
    ...store,
    async applySettings(change, signal) {
      const settings = await store.applySettings(change, signal);
      if (settings !== undefined) feed.privacyChanged?.(settings);
      return settings;
    },
  };
}
