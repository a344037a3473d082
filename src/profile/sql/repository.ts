import { type CompiledQuery, type Kysely, sql } from "kysely";
import { statementRunnerOf } from "../../db/named-statements.js";
import type { Database, ProfileRow } from "../../db/schema.js";
import { etagOf, type Profile } from "../profile.js";
import type { ProfileFields } from "../rules.js";
import type { ProfileChange, ProfileStore } from "../store.js";
import type { UserId } from "../user-id.js";

// All SQL for the profiles table, and the ProfileStore the profile service uses on top of it.
// Functions take the Kysely instance (or a transaction) first.
// The optional `signal` is the call's: once it aborts (the client reset or left, the deadline
// passed) a query still waiting for a pooled connection is never sent, and the connection goes
// back unused; one already sent runs to its end (statements are short and bounded by the
// statement timeout, and cancelling one costs a second connection).

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
      const row = await applyProfileChange(db, change, signal);
      return row === undefined ? undefined : profileFromRow(row);
    },
    createIfMissing: (userId, displayName) => insertProfileIfMissing(db, userId, displayName),
    delete: (userId, signal) => deleteProfile(db, userId, signal),
  };
}

/** Most ids one coalesced statement looks up (a lookup with more gets a statement of its own). */
const MAX_COALESCED_IDS = 500;

interface PendingLookup {
  readonly userIds: readonly UserId[];
  readonly signal: AbortSignal | undefined;
  readonly resolve: (rows: ReadonlyMap<string, ProfileRow>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `findProfiles`, with the lookups asked during one turn of the event loop (GetProfile's one id,
 * BatchGetProfiles' list) answered together by one statement, sent at `setImmediate`, for at
 * most MAX_COALESCED_IDS ids. Each lookup gets the rows by id, its own among them.
 *
 * Why: under concurrent calls a statement per call was the largest cost left in the service's
 * profile (sending it to PostgreSQL, pooling, parsing its answer; bench/README.md, "Lean path"),
 * and PostgreSQL's own work per statement comes on top. A lone lookup still gets its own
 * statement, one turn later. The statement fails for all of its lookups together. Like a lookup
 * of its own, the statement is not sent when every lookup in it has had its call end (`signal`
 * aborted) before it got a connection; a lookup whose call ended still gets the answer, which
 * nobody reads.
 */
function coalescedLookups(
  db: Kysely<Database>,
): (
  userIds: readonly UserId[],
  signal: AbortSignal | undefined,
) => Promise<ReadonlyMap<string, ProfileRow>> {
  let pending: PendingLookup[] = [];
  const send = async (lookups: readonly PendingLookup[]) => {
    const everyCallEnded = new AbortController();
    let open = lookups.length;
    const onEnded = () => {
      open -= 1;
      if (open === 0) everyCallEnded.abort();
    };
    for (const { signal } of lookups) {
      if (signal?.aborted) onEnded();
      else signal?.addEventListener("abort", onEnded, { once: true });
    }
    try {
      const ids = new Set(lookups.flatMap((lookup) => lookup.userIds));
      const rows = await findProfiles(db, [...ids], everyCallEnded.signal);
      const byId = new Map(rows.map((row) => [row.user_id, row]));
      for (const lookup of lookups) lookup.resolve(byId);
    } catch (error) {
      // Not sent because every call ended: each learns it as its own call's end.
      const unsent = everyCallEnded.signal.aborted;
      for (const { signal, reject } of lookups) reject(unsent ? signal?.reason : error);
    } finally {
      for (const { signal } of lookups) signal?.removeEventListener("abort", onEnded);
    }
  };
  const flush = () => {
    let statement: PendingLookup[] = [];
    let ids = 0;
    for (const lookup of pending) {
      if (ids > 0 && ids + lookup.userIds.length > MAX_COALESCED_IDS) {
        void send(statement);
        statement = [];
        ids = 0;
      }
      statement.push(lookup);
      ids += lookup.userIds.length;
    }
    pending = [];
    if (statement.length > 0) void send(statement);
  };
  return (userIds, signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ userIds, signal, resolve, reject });
    });
  };
}

