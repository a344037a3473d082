import { type FieldViolation, InvalidArgumentError } from "../errors.js";

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

/**
 * The canonical forms of `rawUserIds` without duplicates, in the order of first occurrence.
 *
 * @throws InvalidArgumentError naming every malformed id by its index (`user_ids[3]`).
 */
export function parseUniqueUserIds(rawUserIds: readonly string[]): UserId[] {
  const unique = new Set<UserId>();
  const violations: FieldViolation[] = [];
  rawUserIds.forEach((raw, index) => {
    const userId = parseUserId(raw);
    if (userId === undefined) violations.push(malformedUserId(`user_ids[${index}]`));
    else unique.add(userId);
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return [...unique];
}
