import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema.js";
import { type ProfileRow, profileFromRow } from "../../db/tables/profiles.js";
import { recordTrace } from "../../db/traced-writes.js";
import type { HandleRecord } from "../handle.js";
import { searchNameOf } from "../search-text.js";
import type { HandleChange, HandleChangeOutcome, RegistrationHandle } from "../store.js";
import type { UserId } from "../user-id.js";
import { profileColumns } from "./reads.js";

// All SQL for the handles table, and the profile columns written with it. Uniqueness is the
// database's: the primary key of `handles` and the unique `profiles.handle`, so that of any number
// of concurrent claims of one handle exactly one commits. The times are the service's clock ($now),
// given by the use case; `updated_at` stays the database's, as for every profile write.

/** Ends a transaction without its writes, with what the caller answers instead. */
class RollBack extends Error {
  constructor(readonly outcome: HandleChangeOutcome) {
    super(outcome.kind);
  }
}

/**
 * Claims, changes or releases a handle (store.ts, HandleChange) in one transaction:
 *
 * ```sql
 * SELECT <profileColumns> FROM profiles WHERE user_id = $me FOR UPDATE;
 * SELECT max(claimed_at) FROM handles WHERE user_id = $me AND NOT by_registration;
 * UPDATE handles SET released_at = greatest($now, claimed_at) WHERE user_id = $me AND released_at IS NULL;
 * INSERT INTO handles (handle, user_id, claimed_at) VALUES ($h, $me, $now)
 * ON CONFLICT (handle) DO UPDATE SET user_id = $me, claimed_at = $now, released_at = NULL,
 *   by_registration = false
 * WHERE handles.released_at IS NOT NULL AND (handles.user_id = $me OR handles.released_at <= $now - hold)
 * RETURNING handle;
 * UPDATE profiles SET handle = $h, version = version + 1, updated_at = now() WHERE user_id = $me
 * RETURNING <profileColumns>
 * ```
 *
 * The previous handle is released before the claim (one handle in use per user, an index says),
 * and a claim that finds the handle taken rolls the release back.
 */
export async function changeHandle(
  db: Kysely<Database>,
  change: HandleChange,
  signal?: AbortSignal,
): Promise<HandleChangeOutcome> {
  try {
    return await db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom("profiles")
        .select(profileColumns)
        .where("user_id", "=", change.userId)
        .forUpdate()
        .executeTakeFirst({ signal });
      if (current === undefined) return { kind: "no-profile" };
      if (change.expectedVersion !== undefined && current.version !== change.expectedVersion) {
        return { kind: "stale-version" };
      }
      if ((current.handle ?? "") === change.handle) {
        return { kind: "unchanged", profile: profileFromRow(current) };
      }
      if (change.handle !== "") {
        const last = await lastClaimAt(trx, change.userId, signal);
        if (last !== undefined && last.getTime() > change.now.getTime() - change.claimCooldownMs) {
          return { kind: "too-soon", lastClaimAt: last };
        }
      }
      await recordTrace(trx);
      await releaseHandleOf(trx, change.userId, change.now, signal);
      if (change.handle !== "") {
        const claimed = await claim(trx, change, false, signal);
        if (!claimed) throw new RollBack({ kind: "taken" });
      }
      const row = await trx
        .updateTable("profiles")
        .set({
          handle: change.handle === "" ? null : change.handle,
          version: sql<number>`profiles.version + 1`,
          updated_at: sql<Date>`now()`,
        })
        .where("user_id", "=", change.userId)
        .returning(profileColumns)
        .executeTakeFirstOrThrow({ signal });
      return { kind: "changed", profile: profileFromRow(row) };
    });
  } catch (error) {
    if (error instanceof RollBack) return error.outcome;
    throw error;
  }
}

/**
 * Creates a registered user's profile with the handle their username gives, if the handle is free,
 * in one transaction, so that ProfileCreated carries it; without it when it is not. Returns
 * whether the profile was created (not when it exists, or the account was deleted).
 *
 * ```sql
 * SELECT 1 FROM profiles WHERE user_id = $1;
 * INSERT INTO handles (handle, user_id, claimed_at, by_registration) VALUES ($h, $1, $now, true)
 * ON CONFLICT (handle) DO UPDATE … WHERE handles.released_at <= $now - hold RETURNING handle;
 * INSERT INTO profiles (user_id, display_name, search_name, handle) VALUES ($1, $2, $3, $h or NULL)
 * ON CONFLICT DO NOTHING
 * ```
 */
