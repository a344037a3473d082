import type { FieldViolation } from "../field-violations.js";

// The rules of a handle (Profile.handle in the proto, docs/handles.md). Pure: who holds a handle
// is the store's business, and the times come from the clock the use cases are given.

export const HANDLE_MIN_LENGTH = 3;
export const HANDLE_MAX_LENGTH = 32;
/**
 * Longest raw text canonicalized, in UTF-16 units: NFKC's work is bounded, and no valid handle
 * needs more (a fullwidth letter is one unit, "＠" too; a ligature folds into two or three).
 */
export const HANDLE_RAW_MAX_UNITS = 64;

/** The canonical form's rule, the one the migration's CHECK constraints hold too. */
const canonicalHandle = /^[a-z][a-z0-9_]{2,31}$/;
const handleCharacters = /^[a-z0-9_]*$/;

/**
 * Handles nobody may claim: names that pass for the service or its staff, and words a chat client
 * gives a meaning (@everyone, @here) or a program prints for nothing (null, undefined).
 * HANDLE_RESERVED replaces the list.
 */
export const DEFAULT_RESERVED_HANDLES: readonly string[] = Object.freeze([
  "abuse",
  "admin",
  "administrator",
  "all",
  "api",
  "channel",
  "everyone",
  "help",
  "here",
  "info",
  "mod",
  "moderator",
  "nobody",
  "noreply",
  "null",
  "official",
  "postmaster",
  "realchat",
  "root",
  "security",
  "staff",
  "support",
  "system",
  "undefined",
  "webmaster",
]);

/** A handle canonicalized, or the rule it breaks and why. */
export type CanonicalHandle =
  | { readonly ok: true; readonly handle: string }
  | { readonly ok: false; readonly violation: Omit<FieldViolation, "field"> };

const refused = (description: string, reason: string): CanonicalHandle => ({
  ok: false,
  violation: { description, reason },
});

/**
 * The canonical form of a handle as a client sent it: one leading "@" dropped, NFKC-normalized,
 * lower-cased; then it must be 3 to 32 characters of [a-z0-9_] starting with a letter. Fullwidth
 * forms, ligatures and the Kelvin sign fold into ASCII by NFKC; letters of other scripts that
 * merely look Latin (Cyrillic "а", Greek "ο") do not, and are refused.
 */
export function canonicalizeHandle(raw: string): CanonicalHandle {
  if (raw.length > HANDLE_RAW_MAX_UNITS) {
    return refused(`must be at most ${HANDLE_MAX_LENGTH} characters`, "TOO_LONG");
  }
  if (!raw.isWellFormed()) return refused("must be valid Unicode text", "INVALID_UNICODE");
  const folded = raw.normalize("NFKC").toLowerCase();
  // After NFKC, so that a fullwidth "＠" counts as the "@" it is.
  const handle = folded.startsWith("@") ? folded.slice(1) : folded;
  if (handle === "") return refused("cannot be empty", "REQUIRED");
  if (!handleCharacters.test(handle)) {
    return refused(
      "may contain only the letters a-z, the digits 0-9 and _ (letters of other scripts are refused)",
      "INVALID_CHARACTER",
    );
  }
  if (handle.length < HANDLE_MIN_LENGTH) {
    return refused(`must be at least ${HANDLE_MIN_LENGTH} characters`, "TOO_SHORT");
  }
  if (handle.length > HANDLE_MAX_LENGTH) {
    return refused(`must be at most ${HANDLE_MAX_LENGTH} characters`, "TOO_LONG");
  }
  if (!canonicalHandle.test(handle))
    return refused("must start with a letter", "MUST_START_WITH_LETTER");
  return { ok: true, handle };
}

/** What the handle use cases need to know besides the store: the reserved list and the times. */
export interface HandleRules {
  /** Canonical handles nobody may claim. */
  readonly reserved: ReadonlySet<string>;
  /** Least time between two claims by one user (a registration's claim does not count). */
  readonly claimCooldownMs: number;
  /** How long a released handle stays its last holder's to claim again. */
  readonly releaseHoldMs: number;
}

/** 24 hours between claims, 14 days of hold, the default reserved list. */
export const DEFAULT_HANDLE_RULES: HandleRules = Object.freeze({
  reserved: new Set(DEFAULT_RESERVED_HANDLES),
  claimCooldownMs: 86_400_000,
  releaseHoldMs: 1_209_600_000,
});

/** One handle as the store keeps it: who holds it (or held it last), since when, released when. */
export interface HandleRecord {
  readonly handle: string;
  readonly userId: string;
  readonly claimedAt: Date;
  /** undefined while in use. */
  readonly releasedAt: Date | undefined;
}

/**
 * Whether `userId` (undefined: nobody's) may claim a handle whose record is `record` at `now`:
 * when nobody ever held it, when they hold it, or when it was released by them, or long enough
 * ago by anyone.
 */
export function claimableBy(
  record: HandleRecord | undefined,
  userId: string | undefined,
  now: Date,
  rules: Pick<HandleRules, "releaseHoldMs">,
): boolean {
  if (record === undefined) return true;
  if (record.userId === userId) return true;
  return (
    record.releasedAt !== undefined &&
    record.releasedAt.getTime() <= now.getTime() - rules.releaseHoldMs
  );
}
