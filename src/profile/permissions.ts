import { type Caller, PROFILE_ADMIN_SCOPE } from "../auth/caller.js";
import { parseUserId, type UserId } from "./user-id.js";

/** The user themself, or a caller with the admin scope. */
export function mayChangeProfile(caller: Caller, userId: UserId): boolean {
  return parseUserId(caller.subject) === userId || caller.scopes.has(PROFILE_ADMIN_SCOPE);
}
