import type { Profile } from "../profile.js";
import type { ProfileStore } from "../store.js";
import type { ProfileCache } from "./cache.js";

/**
 * The profile store with the read cache in front: reads are answered from the cache where it
 * serves, and what they fetch from `store` fills it. Writes go straight to `store`; their
 * results reach the cache through the profile feed (announcing-profile-store.ts).
 */
export function cachedProfileStore(store: ProfileStore, cache: ProfileCache): ProfileStore {
  return {
    ...store,
    async find(userId, signal) {
      const cached = cache.get(userId);
      if (cached !== undefined) return cached;
      const ticket = cache.ticket();
      const profile = await store.find(userId, signal);
      if (profile !== undefined) cache.fill([profile], ticket);
      return profile;
    },
    async findByHandle(handle, signal) {
      const cached = cache.getByHandle(handle);
      if (cached !== undefined) return cached;
      const ticket = cache.ticket();
      const profile = await store.findByHandle(handle, signal);
      if (profile !== undefined) cache.fill([profile], ticket);
      return profile;
    },
    async findMany(userIds, signal) {
      if (!cache.serving()) return store.findMany(userIds, signal);
      const found: Profile[] = [];
      const missing = userIds.filter((userId) => {
        const cached = cache.get(userId);
        if (cached === undefined) return true;
        found.push(cached);
        return false;
      });
      if (missing.length === 0) return found;
      const ticket = cache.ticket();
      const fetched = await store.findMany(missing, signal);
      cache.fill(fetched, ticket);
      for (const profile of fetched) found.push(profile);
      return found;
    },
  };
}
