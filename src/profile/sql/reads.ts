import type { CompiledQuery, Kysely } from "kysely";
import { statementRunnerOf } from "../../db/named-statements.js";
import type { Database } from "../../db/schema.js";
import type { ProfileRow } from "../../db/tables/profiles.js";
import type { UserId } from "../user-id.js";

// The reads of the profiles table. The optional `signal` is the call's: once it aborts, a query
// still waiting for a pooled connection is never sent (repository.ts says why).

/**
 * What every query returns, named rather than `*`: statements run prepared (named-statements.ts),
 * and a prepared `*` fails once a migration adds a column under a running instance.
 */
export const profileColumns = [
  "user_id",
  "display_name",
  "avatar_url",
  "bio",
  "handle",
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
