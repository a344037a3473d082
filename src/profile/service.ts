import { type Caller, PROFILE_ADMIN_SCOPE } from "../auth/caller.js";
import { type Clock, systemClock } from "./clock.js";
import {
  AdminScopeRequired,
  EtagMismatch,
  InvalidProfileChange,
  NotProfileOwner,
  ProfileNotFound,
} from "./errors.js";
import { DEFAULT_HANDLE_RULES, type HandleRules } from "./handle.js";
import { createHandleService } from "./handle-service.js";
import { mayChangeProfile } from "./permissions.js";
import { createPrivacySettingsService, DEFAULT_PRIVACY_SETTINGS } from "./privacy-settings.js";
import { type Profile, versionOfEtag } from "./profile.js";
import { checkProfileFields, type FieldRuleOptions, type ProfileFields } from "./rules.js";
import { createProfileSearch, type SearchStore } from "./search.js";
import type { OwnerVisibility, PrivacyStore, ProfileStore } from "./store.js";
import {
  malformedUserId,
  parseUserId,
  requireUserId,
  type UserId,
  uniqueUserIds,
} from "./user-id.js";
import { NO_RELATION, type ProfileView, type Viewer, viewFor } from "./visibility.js";

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

/** BatchResult as one viewer sees it. */
export interface ViewBatch {
  readonly views: ProfileView[];
  readonly missingUserIds: UserId[];
}

export interface DeleteCommand {
  /** Who asks: only a caller with the admin scope may delete a profile. */
  readonly caller: Caller;
  readonly userId: string;
  readonly signal?: AbortSignal;
}

export type ProfileService = ReturnType<typeof createProfileService>;

/**
 * The profile use cases. Inputs are raw client values: they are checked and normalized here, and
 * every refusal is one of profile/errors.ts. An optional AbortSignal (the caller's) is passed to
 * the store, which skips queries not yet sent once it aborts; the call then rejects with the
 * signal's reason.
 */
