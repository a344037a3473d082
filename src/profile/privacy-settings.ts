import type { Caller } from "../auth/caller.js";
import {
  InvalidPrivacyChange,
  NotSettingsOwner,
  PrivacyEtagMismatch,
  ProfileNotFound,
} from "./errors.js";
import { mayChangeProfile } from "./permissions.js";
import { versionOfEtag } from "./profile.js";
import type { PrivacyStore } from "./store.js";
import { requireUserId, type UserId } from "./user-id.js";
import { type Audience, defaultPrivacySettings, type PrivacySettings } from "./visibility.js";

export interface PrivacyQuery {
  /** Only the owner, or a caller with the admin scope. */
  readonly caller: Caller;
  readonly userId: string;
  readonly signal?: AbortSignal;
}

export interface PrivacyCommand extends PrivacyQuery {
  /** Absent: unchanged. A raw value: an audience, or anything else (refused). */
  readonly avatarAudience?: Audience | "invalid";
  readonly bioAudience?: Audience | "invalid";
  readonly discoverableBy?: Audience | "invalid";
  /** Apply only if the stored settings have this etag. */
  readonly etag?: string;
}

/** The settings of an owner who never chose: everyone sees everything. */
export const DEFAULT_PRIVACY_SETTINGS = defaultPrivacySettings("" as UserId);

/** The privacy settings use cases: the owner's (or an admin's) reading and changing them. */
export function createPrivacySettingsService(privacy: PrivacyStore) {
  return {
    async getPrivacySettings(query: PrivacyQuery): Promise<PrivacySettings> {
      const userId = ownerOf(query);
      const settings = await privacy.findSettings(userId, query.signal);
      if (settings === undefined) throw new ProfileNotFound(userId);
      return settings;
    },

    /** A partial update of the audiences (discoverable_by among them), with the etag rules of updateProfile. */
    async updatePrivacySettings(command: PrivacyCommand): Promise<PrivacySettings> {
      const userId = ownerOf(command);
      const violations = [
        ...audienceViolation("avatar_audience", command.avatarAudience),
        ...audienceViolation("bio_audience", command.bioAudience),
        ...audienceViolation("discoverable_by", command.discoverableBy),
      ];
      if (violations.length > 0) throw new InvalidPrivacyChange(violations);
      const etag = command.etag;
      const expectedVersion = etag === undefined ? undefined : versionOfEtag(etag);
      if (etag !== undefined && expectedVersion === undefined) throw stalePrivacyEtag(userId);
      const avatarAudience = command.avatarAudience as Audience | undefined;
      const bioAudience = command.bioAudience as Audience | undefined;
      const discoverableBy = command.discoverableBy as Audience | undefined;
      const changed =
        avatarAudience === undefined && bioAudience === undefined && discoverableBy === undefined
          ? undefined
          : await privacy.applySettings(
              { userId, avatarAudience, bioAudience, discoverableBy, expectedVersion },
              command.signal,
            );
      if (changed !== undefined) return changed;
      // Nothing was written: the values are these already, the etag is stale, or no profile.
      const current = await privacy.findSettings(userId, command.signal);
      if (current === undefined) throw new ProfileNotFound(userId);
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw stalePrivacyEtag(userId);
      }
      return current;
    },
  };
}

/** The owner of the settings a call is about, once the caller may manage them. */
function ownerOf(query: PrivacyQuery): UserId {
  const userId = requireUserId(query.userId);
  if (!mayChangeProfile(query.caller, userId)) {
    throw new NotSettingsOwner();
  }
  return userId;
}

function audienceViolation(field: string, audience: Audience | "invalid" | undefined) {
  if (audience !== "invalid") return [];
  return [
    {
      field,
      description: "must be AUDIENCE_EVERYONE, AUDIENCE_CONTACTS or AUDIENCE_NOBODY",
      reason: "INVALID_AUDIENCE",
    },
  ];
}

function stalePrivacyEtag(userId: UserId): PrivacyEtagMismatch {
  return new PrivacyEtagMismatch(userId);
}
