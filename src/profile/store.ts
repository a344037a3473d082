import type { HandleRecord } from "./handle.js";
import type { Profile } from "./profile.js";
import type { ProfileFields } from "./rules.js";
import type { UserId } from "./user-id.js";
import type { Audience, PrivacySettings, RelationFacts } from "./visibility.js";

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
  createIfMissing(
    userId: UserId,
    displayName: string,
    handle?: RegistrationHandle,
  ): Promise<boolean>;
  /**
   * Deletes the account's profile, with every contact and block on either side, in one
   * transaction, and leaves a tombstone so that the profile is never created again. Returns the
   * final version (the one ProfileDeleted announces), or `undefined` when there was no profile.
   */
  delete(userId: UserId, signal?: AbortSignal): Promise<number | undefined>;
  /**
   * Claims, changes or releases (`handle` "") a user's handle in one transaction (HandleChange);
   * what came of it, the new profile when it changed.
   */
  setHandle(change: HandleChange, signal?: AbortSignal): Promise<HandleChangeOutcome>;
  /** The record of a canonical handle, in use or held after a release; undefined if never claimed. */
  findHandle(handle: string, signal?: AbortSignal): Promise<HandleRecord | undefined>;
  /** The profile holding a canonical handle now, or undefined; may come from the read cache. */
  findByHandle(handle: string, signal?: AbortSignal): Promise<Profile | undefined>;
}

/** A registration's claim of its username as the handle, made with the profile if it is free. */
export interface RegistrationHandle {
  /** Canonical, valid and not reserved. */
  readonly handle: string;
  readonly now: Date;
  /** A handle released by someone else is free once released this long ago. */
  readonly releaseHoldMs: number;
}

/**
 * A handle change for the store to make in one transaction, on the locked profile row: the etag,
 * then (claims only) the cooldown since the user's last claim that was not a registration's, then
 * the claim, which succeeds when nobody ever held the handle, or it was released by this user or
 * at least `releaseHoldMs` ago; the previous handle is released at `now`.
 */
export interface HandleChange {
  readonly userId: UserId;
  /** Canonical and not reserved, or "" to release the current one. */
  readonly handle: string;
  readonly expectedVersion?: number;
  readonly now: Date;
  readonly claimCooldownMs: number;
  readonly releaseHoldMs: number;
}

/** What a HandleChange came to; nothing was written unless "changed". */
export type HandleChangeOutcome =
  | { readonly kind: "changed"; readonly profile: Profile }
  /** The profile holds this handle already (or none, for a release). */
  | { readonly kind: "unchanged"; readonly profile: Profile }
  | { readonly kind: "no-profile" }
  | { readonly kind: "stale-version" }
  | { readonly kind: "taken" }
  /** The user's last claim was at `lastClaimAt`. */
  | { readonly kind: "too-soon"; readonly lastClaimAt: Date };

/** A change of a user's audiences for the store to apply; absent ones stay. */
export interface PrivacyChange {
  readonly userId: UserId;
  readonly avatarAudience?: Audience;
  readonly bioAudience?: Audience;
  readonly discoverableBy?: Audience;
  /** Apply only if the stored settings are at this version (1: never changed). */
  readonly expectedVersion?: number;
}

/** What the rules need to know of one owner for one viewer. */
export interface OwnerVisibility {
  readonly settings: PrivacySettings;
  readonly facts: RelationFacts;
}

/**
 * Where privacy settings are kept, and the graph facts the rules read: the profile service owns
 * this port, profile/sql/privacy.ts implements it. `signal` as for ProfileStore.
 */
export interface PrivacyStore {
  /** The settings of `userId` (the defaults when never changed), or undefined without a profile. */
  findSettings(userId: UserId, signal?: AbortSignal): Promise<PrivacySettings | undefined>;
  /**
   * Applies a change atomically and returns the new settings, or undefined when nothing was
   * written: the audiences are already these, the version is not `expectedVersion`, or there is no
   * profile.
   */
  applySettings(change: PrivacyChange, signal?: AbortSignal): Promise<PrivacySettings | undefined>;
  /**
   * Each owner's settings and how each stands to `viewerId` (undefined: a viewer who is nobody's
   * contact), in one query; an owner missing from the answer has the defaults and no relation.
   */
  visibility(
    ownerIds: readonly UserId[],
    viewerId: UserId | undefined,
    signal?: AbortSignal,
  ): Promise<ReadonlyMap<UserId, OwnerVisibility>>;
  /** Whether either user blocks the other (ResolveHandle's answer for both is NOT_FOUND). */
  blockedEitherWay(userId: UserId, otherUserId: UserId, signal?: AbortSignal): Promise<boolean>;
}