export async function insertProfileWithHandle(
  db: Kysely<Database>,
  userId: UserId,
  displayName: string,
  registration: RegistrationHandle,
): Promise<boolean> {
  try {
    return await db.transaction().execute(async (trx) => {
      await recordTrace(trx);
      const existing = await trx
        .selectFrom("profiles")
        .select("user_id")
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (existing !== undefined) return false;
      const change = { ...registration, userId, claimCooldownMs: 0 };
      const claimed = await claim(trx, change, true);
      const result = await trx
        .insertInto("profiles")
        .values({
          user_id: userId,
          display_name: displayName,
          search_name: searchNameOf(displayName),
          handle: claimed ? registration.handle : null,
        })
        .onConflict((conflict) => conflict.column("user_id").doNothing())
        .executeTakeFirst();
      const created = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
      // Created meanwhile, or deleted for good (the tombstone's trigger skips the insert).
      if (!created) throw new RollBack({ kind: "no-profile" });
      return true;
    });
  } catch (error) {
    if (error instanceof RollBack) return false;
    throw error;
  }
}

/**
 * The record of one canonical handle.
 *
 * `SELECT handle, user_id, claimed_at, released_at FROM handles WHERE handle = $1`
 */
export async function findHandleRecord(
  db: Kysely<Database>,
  handle: string,
  signal?: AbortSignal,
): Promise<HandleRecord | undefined> {
  const row = await db
    .selectFrom("handles")
    .select(["handle", "user_id", "claimed_at", "released_at"])
    .where("handle", "=", handle)
    .executeTakeFirst({ signal });
  if (row === undefined) return undefined;
  return {
    handle: row.handle,
    userId: row.user_id,
    claimedAt: row.claimed_at,
    releasedAt: row.released_at ?? undefined,
  };
}

/**
 * The profile holding a canonical handle (the unique index on `profiles.handle`).
 *
 * `SELECT <profileColumns> FROM profiles WHERE handle = $1`
 */
export async function findProfileByHandle(
  db: Kysely<Database>,
  handle: string,
  signal?: AbortSignal,
): Promise<ProfileRow | undefined> {
  return db
    .selectFrom("profiles")
    .select(profileColumns)
    .where("handle", "=", handle)
    .executeTakeFirst({ signal });
}

/** When the user last claimed a handle themself (registrations' claims are left out). */
async function lastClaimAt(
  trx: Transaction<Database>,
  userId: UserId,
  signal?: AbortSignal,
): Promise<Date | undefined> {
  const row = await trx
    .selectFrom("handles")
    .select((eb) => eb.fn.max("claimed_at").as("last"))
    .where("user_id", "=", userId)
    .where("by_registration", "=", false)
    .executeTakeFirst({ signal });
  return row?.last ?? undefined;
}

async function releaseHandleOf(
  trx: Transaction<Database>,
  userId: UserId,
  now: Date,
  signal?: AbortSignal,
): Promise<void> {
  await trx
    .updateTable("handles")
    .set({ released_at: sql<Date>`greatest(${now}::timestamptz, claimed_at)` })
    .where("user_id", "=", userId)
    .where("released_at", "is", null)
    .execute({ signal });
}

/** Inserts or takes over the handle's record; whether the claim won. */
async function claim(
  trx: Transaction<Database>,
  change: Pick<HandleChange, "userId" | "handle" | "now" | "releaseHoldMs">,
  byRegistration: boolean,
  signal?: AbortSignal,
): Promise<boolean> {
  const heldUntil = new Date(change.now.getTime() - change.releaseHoldMs);
  const row = await trx
    .insertInto("handles")
    .values({
      handle: change.handle,
      user_id: change.userId,
      claimed_at: change.now,
      by_registration: byRegistration,
    })
    .onConflict((conflict) =>
      conflict
        .column("handle")
        .doUpdateSet({
          user_id: change.userId,
          claimed_at: change.now,
          released_at: null,
          by_registration: byRegistration,
        })
        .where("handles.released_at", "is not", null)
        .where((eb) =>
          eb.or([
            eb("handles.user_id", "=", change.userId),
            eb("handles.released_at", "<=", heldUntil),
          ]),
        ),
    )
    .returning("handle")
    .executeTakeFirst({ signal });
  return row !== undefined;
}
