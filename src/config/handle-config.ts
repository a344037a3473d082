import { z } from "zod";
import { canonicalizeHandle, DEFAULT_RESERVED_HANDLES } from "../profile/handle.js";

/** The handle settings (docs/handles.md): the reserved list, the claim cooldown, the hold. */
export interface HandleConfig {
  /** Canonical handles nobody may claim. */
  readonly reserved: ReadonlySet<string>;
  readonly claimCooldownMs: number;
  readonly releaseHoldMs: number;
}

const seconds = z.coerce
  .number()
  .int()
  .min(0)
  .max(10 * 365 * 86_400);

/**
 * HANDLE_RESERVED: comma-separated handles, each canonicalized by the handle rules (so "@Admin" is
 * "admin"); one that breaks them fails the start, named. It replaces the default list.
 */
const reservedList = z
  .string()
  .default(DEFAULT_RESERVED_HANDLES.join(","))
  .transform((value, context) => {
    const reserved = new Set<string>();
    for (const item of value.split(",").map((entry) => entry.trim())) {
      if (item === "") continue;
      const canonical = canonicalizeHandle(item);
      if (canonical.ok) reserved.add(canonical.handle);
      else {
        context.addIssue({
          code: "custom",
          message: `"${item}" is no handle: ${canonical.violation.description}`,
        });
      }
    }
    return reserved;
  });

/** The handle variables, part of the environment load-config.ts reads. */
export const handleEnvironment = {
  HANDLE_RESERVED: reservedList,
  HANDLE_CLAIM_COOLDOWN_SECONDS: seconds.default(86_400),
  HANDLE_RELEASE_HOLD_SECONDS: seconds.default(1_209_600),
};

/** The handle settings from the parsed variables. */
export function handleConfigOf(e: {
  readonly HANDLE_RESERVED: ReadonlySet<string>;
  readonly HANDLE_CLAIM_COOLDOWN_SECONDS: number;
  readonly HANDLE_RELEASE_HOLD_SECONDS: number;
}): HandleConfig {
  return {
    reserved: e.HANDLE_RESERVED,
    claimCooldownMs: e.HANDLE_CLAIM_COOLDOWN_SECONDS * 1000,
    releaseHoldMs: e.HANDLE_RELEASE_HOLD_SECONDS * 1000,
  };
}
