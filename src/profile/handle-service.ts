import type { Caller } from "../auth/caller.js";
import type { FieldViolation } from "../field-violations.js";
import type { Clock } from "./clock.js";
import {
  EtagMismatch,
  HandleClaimTooSoon,
  HandleNotFound,
  HandleTaken,
  InvalidHandle,
  InvalidHandleChange,
  NotProfileOwner,
  ProfileNotFound,
} from "./errors.js";
import { canonicalizeHandle, claimableBy, type HandleRules } from "./handle.js";
import { mayChangeProfile } from "./permissions.js";
import { type Profile, versionOfEtag } from "./profile.js";
import type { OwnerVisibility, PrivacyStore, ProfileStore, RegistrationHandle } from "./store.js";
import { malformedUserId, parseUserId, type UserId } from "./user-id.js";
import type { ProfileView, Viewer } from "./visibility.js";

export interface SetHandleCommand {
  /** As UpdateProfile: the user themself, or a caller with the admin scope. */
  readonly caller: Caller;
  readonly userId: string;
  /** As the client sent it; "" releases the current handle. */
  readonly handle: string;
  readonly etag?: string;
  readonly signal?: AbortSignal;
}

/** What CheckHandle says of a handle. */
export type HandleAvailability =
  | { readonly available: true; readonly handle: string }
  | { readonly available: false; readonly reason: "taken"; readonly handle: string }
  | { readonly available: false; readonly reason: "invalid"; readonly handle: "" };

/** What the handle use cases take from the profile service around them. */
export interface HandleServiceParts {
  readonly store: ProfileStore;
  readonly privacy: PrivacyStore;
  readonly rules: HandleRules;
  readonly clock: Clock;
  readonly visibilityOf: (
    ownerIds: readonly UserId[],
    viewer: Viewer,
    signal?: AbortSignal,
  ) => Promise<ReadonlyMap<UserId, OwnerVisibility>>;
  readonly viewsOf: (
    profiles: readonly Profile[],
    viewer: Viewer,
    known: ReadonlyMap<UserId, OwnerVisibility>,
  ) => ProfileView[];
}

/** `handle`'s violation, named by its field. */
const violationOf = (canonical: { readonly violation: Omit<FieldViolation, "field"> }) => ({
  field: "handle",
  ...canonical.violation,
});

/**
 * The handle use cases (docs/handles.md): SetHandle, CheckHandle, ResolveHandle, and the handle a
 * registration claims. The store decides who holds what, in the database; this decides who may
 * ask, what a handle is, and what each outcome is called.
 */
export function createHandleService(parts: HandleServiceParts) {
  const { store, privacy, rules, clock } = parts;
  return {
    async setHandle(command: SetHandleCommand): Promise<Profile> {
      const userId = parseUserId(command.userId);
      const canonical = command.handle === "" ? undefined : canonicalizeHandle(command.handle);
      const broken = canonical?.ok === false ? [violationOf(canonical)] : [];
      if (userId === undefined) {
        throw new InvalidHandleChange([malformedUserId("user_id"), ...broken]);
      }
      // Who asks first: a stranger learns nothing of the handle, not even whether it is valid.
      if (!mayChangeProfile(command.caller, userId)) throw new NotProfileOwner();
      if (canonical?.ok === false) throw new InvalidHandleChange(broken);
      const handle = canonical?.ok === true ? canonical.handle : "";
      if (rules.reserved.has(handle)) throw new HandleTaken(handle);
      const expectedVersion = command.etag === undefined ? undefined : versionOfEtag(command.etag);
      if (command.etag !== undefined && expectedVersion === undefined) {
        throw new EtagMismatch(userId);
      }
      const now = clock.now();
      const outcome = await store.setHandle(
        {
          userId,
          handle,
          expectedVersion,
          now,
          claimCooldownMs: rules.claimCooldownMs,
          releaseHoldMs: rules.releaseHoldMs,
        },
        command.signal,
      );
      switch (outcome.kind) {
        case "changed":
        case "unchanged":
          return outcome.profile;
        case "no-profile":
          throw new ProfileNotFound(userId);
        case "stale-version":
          throw new EtagMismatch(userId);
        case "taken":
          throw new HandleTaken(handle);
        case "too-soon":
          throw new HandleClaimTooSoon(
            userId,
            outcome.lastClaimAt.getTime() + rules.claimCooldownMs - now.getTime(),
          );
      }
    },

    /**
     * Whether `caller` could claim the handle now. A reserved handle is looked up all the same,
     * so that it answers after the same work as one somebody holds.
     */
    async checkHandle(
      caller: Caller,
      rawHandle: string,
      signal?: AbortSignal,
    ): Promise<HandleAvailability> {
      const canonical = canonicalizeHandle(rawHandle);
      if (!canonical.ok) return { available: false, reason: "invalid", handle: "" };
      const { handle } = canonical;
      const record = await store.findHandle(handle, signal);
      const claimable =
        !rules.reserved.has(handle) &&
        claimableBy(record, parseUserId(caller.subject), clock.now(), rules);
      return claimable
        ? { available: true, handle }
        : { available: false, reason: "taken", handle };
    },

    /**
     * The profile holding the handle as `viewer` sees it. Nobody holding it, and a block between
     * the holder and the viewer either way, are the same HandleNotFound.
     */
    async resolveHandle(
      rawHandle: string,
      viewer: Viewer,
      signal?: AbortSignal,
    ): Promise<ProfileView> {
      const canonical = canonicalizeHandle(rawHandle);
      if (!canonical.ok) throw new InvalidHandle([violationOf(canonical)]);
      const { handle } = canonical;
      const profile = await store.findByHandle(handle, signal);
      if (profile === undefined) throw new HandleNotFound(handle);
      const other =
        viewer.kind === "user" && viewer.userId !== undefined && viewer.userId !== profile.userId
          ? viewer.userId
          : undefined;
      const [blocked, known] = await Promise.all([
        other === undefined ? false : privacy.blockedEitherWay(profile.userId, other, signal),
        parts.visibilityOf([profile.userId], viewer, signal),
      ]);
      if (blocked) throw new HandleNotFound(handle);
      return parts.viewsOf([profile], viewer, known)[0] ?? profile;
    },

    /**
     * The handle a registration's username gives, for the store to claim with the profile: its
     * canonical form when valid and not reserved, else none (the profile is made without one).
     */
    registrationHandle(username: string | undefined): RegistrationHandle | undefined {
      if (username === undefined) return undefined;
      const canonical = canonicalizeHandle(username);
      if (!canonical.ok || rules.reserved.has(canonical.handle)) return undefined;
      return { handle: canonical.handle, now: clock.now(), releaseHoldMs: rules.releaseHoldMs };
    },
  };
}
