import { type Caller, PROFILE_ADMIN_SCOPE } from "../auth/caller.js";
import {
  EtagMismatchError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
} from "../errors.js";
import { type Profile, versionOfEtag } from "./profile.js";
import { checkProfileFields, type FieldRuleOptions, type ProfileFields } from "./profile-rules.js";
import type { ProfileStore } from "./profile-store.js";
import { malformedUserId, parseUniqueUserIds, parseUserId, type UserId } from "./user-id.js";

/** Most ids one BatchGetProfiles call may ask for. */
const MAX_BATCH_SIZE = 1000;

export interface BatchResult {
  /** Found profiles, in the order of each id's first occurrence in the request. */
  readonly profiles: Profile[];
  /** Requested ids with no profile, canonical and without duplicates, in request order. */
  readonly missingUserIds: UserId[];
}

export interface UpdateCommand {
  /** Who asks: only the user themself, or a caller with the admin scope, may change a profile. */
  readonly caller: Caller;
  readonly userId: string;
  /** Raw field values as the client sent them; absent fields stay unchanged. */
  readonly fields: ProfileFields;
  /** Apply only if the stored profile has this etag. */
  readonly etag?: string;
  /** The call's signal: once aborted, queries not yet sent are skipped. */
  readonly signal?: AbortSignal;
}

export type ProfileService = ReturnType<typeof createProfileService>;

/**
 * The profile use cases. Inputs are raw client values: they are checked and normalized here, and
 * every refusal is an InvalidArgumentError, NotFoundError, PermissionDeniedError or
 * EtagMismatchError. An optional AbortSignal (the caller's) is passed to the store, which skips
 * queries not yet sent once it aborts; the call then rejects with the signal's reason.
 */
export function createProfileService(store: ProfileStore, rules: FieldRuleOptions) {
  return {
    async getProfile(rawUserId: string, signal?: AbortSignal): Promise<Profile> {
      const userId = requireUserId(rawUserId);
      const profile = await store.find(userId, signal);
      if (profile === undefined) throw new NotFoundError(`no profile for user ${userId}`);
      return profile;
    },

    async batchGetProfiles(
      rawUserIds: readonly string[],
      signal?: AbortSignal,
    ): Promise<BatchResult> {
      const userIds = uniqueUserIds(rawUserIds);
      const stored = userIds.length === 0 ? [] : await store.findMany(userIds, signal);
      const found = new Map(stored.map((profile) => [profile.userId, profile]));
      const profiles: Profile[] = [];
      const missingUserIds: UserId[] = [];
      for (const userId of userIds) {
        const profile = found.get(userId);
        if (profile === undefined) missingUserIds.push(userId);
        else profiles.push(profile);
      }
      return { profiles, missingUserIds };
    },

    /**
     * Creates the default profile of a newly registered user, unless one exists already (a
     * repeated event, or an UpdateProfile that came first). The display name is the first
     * candidate the rules accept, normalized, else "". Returns whether a profile was created.
     */
    async provisionProfile(rawUserId: string, nameCandidates: readonly string[]): Promise<boolean> {
      const userId = requireUserId(rawUserId);
      let displayName = "";
      for (const name of nameCandidates) {
        const checked = checkProfileFields({ displayName: name }, rules);
        if (checked.ok) {
          displayName = checked.fields.displayName ?? "";
          break;
        }
      }
      return store.createIfMissing(userId, displayName);
    },

    async updateProfile(command: UpdateCommand): Promise<Profile> {
      const userId = parseUserId(command.userId);
      if (userId === undefined) {
        // No profile to own: report every broken rule at once (the rules' work is bounded).
        const checked = checkProfileFields(command.fields, rules);
        const fieldViolations = checked.ok ? [] : checked.violations;
        throw new InvalidArgumentError([malformedUserId("user_id"), ...fieldViolations]);
      }
      // Who asks is checked before the field rules: a stranger's text costs nothing to refuse.
      if (!mayChangeProfile(command.caller, userId)) {
        throw new PermissionDeniedError("a profile may be changed only by its own user");
      }
      const checked = checkProfileFields(command.fields, rules);
      if (!checked.ok) throw new InvalidArgumentError(checked.violations);

      const { fields } = checked;
      const etag = command.etag;
      const expectedVersion = etag === undefined ? undefined : versionOfEtag(etag);
      if (etag !== undefined && expectedVersion === undefined) throw staleEtag(userId);

      const hasChanges = Object.values(fields).some((value) => value !== undefined);
      const changed = hasChanges
        ? await store.apply({ userId, fields, expectedVersion }, command.signal)
        : undefined;
      if (changed !== undefined) return changed;

      // Nothing was written: either the values are already stored, or the etag did not match.
      // The profile read here may be newer than the one the change saw; a concurrent change then
      // shows up as a stale etag, which is what it is.
      const current = await store.find(userId, command.signal);
      if (current === undefined) {
        if (etag !== undefined) throw staleEtag(userId);
        throw new NotFoundError(`no profile for user ${userId}`);
      }
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw staleEtag(userId);
      }
      return current;
    },
  };
}

function mayChangeProfile(caller: Caller, userId: UserId): boolean {
  return parseUserId(caller.subject) === userId || caller.scopes.has(PROFILE_ADMIN_SCOPE);
}

function requireUserId(raw: string): UserId {
  const userId = parseUserId(raw);
  if (userId === undefined) throw new InvalidArgumentError([malformedUserId("user_id")]);
  return userId;
}

function uniqueUserIds(rawUserIds: readonly string[]): UserId[] {
  if (rawUserIds.length > MAX_BATCH_SIZE) {
    throw new InvalidArgumentError([
      {
        field: "user_ids",
        description: `must hold at most ${MAX_BATCH_SIZE} ids, got ${rawUserIds.length}`,
        reason: "TOO_MANY",
      },
    ]);
  }
  return parseUniqueUserIds(rawUserIds);
}

function staleEtag(userId: UserId): EtagMismatchError {
  return new EtagMismatchError(`etag does not match the stored profile of user ${userId}`);
}
