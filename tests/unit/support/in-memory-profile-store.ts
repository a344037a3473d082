import { etagOf, type Profile } from "../../../src/profile/profile.js";
import type { ProfileFields } from "../../../src/profile/rules.js";
import type { ProfileStore } from "../../../src/profile/store.js";
import type { UserId } from "../../../src/profile/user-id.js";

/** One call the service made to the store. */
export interface StoreCall {
  readonly method: keyof ProfileStore;
  readonly signal?: AbortSignal;
}

/** A ProfileStore in a Map, with the calls it got, for tests of the service without a database. */
export interface InMemoryProfileStore extends ProfileStore {
  /** Every call in order, with the signal it was given. */
  readonly calls: StoreCall[];
  /** Every call that changed a profile, in order. */
  readonly writes: Profile[];
}

/**
 * Keeps profiles as the repository's statements do: a change that sets the stored values writes
 * nothing; each effective change bumps the version by one and moves `updatedAt` to `now()`; a
 * change with `expectedVersion` applies only to that version and never creates; an aborted signal
 * rejects with its reason before anything is read or written. `findMany` answers in the reverse of
 * the order asked, as a database may answer in any.
 */
export function createInMemoryProfileStore(
  now: () => Date = () => new Date(),
): InMemoryProfileStore {
  const profiles = new Map<UserId, Profile>();
  const calls: StoreCall[] = [];
  const writes: Profile[] = [];
  /** Tombstones: deleted accounts are never created again. */
  const deleted = new Set<UserId>();
  const enter = (method: keyof ProfileStore, signal?: AbortSignal) => {
    calls.push({ method, signal });
    signal?.throwIfAborted();
  };
  const save = (profile: Profile) => {
    profiles.set(profile.userId, profile);
    writes.push(profile);
    return profile;
  };
  const created = (userId: UserId, displayName = ""): Profile => {
    const at = now();
    return {
      userId,
      displayName,
      avatarUrl: "",
      bio: "",
      handle: "",
      createdAt: at,
      updatedAt: at,
      version: 1,
      etag: etagOf(1),
    };
  };

  return {
    calls,
    writes,
    async find(userId, signal) {
      enter("find", signal);
      return profiles.get(userId);
    },
    async findLatest(userId, signal) {
      enter("findLatest", signal);
      return profiles.get(userId);
    },
    async findMany(userIds, signal) {
      enter("findMany", signal);
      // Reversed: the order of the answer is the service's job, not the store's.
      return userIds.flatMap((userId) => profiles.get(userId) ?? []).reverse();
    },
    async apply({ userId, fields, expectedVersion }, signal) {
      enter("apply", signal);
      const current = profiles.get(userId);
      if (current === undefined) {
        if (expectedVersion !== undefined || deleted.has(userId)) return undefined;
        return save(withFields(created(userId), fields));
      }
      if (expectedVersion !== undefined && current.version !== expectedVersion) return undefined;
      const next = withFields(current, fields);
      const differs = (["displayName", "avatarUrl", "bio"] as const).some(
        (field) => next[field] !== current[field],
      );
      if (!differs) return undefined;
      const version = current.version + 1;
      return save({ ...next, version, etag: etagOf(version), updatedAt: now() });
    },
    async createIfMissing(userId, displayName) {
      enter("createIfMissing");
      if (profiles.has(userId) || deleted.has(userId)) return false;
      save(created(userId, displayName));
      return true;
    },
    async delete(userId, signal) {
      enter("delete", signal);
      deleted.add(userId);
      const current = profiles.get(userId);
      profiles.delete(userId);
      return current === undefined ? undefined : current.version + 1;
    },
  };
}

/** `profile` with the present fields set: an absent field leaves the stored value. */
function withFields(profile: Profile, fields: ProfileFields): Profile {
  return {
    ...profile,
    displayName: fields.displayName ?? profile.displayName,
    avatarUrl: fields.avatarUrl ?? profile.avatarUrl,
    bio: fields.bio ?? profile.bio,
  };
}
