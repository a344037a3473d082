import type { FieldViolation } from "../field-violations.js";
import { InvalidUserId } from "./errors.js";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user id in canonical form: a lower-case hyphenated UUID. */
export type UserId = string & { readonly __brand: "UserId" };

/**
 * Returns the canonical form of a UUID written in any case, or `undefined` for anything else,
 * a value that is not a string included (`RegExp.test` would turn `[uuid]` into a match).
 */
export function parseUserId(raw: unknown): UserId | undefined {
  return typeof raw === "string" && uuidPattern.test(raw)
    ? (raw.toLowerCase() as UserId)
    : undefined;
}

/** The violation for a malformed user id in `field`. */
export function malformedUserId(field: string): FieldViolation {
  return {
    field,
    description: "must be a UUID such as 0b7c3f5e-8f2a-4c1d-9e6b-2a4d5f6e7c8b",
    reason: "INVALID_USER_ID",
  };
}

/** Most ids one call may ask about (BatchGetProfiles, GetRelationships). */
export const MAX_IDS_PER_CALL = 1000;

/**
 * The canonical form of the id in `field`.
 *
 * @throws InvalidUserId naming `field` when it is no UUID.
 */
export function requireUserId(raw: string, field = "user_id"): UserId {
  const userId = parseUserId(raw);
  if (userId === undefined) throw new InvalidUserId([malformedUserId(field)]);
  return userId;
}

/**
 * The distinct ids of the list in `field`, canonical, in the order of first occurrence.
 *
 * @throws InvalidUserId for more than MAX_IDS_PER_CALL ids (reason TOO_MANY), or naming
 * every malformed one (`field[3]`).
 */
export function uniqueUserIds(rawUserIds: readonly string[], field: string): UserId[] {
  if (rawUserIds.length > MAX_IDS_PER_CALL) {
    throw new InvalidUserId([
      {
        field,
        description: `must hold at most ${MAX_IDS_PER_CALL} ids, got ${rawUserIds.length}`,
        reason: "TOO_MANY",
      },
    ]);
  }
  const unique = new Set<UserId>();
  const violations: FieldViolation[] = [];
  rawUserIds.forEach((raw, index) => {
    const userId = parseUserId(raw);
    if (userId === undefined) violations.push(malformedUserId(`${field}[${index}]`));
    else unique.add(userId);
  });
  if (violations.length > 0) throw new InvalidUserId(violations);
  return [...unique];
}
