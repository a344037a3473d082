import type { HandleRecord } from "../../../src/profile/handle.js";
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
 * the order asked, as a database may answer in any. Handles are kept as sql/handles.ts keeps them:
 * one record per handle ever claimed, the cooldown counted from the user's last claim that was not
 * a registration's.
 */
export function createInMemoryProfileStore(
  now: () => Date = () => new Date(),
): InMemoryProfileStore {
  const profiles = new Map<UserId, Profile>();
  const calls: StoreCall[] = [];
  const writes: Profile[] = [];
  /** Tombstones: deleted accounts are never created again. */
  const deleted = new Set<UserId>();
  const handles = new Map<string, HandleRecord & { readonly byRegistration: boolean }>();
  const release = (userId: UserId, at: Date) => {
    for (const [handle, record] of handles) {
      if (record.userId === userId && record.releasedAt === undefined) {
        handles.set(handle, { ...record, releasedAt: at });
      }
    }
  };
  /** Whether `userId` wins `handle` at `now`; the record is theirs then. */
  const claim = (
    userId: UserId,
    handle: string,
    now: Date,
    holdMs: number,
    byRegistration: boolean,
  ) => {
    const record = handles.get(handle);
    const free =
      record === undefined ||
      (record.releasedAt !== undefined &&
        (record.userId === userId || record.releasedAt.getTime() <= now.getTime() - holdMs));
    if (free)
      handles.set(handle, {
        handle,
        userId,
        claimedAt: now,
        releasedAt: undefined,
        byRegistration,
      });
    return free;
  };
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
    async createIfMissing(userId, displayName, registration) {
      enter("createIfMissing");
      if (profiles.has(userId) || deleted.has(userId)) return false;
      const claimed =
        registration !== undefined &&
        claim(userId, registration.handle, registration.now, registration.releaseHoldMs, true);
      save({ ...created(userId, displayName), handle: claimed ? registration.handle : "" });
      return true;
    },
    async setHandle(change, signal) {
      enter("setHandle", signal);
      const current = profiles.get(change.userId);
      if (current === undefined) return { kind: "no-profile" };
      if (change.expectedVersion !== undefined && current.version !== change.expectedVersion) {
        return { kind: "stale-version" };
      }
      if (current.handle === change.handle) return { kind: "unchanged", profile: current };
      if (change.handle !== "") {
        const claims = [...handles.values()]
          .filter((record) => record.userId === change.userId && !record.byRegistration)
          .map((record) => record.claimedAt.getTime());
        const last = Math.max(-Infinity, ...claims);
        if (last > change.now.getTime() - change.claimCooldownMs) {
          return { kind: "too-soon", lastClaimAt: new Date(last) };
        }
        const before = new Map(handles);
        release(change.userId, change.now);
        if (!claim(change.userId, change.handle, change.now, change.releaseHoldMs, false)) {
          for (const [handle, record] of before) handles.set(handle, record);
          return { kind: "taken" };
        }
      } else {
        release(change.userId, change.now);
      }
      const version = current.version + 1;
      const profile = save({
        ...current,
        handle: change.handle,
        version,
        etag: etagOf(version),
        updatedAt: now(),
      });
      return { kind: "changed", profile };
    },
    async findHandle(handle, signal) {
      enter("findHandle", signal);
      const record = handles.get(handle);
      return record === undefined
        ? undefined
        : {
            handle,
            userId: record.userId,
            claimedAt: record.claimedAt,
            releasedAt: record.releasedAt,
          };
    },
    async findByHandle(handle, signal) {
      enter("findByHandle", signal);
      return [...profiles.values()].find((profile) => profile.handle === handle);
    },
    async delete(userId, signal) {
      enter("delete", signal);
      deleted.add(userId);
      release(userId, now());
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
