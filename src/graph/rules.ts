import { type CheckedValue, checkBio, checkVisibleName } from "../profile/rules.js";
import { requireUserId, type UserId } from "../profile/user-id.js";
import { InvalidGraphRequest } from "./errors.js";

/** Page sizes: the default for 0, and the most one page holds (larger asks get this many). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

/** The canonical id in `other_user_id`, which cannot be `userId` itself. */
export function requireOtherUserId(raw: string, userId: UserId): UserId {
  const otherUserId = requireUserId(raw, "other_user_id");
  if (otherUserId === userId) {
    throw new InvalidGraphRequest([
      { field: "other_user_id", description: "cannot be user_id itself", reason: "SELF" },
    ]);
  }
  return otherUserId;
}

/** The size of the page to read for a requested `page_size`. */
export function pageSizeOf(requested: number): number {
  if (requested < 0) {
    throw new InvalidGraphRequest([
      { field: "page_size", description: "cannot be negative", reason: "NEGATIVE" },
    ]);
  }
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

/** A nickname follows the rules of a visible name, normalized; "" (no nickname) allowed. */
export function checkNickname(raw: string): string {
  return raw === "" ? "" : acceptedValue(checkVisibleName(raw), "nickname");
}

/** A block's reason follows the rules of a bio, normalized. */
export function checkReason(raw: string): string {
  return acceptedValue(checkBio(raw), "reason");
}

/** The normalized value, or the rule it breaks, reported under `field`. */
function acceptedValue(checked: CheckedValue, field: string): string {
  if ("value" in checked) return checked.value;
  throw new InvalidGraphRequest([{ field, ...checked }]);
}