export function createProfileService(
  store: ProfileStore,
  rules: FieldRuleOptions,
  privacy: PrivacyStore,
  searchStore: SearchStore,
  handles: { readonly rules: HandleRules; readonly clock: Clock } = {
    rules: DEFAULT_HANDLE_RULES,
    clock: systemClock,
  },
) {
  const privacySettings = createPrivacySettingsService(privacy);
  /** Each owner's settings and relation to a user viewer, in one store call. */
  const visibilityOf = async (
    ownerIds: readonly UserId[],
    viewer: Viewer,
    signal?: AbortSignal,
  ): Promise<ReadonlyMap<UserId, OwnerVisibility>> => {
    if (viewer.kind === "trusted") return new Map();
    const others = ownerIds.filter((ownerId) => ownerId !== viewer.userId);
    return others.length === 0 ? new Map() : privacy.visibility(others, viewer.userId, signal);
  };

  /** What `viewer` sees of each profile, given what visibilityOf found of their owners. */
  const viewsOf = (
    profiles: readonly Profile[],
    viewer: Viewer,
    known: ReadonlyMap<UserId, OwnerVisibility>,
  ): ProfileView[] =>
    profiles.map((profile) => {
      const visibility = known.get(profile.userId);
      return viewFor(
        profile,
        viewer,
        visibility?.settings ?? DEFAULT_PRIVACY_SETTINGS,
        visibility?.facts ?? NO_RELATION,
      );
    });

  const batchOf = async (
    userIds: readonly UserId[],
    signal?: AbortSignal,
  ): Promise<BatchResult> => {
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
  };

  /** The profiles of `userIds` as `viewer` sees them, the settings and relations in one store call. */
  const viewBatchOf = async (
    userIds: readonly UserId[],
    viewer: Viewer,
    signal?: AbortSignal,
  ): Promise<ViewBatch> => {
    const [{ profiles, missingUserIds }, known] = await Promise.all([
      batchOf(userIds, signal),
      visibilityOf(userIds, viewer, signal),
    ]);
    return { views: viewsOf(profiles, viewer, known), missingUserIds };
  };

  const { registrationHandle, ...handleUseCases } = createHandleService({
    store,
    privacy,
    ...handles,
    visibilityOf,
    viewsOf,
  });

  return {
    visibilityOf,
    ...handleUseCases,

    async batchGetProfiles(rawUserIds: readonly string[], signal?: AbortSignal) {
      return batchOf(uniqueUserIds(rawUserIds, "user_ids"), signal);
    },

    /** GetProfile for `viewer`: the profile as they may see it. */
    async getProfileView(
      rawUserId: string,
      viewer: Viewer,
      signal?: AbortSignal,
    ): Promise<ProfileView> {
      const userId = requireUserId(rawUserId);
      // Read side by side: the facts of an owner without a profile are never used.
      const [profile, known] = await Promise.all([
        store.find(userId, signal),
        visibilityOf([userId], viewer, signal),
      ]);
      if (profile === undefined) throw new ProfileNotFound(userId);
      return viewsOf([profile], viewer, known)[0] ?? profile;
    },

    /** BatchGetProfiles for `viewer`: the settings and relations in one store call. */
    async batchGetProfileViews(
      rawUserIds: readonly string[],
      viewer: Viewer,
      signal?: AbortSignal,
    ): Promise<ViewBatch> {
      return viewBatchOf(uniqueUserIds(rawUserIds, "user_ids"), viewer, signal);
    },

    ...privacySettings,

    /** SearchProfiles (docs/search.md): what it finds, as `viewer` sees it. */
    ...createProfileSearch(searchStore, viewBatchOf),

    async getProfile(rawUserId: string, signal?: AbortSignal): Promise<Profile> {
      const userId = requireUserId(rawUserId);
      const profile = await store.find(userId, signal);
      if (profile === undefined) throw new ProfileNotFound(userId);
      return profile;
    },

    /**
     * Creates the default profile of a newly registered user, unless one exists already (a
     * repeated event, or an UpdateProfile that came first). The display name is the first
     * candidate the rules accept, normalized, else "". The username becomes the handle, in the
     * same transaction, when it is a valid handle, not reserved and free; else there is none.
     * Returns whether a profile was created.
     */
    async provisionProfile(
      rawUserId: string,
      nameCandidates: readonly string[],
      username?: string,
    ): Promise<boolean> {
      const userId = requireUserId(rawUserId);
      let displayName = "";
      for (const name of nameCandidates) {
        const checked = checkProfileFields({ displayName: name }, rules);
        if (checked.ok) {
          displayName = checked.fields.displayName ?? "";
          break;
        }
      }
      return store.createIfMissing(userId, displayName, registrationHandle(username));
    },

    /**
     * Deletes an account (Auth's `auth.user.deleted`): its profile, every contact and block on
     * either side, and never again a profile under this id. Returns the final version announced
     * in ProfileDeleted, or `undefined` when there was no profile (deleting again is harmless).
     */
    async deleteAccount(rawUserId: string, signal?: AbortSignal): Promise<number | undefined> {
      return store.delete(requireUserId(rawUserId), signal);
    },

    /** deleteAccount for the DeleteProfile RPC: only callers with the admin scope. */
    async deleteProfile(command: DeleteCommand): Promise<number | undefined> {
      const userId = requireUserId(command.userId);
      if (!command.caller.scopes.has(PROFILE_ADMIN_SCOPE)) {
        throw new AdminScopeRequired();
      }
      return store.delete(userId, command.signal);
    },

    async updateProfile(command: UpdateCommand): Promise<Profile> {
      const userId = parseUserId(command.userId);
      if (userId === undefined) {
        // No profile to own: report every broken rule at once (the rules' work is bounded).
        const checked = checkProfileFields(command.fields, rules);
        const fieldViolations = checked.ok ? [] : checked.violations;
        throw new InvalidProfileChange([malformedUserId("user_id"), ...fieldViolations]);
      }
      // Who asks is checked before the field rules: a stranger's text costs nothing to refuse.
      if (!mayChangeProfile(command.caller, userId)) {
        throw new NotProfileOwner();
      }
      const checked = checkProfileFields(command.fields, rules);
      if (!checked.ok) throw new InvalidProfileChange(checked.violations);

      const { fields } = checked;
      const etag = command.etag;
      const expectedVersion = etag === undefined ? undefined : versionOfEtag(etag);
      if (etag !== undefined && expectedVersion === undefined) throw new EtagMismatch(userId);

      const hasChanges = Object.values(fields).some((value) => value !== undefined);
      const changed = hasChanges
        ? await store.apply({ userId, fields, expectedVersion }, command.signal)
        : undefined;
      if (changed !== undefined) return changed;

      // Nothing was written: either the values are already stored, or the etag did not match.
      // The profile read here may be newer than the one the change saw; a concurrent change then
      // shows up as a stale etag, which is what it is. It is read from the database: a cached
      // copy may predate the version that refused the change.
      const current = await store.findLatest(userId, command.signal);
      if (current === undefined) {
        if (etag !== undefined) throw new EtagMismatch(userId);
        throw new ProfileNotFound(userId);
      }
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new EtagMismatch(userId);
      }
      return current;
    },
  };
}
