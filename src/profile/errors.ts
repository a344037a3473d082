import { FieldRulesBroken } from "../field-violations.js";
import type { UserId } from "./user-id.js";

/** A user id, or a list of them, breaks the id rules: no UUID, or more ids than one call takes. */
export class InvalidUserId extends FieldRulesBroken {
  override readonly name = "InvalidUserId";
}

/** An UpdateProfile whose fields break the field rules (with its user_id, when that is no id). */
export class InvalidProfileChange extends FieldRulesBroken {
  override readonly name = "InvalidProfileChange";
}

export class ProfileNotFound extends Error {
  override readonly name = "ProfileNotFound";
  constructor(readonly userId: UserId) {
    super(`no profile for user ${userId}`);
  }
}

/**
 * The etag sent with a change does not name the stored version (a concurrent change came first,
 * or the etag is none of ours); nothing was changed. The caller reads again and retries.
 */
export class EtagMismatch extends Error {
  override readonly name = "EtagMismatch";
  constructor(readonly userId: UserId) {
    super(`etag does not match the stored profile of user ${userId}`);
  }
}

/** A change of a profile by someone other than its user, without the admin scope. */
export class NotProfileOwner extends Error {
  override readonly name = "NotProfileOwner";
  constructor() {
    super("a profile may be changed only by its own user");
  }
}

/** A DeleteProfile by a caller without the admin scope. */
export class AdminScopeRequired extends Error {
  override readonly name = "AdminScopeRequired";
  constructor() {
    super("a profile may be deleted only with the admin scope");
  }
}

/** A user token that names a viewer other than itself: only service tokens read for others. */
export class ViewerNotAllowed extends Error {
  override readonly name = "ViewerNotAllowed";
  constructor() {
    super("only a service token may read for another viewer");
  }
}

/** Privacy settings asked for, or changed, by someone other than their user, without the admin scope. */
export class NotSettingsOwner extends Error {
  override readonly name = "NotSettingsOwner";
  constructor() {
    super("privacy settings are only for their own user");
  }
}

/** An UpdatePrivacySettings with an audience that is none of the three. */
export class InvalidPrivacyChange extends FieldRulesBroken {
  override readonly name = "InvalidPrivacyChange";
}

/** The etag sent with a settings change does not name the stored settings; nothing was changed. */
export class PrivacyEtagMismatch extends Error {
  override readonly name = "PrivacyEtagMismatch";
  constructor(readonly userId: UserId) {
    super(`etag does not match the stored privacy settings of user ${userId}`);
  }
}

/** A SearchProfiles whose query, page size or page token breaks the search's rules. */
export class InvalidSearchRequest extends FieldRulesBroken {
  override readonly name = "InvalidSearchRequest";
}

/** A SetHandle whose handle (or user_id) breaks the handle rules. */
export class InvalidHandleChange extends FieldRulesBroken {
  override readonly name = "InvalidHandleChange";
}

/** A CheckHandle or ResolveHandle whose handle cannot be canonicalized. */
export class InvalidHandle extends FieldRulesBroken {
  override readonly name = "InvalidHandle";
}

/**
 * The handle asked for is someone else's, held after another user released it, or reserved: one
 * error for the three, so that the answer tells nothing of which.
 */
export class HandleTaken extends Error {
  override readonly name = "HandleTaken";
  constructor(readonly handle: string) {
    super(`the handle ${handle} is not available`);
  }
}

/** A claim sooner than the cooldown after the user's last one; nothing was changed. */
export class HandleClaimTooSoon extends Error {
  override readonly name = "HandleClaimTooSoon";
  constructor(
    readonly userId: UserId,
    /** How long until a claim is allowed again. */
    readonly retryAfterMs: number,
  ) {
    super(
      "a handle may be claimed once per cooldown; retry after the delay in google.rpc.RetryInfo",
    );
  }
}

/** No profile holds the handle, or one does whom the viewer blocks or who blocks the viewer. */
export class HandleNotFound extends Error {
  override readonly name = "HandleNotFound";
  constructor(readonly handle: string) {
    super(`no profile has the handle ${handle}`);
  }
}