/** A profiles row (or its JSON snapshot with dates restored) as the domain sees it. */
export function profileFromRow(row: ProfileRow): Profile {
  return {
    userId: row.user_id as UserId,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    bio: row.bio,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    etag: etagOf(row.version),
  };
}

/**
 * What every query returns, named rather than `*`: statements run prepared (named-statements.ts),
 * and a prepared `*` fails once a migration adds a column under a running instance.
 */
const profileColumns = [
  "user_id",
  "display_name",
  "avatar_url",
  "bio",
  "version",
  "created_at",
  "updated_at",
] as const satisfies ReadonlyArray<keyof ProfileRow>;

/**
 * One profile by primary key.
 *
 * `SELECT <profileColumns> FROM profiles WHERE user_id = $1`
 */
export async function findProfile(
  db: Kysely<Database>,
  userId: UserId,
  signal?: AbortSignal,
): Promise<ProfileRow | undefined> {
  return (await runRead(db, readsOf(db).one, userId, signal))[0];
}

/**
 * The profiles among `userIds` that exist, in no particular order: one query, one array
 * parameter, one plan whatever the batch size.
 *
 * `SELECT <profileColumns> FROM profiles WHERE user_id = any($1)`
 */
export async function findProfiles(
  db: Kysely<Database>,
  userIds: readonly UserId[],
  signal?: AbortSignal,
): Promise<ProfileRow[]> {
  return runRead(db, readsOf(db).many, userIds, signal);
}

/** The two reads of every GetProfile and BatchGetProfiles, built and compiled once per database. */
interface CompiledReads {
  readonly one: CompiledQuery<ProfileRow>;
  readonly many: CompiledQuery<ProfileRow>;
}

const compiledReads = new WeakMap<Kysely<Database>, CompiledReads>();

/**
 * Why once: Kysely builds and compiles a query's tree on every call, the same SQL each time
 * (bench/README.md, "Lean path"). Each read has one parameter, bound per call by `runRead`.
 */
function readsOf(db: Kysely<Database>): CompiledReads {
  let reads = compiledReads.get(db);
  if (reads === undefined) {
    const select = db.selectFrom("profiles").select(profileColumns);
    reads = {
      one: select.where("user_id", "=", "" as UserId).compile(),
      many: select.where("user_id", "=", (eb) => eb.fn.any(eb.val<UserId[]>([]))).compile(),
    };
    compiledReads.set(db, reads);
  }
  return reads;
}

/** Runs a compiled read with its one parameter: on the pool when it can, else through Kysely. */
async function runRead(
  db: Kysely<Database>,
  query: CompiledQuery<ProfileRow>,
  parameter: unknown,
  signal: AbortSignal | undefined,
): Promise<ProfileRow[]> {
  const run = statementRunnerOf(db);
  if (run !== undefined) return run<ProfileRow>(query.sql, [parameter], signal);
  const bound: CompiledQuery<ProfileRow> = { ...query, parameters: [parameter] };
  return (await db.executeQuery(bound, { signal })).rows;
}

/**
 * Applies a change in one atomic statement and returns the new row, or `undefined` when nothing
 * was written: the values are already stored, or the stored version is not `expectedVersion`.
 * Without `expectedVersion` a missing profile is created with the given fields.
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
  const bump = {
    ...values,
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
    .values({ user_id: change.userId, ...values })
    .onConflict((conflict) => conflict.column("user_id").doUpdateSet(bump).where(differs))
    .returning(profileColumns)
    .executeTakeFirst({ signal });
}

type EditableColumns = Partial<Pick<ProfileRow, "display_name" | "avatar_url" | "bio">>;

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
 * `INSERT INTO profiles (user_id, display_name) VALUES ($1, $2) ON CONFLICT DO NOTHING`
 */
export async function insertProfileIfMissing(
  db: Kysely<Database>,
  userId: UserId,
  displayName: string,
): Promise<boolean> {
  const result = await db
    .insertInto("profiles")
    .values({ user_id: userId, display_name: displayName })
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
