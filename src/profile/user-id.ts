import type { FieldViolation } from "../errors.js";

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
