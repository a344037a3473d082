import type { Profile } from "./profile.js";
import type { ProfileFields } from "./rules.js";
import type { UserId } from "./user-id.js";

/** A change for the store to apply. */
export interface ProfileChange {
  readonly userId: UserId;
  /** The fields to set; at least one present, already normalized and checked. */
  readonly fields: ProfileFields;
  /** Apply only if the stored version is this one (and then never create the profile). */
  readonly expectedVersion?: number;
}

/**
 * Where profiles are kept, as the profile service needs it: the service owns this port, and
 * profile-repository.ts implements it on PostgreSQL or PGlite. The optional `signal` is the
 * call's: once it aborts, a store may skip work not yet started and reject with its reason.
 */
export interface ProfileStore {
  /**
   * The profile of `userId`, or `undefined` when there is none. May come from the read cache, so
   * as fresh as its rules promise (docs/cache.md).
   */
  find(userId: UserId, signal?: AbortSignal): Promise<Profile | undefined>;
  /** The profile of `userId` as the database holds it now, never from a cache. */
  findLatest(userId: UserId, signal?: AbortSignal): Promise<Profile | undefined>;
  /** The profiles among `userIds` that exist, in no particular order; may come from the cache. */
  findMany(userIds: readonly UserId[], signal?: AbortSignal): Promise<Profile[]>;
  /**
   * Applies a change atomically and returns the new profile, or `undefined` when nothing was
   * written: the values are already stored, or the stored version is not `expectedVersion`.
   * Without `expectedVersion` a missing profile is created with the given fields (the others
   * empty, version 1).
   */
  apply(change: ProfileChange, signal?: AbortSignal): Promise<Profile | undefined>;
  /**
   * Creates a profile with this display name unless one exists or the account was deleted;
   * returns whether it did.
   */
  createIfMissing(userId: UserId, displayName: string): Promise<boolean>;
  /**
   * Deletes the account's profile, with every contact and block on either side, in one
   * transaction, and leaves a tombstone so that the profile is never created again. Returns the
   * final version (the one ProfileDeleted announces), or `undefined` when there was no profile.
   */
  delete(userId: UserId, signal?: AbortSignal): Promise<number | undefined>;
}
