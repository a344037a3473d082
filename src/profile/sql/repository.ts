import { type Kysely, sql } from "kysely";
import type { Database } from "../../db/schema.js";
import { type ProfileRow, profileFromRow } from "../../db/tables/profiles.js";
import { recordTrace, tracedWrite } from "../../db/traced-writes.js";
import type { Profile } from "../profile.js";
import type { ProfileFields } from "../rules.js";
import { searchNameOf } from "../search-text.js";
import type { ProfileChange, ProfileStore } from "../store.js";
import type { UserId } from "../user-id.js";
import { coalescedLookups } from "./coalesced-lookups.js";
import {
  changeHandle,
  findHandleRecord,
  findProfileByHandle,
  insertProfileWithHandle,
} from "./handles.js";
import { profileColumns } from "./reads.js";

// All SQL for the profiles table, and the ProfileStore the profile service uses on top of it.
// Functions take the Kysely instance (or a transaction) first.
// The optional `signal` is the call's: once it aborts (the client reset or left, the deadline
// passed) a query still waiting for a pooled connection is never sent, and the connection goes
// back unused; one already sent runs to its end (statements are short and bounded by the
// statement timeout, and cancelling one costs a second connection).
// Writes record the call's trace, if any, for the outbox rows they cause (db/traced-writes.ts).

/** The profile store on this database: the statements below, their rows mapped to profiles. */
export function createProfileStore(db: Kysely<Database>): ProfileStore {
  const lookUp = coalescedLookups(db);
  // Not `this.find`: the stores around this one copy its methods, and `this` would be theirs.
  const find = async (userId: UserId, signal?: AbortSignal) => {
    const row = (await lookUp([userId], signal)).get(userId);
    return row === undefined ? undefined : profileFromRow(row);
  };
  return {
    find,
    findLatest: find,
    async findMany(userIds, signal) {
      const rows = await lookUp(userIds, signal);
      const profiles: Profile[] = [];
      for (const userId of new Set(userIds)) {
        const row = rows.get(userId);
        if (row !== undefined) profiles.push(profileFromRow(row));
      }
      return profiles;
    },
    async apply(change, signal) {
      const row = await tracedWrite(db, (writer) => applyProfileChange(writer, change, signal));
      return row === undefined ? undefined : profileFromRow(row);
    },
    createIfMissing: (userId, displayName, handle) =>
      handle === undefined
        ? tracedWrite(db, (writer) => insertProfileIfMissing(writer, userId, displayName))
        : insertProfileWithHandle(db, userId, displayName, handle),
    delete: (userId, signal) => deleteProfile(db, userId, signal),
    setHandle: (change, signal) => changeHandle(db, change, signal),
    findHandle: (handle, signal) => findHandleRecord(db, handle, signal),
    async findByHandle(handle, signal) {
      const row = await findProfileByHandle(db, handle, signal);
      return row === undefined ? undefined : profileFromRow(row);
    },
  };
}

/**
 * Applies a change in one atomic statement and returns the new row, or `undefined` when nothing
 * was written: the values are already stored, or the stored version is not `expectedVersion`.
 * Without `expectedVersion` a missing profile is created with the given fields. A display name is
 * written with its folded `search_name` (search-text.ts), which the search terms' trigger follows;
 * whether anything changed is decided by the editable columns alone.
 *
 * ```sql
 * INSERT INTO profiles (user_id, bio) VALUES ($1, $2)
 * ON CONFLICT (user_id) DO UPDATE SET bio = $3, version = profiles.version + 1, updated_at = now()
 * WHERE profiles.bio IS DISTINCT FROM $4
 * RETURNING <profileColumns>
 * ```
 */
export async function applyProfileChange(
  db: Kysely<Database>,
  change: ProfileChange,
  signal?: AbortSignal,
): Promise<ProfileRow | undefined> {
  const values = columnsOf(change.fields);
  const differs = sql<boolean>`(${sql.join(
    Object.entries(values).map(
      ([column, value]) => sql`${sql.ref(`profiles.${column}`)} IS DISTINCT FROM ${value}`,
    ),
    sql` OR `,
  )})`;
  const written = withSearchName(values);
  const bump = {
    ...written,
    version: sql<number>`profiles.version + 1`,
    updated_at: sql<Date>`now()`,
  };
  if (change.expectedVersion !== undefined) {
    return db
      .updateTable("profiles")
      .set(bump)
      .where("user_id", "=", change.userId)
      .where("version", "=", change.expectedVersion)
      .where(differs)
      .returning(profileColumns)
      .executeTakeFirst({ signal });
  }
  return db
    .insertInto("profiles")
    .values({ user_id: change.userId, ...written })
    .onConflict((conflict) => conflict.column("user_id").doUpdateSet(bump).where(differs))
    .returning(profileColumns)
    .executeTakeFirst({ signal });
}

type EditableColumns = Partial<Pick<ProfileRow, "display_name" | "avatar_url" | "bio">>;

/** The columns written: the editable ones, and the display name's folded form beside it. */
function withSearchName(columns: EditableColumns): EditableColumns & { search_name?: string } {
  return columns.display_name === undefined
    ? columns
    : { ...columns, search_name: searchNameOf(columns.display_name) };
}

function columnsOf(fields: ProfileFields): EditableColumns {
  const columns: EditableColumns = {};
  if (fields.displayName !== undefined) columns.display_name = fields.displayName;
  if (fields.avatarUrl !== undefined) columns.avatar_url = fields.avatarUrl;
  if (fields.bio !== undefined) columns.bio = fields.bio;
  return columns;
}

/**
 * Creates a profile unless it exists: what a registration provisions. Returns whether it did.
 *
 * `INSERT INTO profiles (user_id, display_name, search_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
 */
export async function insertProfileIfMissing(
  db: Kysely<Database>,
  userId: UserId,
  displayName: string,
): Promise<boolean> {
  const result = await db
    .insertInto("profiles")
    .values({ user_id: userId, display_name: displayName, search_name: searchNameOf(displayName) })
    .onConflict((conflict) => conflict.column("user_id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Deletes a profile for good, in one transaction: a tombstone first (so that a registration
 * racing this one finds it), then the profile, whose delete trigger records the final version in
 * the tombstone and writes ProfileDeleted to the outbox; contacts and blocks on either side go by
 * cascade. Returns the final version, or `undefined` when there was no profile (the tombstone is
 * left all the same: a late registration must not create it).
 *
 * ```sql
 * INSERT INTO deleted_profiles (user_id, version) VALUES ($1, 1) ON CONFLICT DO NOTHING;
 * DELETE FROM profiles WHERE user_id = $1 RETURNING version
 * ```
 */
export async function deleteProfile(
  db: Kysely<Database>,
  userId: UserId,
  signal?: AbortSignal,
): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    await recordTrace(trx);
    await trx
      .insertInto("deleted_profiles")
      .values({ user_id: userId, version: 1 })
      .onConflict((conflict) => conflict.column("user_id").doNothing())
      .execute({ signal });
    const deleted = await trx
      .deleteFrom("profiles")
      .where("user_id", "=", userId)
      .returning("version")
      .executeTakeFirst({ signal });
    return deleted === undefined ? undefined : deleted.version + 1;
  });
}
