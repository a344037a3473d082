import { CompiledQuery, type Kysely, sql } from "kysely";
import { statementRunnerOf } from "../../db/named-statements.js";
import type { Database } from "../../db/schema.js";
import type { PrivacySettingsRow } from "../../db/tables/privacy-settings.js";
import type { OwnerVisibility, PrivacyChange, PrivacyStore } from "../store.js";
import type { UserId } from "../user-id.js";
import {
  type Audience,
  defaultPrivacySettings,
  NO_RELATION,
  type PrivacySettings,
} from "../visibility.js";
import { coalesced } from "./coalesced-lookups.js";

// All SQL for the privacy_settings table, and the graph facts the visibility rules read; the
// PrivacyStore on top of it. The optional `signal` as in repository.ts.

export interface PrivacyStoreOptions {
  /**
   * Look up both facts of every pair, as a cache that keeps them for later settings needs (the
   * default). Without, a fact the owner's settings make moot is not looked up: whether the viewer
   * is a contact of an owner with no CONTACTS audience, whether an owner who shows nothing blocks
   * them.
   */
  readonly completeFacts?: boolean;
}

/** The privacy store on this database. */
export function createPrivacyStore(
  db: Kysely<Database>,
  options: PrivacyStoreOptions = {},
): PrivacyStore {
  const complete = options.completeFacts ?? true;
  // The visibility reads of one turn go in one statement, as profile reads do.
  const lookUp = coalesced(
    (keys, signal) => findVisibilityRows(db, keys, complete, signal),
    (row) => visibilityKey(row.id as UserId, (row.viewer ?? undefined) as UserId | undefined),
  );
  return {
    findSettings: (userId, signal) => findPrivacySettings(db, userId, signal),
    applySettings: (change, signal) => applyPrivacyChange(db, change, signal),
    async visibility(ownerIds, viewerId, signal) {
      const found = new Map<UserId, OwnerVisibility>();
      if (ownerIds.length === 0) return found;
      const rows = await lookUp(
        ownerIds.map((ownerId) => visibilityKey(ownerId, viewerId)),
        signal,
      );
      for (const ownerId of ownerIds) {
        const row = rows.get(visibilityKey(ownerId, viewerId));
        if (row !== undefined) found.set(ownerId, visibilityFromRow(row));
      }
      return found;
    },
    blockedEitherWay: (userId, otherUserId, signal) =>
      blockedEitherWay(db, userId, otherUserId, signal),
  };
}

/**
 * Whether either user blocks the other: two primary-key probes.
 *
 * `SELECT EXISTS (SELECT 1 FROM blocks WHERE (user_id, blocked_user_id) IN (($1, $2), ($2, $1)))`
 */
export async function blockedEitherWay(
  db: Kysely<Database>,
  userId: UserId,
  otherUserId: UserId,
  signal?: AbortSignal,
): Promise<boolean> {
  const row = await db
    .selectFrom("blocks")
    .select("user_id")
    .where((eb) =>
      eb.or([
        eb.and([eb("user_id", "=", userId), eb("blocked_user_id", "=", otherUserId)]),
        eb.and([eb("user_id", "=", otherUserId), eb("blocked_user_id", "=", userId)]),
      ]),
    )
    .limit(1)
    .executeTakeFirst({ signal });
  return row !== undefined;
}

/** One owner for one viewer (none: a stranger to all), as one key of a coalesced lookup. */
const visibilityKey = (ownerId: UserId, viewerId: UserId | undefined) =>
  `${ownerId}${viewerId ?? ""}`;

const settingsColumns = [
  "user_id",
  "avatar_audience",
  "bio_audience",
  "discoverable_by",
  "version",
] as const satisfies ReadonlyArray<keyof PrivacySettingsRow>;

/** The settings columns of a row, NULL where a LEFT JOIN found no row (the defaults then). */
type SettingsRow = {
  [Column in Exclude<(typeof settingsColumns)[number], "user_id">]:
    | PrivacySettingsRow[Column]
    | null;
};

/** An audience as stored; the CHECK constraint admits no other value. */
function audienceOf(stored: string | null): Audience {
  return stored === "contacts" || stored === "nobody" ? stored : "everyone";
}

function settingsFromRow(userId: UserId, row: SettingsRow): PrivacySettings {
  if (row.version === null) return defaultPrivacySettings(userId);
  return {
    userId,
    avatarAudience: audienceOf(row.avatar_audience),
    bioAudience: audienceOf(row.bio_audience),
    discoverableBy: audienceOf(row.discoverable_by),
    version: row.version,
  };
}

/**
 * The settings of a user with a profile, the defaults when they have no row.
 *
 * `SELECT p.user_id, s.avatar_audience, s.bio_audience, s.discoverable_by, s.version FROM profiles p
 *  LEFT JOIN privacy_settings s USING (user_id) WHERE p.user_id = $1`
 */
export async function findPrivacySettings(
  db: Kysely<Database>,
  userId: UserId,
  signal?: AbortSignal,
): Promise<PrivacySettings | undefined> {
  const row = await db
    .selectFrom("profiles as p")
    .leftJoin("privacy_settings as s", "s.user_id", "p.user_id")
    .select(["p.user_id", "s.avatar_audience", "s.bio_audience", "s.discoverable_by", "s.version"])
    .where("p.user_id", "=", userId)
    .executeTakeFirst({ signal });
  return row === undefined ? undefined : settingsFromRow(userId, row);
}

/**
 * Applies a change in one statement and returns the new settings, or undefined when nothing was
 * written. The first change of a user inserts their row at version 2 (the defaults being 1), when
 * they have a profile; later ones update it when a value differs.
 *
 * ```sql
 * INSERT INTO privacy_settings (user_id, bio_audience, version)
 * SELECT user_id, $2, 2 FROM profiles WHERE user_id = $1
 * ON CONFLICT (user_id) DO UPDATE SET bio_audience = $3, version = privacy_settings.version + 1,
 *   updated_at = now()
 * WHERE privacy_settings.bio_audience IS DISTINCT FROM $4 [AND privacy_settings.version = $5]
 * RETURNING user_id, avatar_audience, bio_audience, discoverable_by, version
 * ```
 */
export async function applyPrivacyChange(
  db: Kysely<Database>,
  change: PrivacyChange,
  signal?: AbortSignal,
): Promise<PrivacySettings | undefined> {
  const values: Partial<Record<"avatar_audience" | "bio_audience" | "discoverable_by", Audience>> =
    {};
  if (change.avatarAudience !== undefined) values.avatar_audience = change.avatarAudience;
  if (change.bioAudience !== undefined) values.bio_audience = change.bioAudience;
  if (change.discoverableBy !== undefined) values.discoverable_by = change.discoverableBy;
  const entries = Object.entries(values);
  if (entries.length === 0) return undefined;
  const expected = change.expectedVersion;
  // The defaults differ from a change only where it names something else than "everyone".
  const insertable =
    expected === undefined || expected === 1
      ? entries.some(([, value]) => value !== "everyone")
      : false;
  const differs = sql<boolean>`(${sql.join(
    entries.map(
      ([column, value]) => sql`${sql.ref(`privacy_settings.${column}`)} IS DISTINCT FROM ${value}`,
    ),
    sql` OR `,
  )})`;
  const bump = {
    ...values,
    version: sql<number>`privacy_settings.version + 1`,
    updated_at: sql<Date>`now()`,
  };
  if (!insertable) {
    if (expected === 1) return undefined;
    let update = db
      .updateTable("privacy_settings")
      .set(bump)
      .where("user_id", "=", change.userId)
      .where(differs);
    if (expected !== undefined) update = update.where("version", "=", expected);
    const row = await update.returning(settingsColumns).executeTakeFirst({ signal });
    return row === undefined ? undefined : settingsFromRow(change.userId, row);
  }
  const row = await db
    .insertInto("privacy_settings")
    .columns(["user_id", ...(Object.keys(values) as Array<keyof typeof values>), "version"])
    .expression((eb) =>
      eb
        .selectFrom("profiles")
        .select([
          "user_id",
          ...entries.map(([column, value]) => sql<string>`${value}`.as(column)),
          sql<number>`2`.as("version"),
        ])
        .where("user_id", "=", change.userId),
    )
    .onConflict((conflict) =>
      conflict
        .column("user_id")
        .doUpdateSet(bump)
        .where(
          expected === undefined
            ? differs
            : sql<boolean>`${differs} AND privacy_settings.version = ${expected}`,
        ),
    )
    .returning(settingsColumns)
    .executeTakeFirst({ signal });
  return row === undefined ? undefined : settingsFromRow(change.userId, row);
}

interface VisibilityRow {
  id: string;
  viewer: string | null;
  avatar_audience: string | null;
  bio_audience: string | null;
  discoverable_by: string | null;
  version: number | null;
  is_contact: boolean;
  blocked: boolean;
}

/**
 * For each key (an owner, and the viewer after it: visibilityKey), the owner's settings if they
 * have a row, whether the viewer is in the owner's contacts and whether the owner blocks them, in
 * one statement with two array parameters: three primary-key or index probes per key, whatever
 * the size of the tables. `LATERAL … LIMIT 1` keeps them probes: as plain joins the planner
 * hashed whole tables, four times the work for a batch of 100 even on small ones. Keys with the
 * defaults and no relation are left out (most are), which keeps the answer small. Unless
 * `complete`, the facts the settings make moot are neither looked up nor returned
 * (PrivacyStoreOptions).
 *
 * ```sql
 * SELECT o.id, o.viewer, s.avatar_audience, s.bio_audience, s.discoverable_by, s.version, c.found,
 *   b.found
 * FROM unnest($1::uuid[], $2::uuid[]) AS o(id, viewer)
 * LEFT JOIN LATERAL (SELECT … FROM privacy_settings WHERE user_id = o.id LIMIT 1) s ON true
 * LEFT JOIN LATERAL (SELECT 1 FROM contacts WHERE user_id = o.id AND contact_user_id = o.viewer
 *   LIMIT 1) c ON true
 * LEFT JOIN LATERAL (SELECT 1 FROM blocks WHERE user_id = o.id AND blocked_user_id = o.viewer
 *   LIMIT 1) b ON true
 * WHERE s.version IS NOT NULL OR c.found IS NOT NULL OR b.found IS NOT NULL
 * ```
 */
export async function findVisibilityRows(
  db: Kysely<Database>,
  keys: readonly string[],
  complete: boolean,
  signal?: AbortSignal,
): Promise<VisibilityRow[]> {
  const owners = keys.map((key) => key.slice(0, 36));
  const viewers = keys.map((key) => (key.length > 36 ? key.slice(36) : null));
  const parameters = [owners, viewers, complete];
  const run = statementRunnerOf(db);
  if (run !== undefined) return run<VisibilityRow>(VISIBILITY_SQL, parameters, signal);
  const query = CompiledQuery.raw(VISIBILITY_SQL, parameters);
  return (await db.executeQuery<VisibilityRow>(query, { signal })).rows;
}

const VISIBILITY_SQL = `
  SELECT o.id::text AS id, o.viewer::text AS viewer, s.avatar_audience, s.bio_audience,
    s.discoverable_by, s.version,
    c.found IS NOT NULL AS is_contact, b.found IS NOT NULL AS blocked
  FROM unnest($1::uuid[], $2::uuid[]) AS o(id, viewer)
  LEFT JOIN LATERAL (SELECT avatar_audience, bio_audience, discoverable_by, version FROM privacy_settings
    WHERE user_id = o.id LIMIT 1) s ON true
  LEFT JOIN LATERAL (SELECT 1 AS found FROM contacts
    WHERE ($3::boolean OR 'contacts' IN (s.avatar_audience, s.bio_audience))
      AND user_id = o.id AND contact_user_id = o.viewer LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT 1 AS found FROM blocks
    WHERE ($3::boolean OR s.avatar_audience IS DISTINCT FROM 'nobody'
        OR s.bio_audience IS DISTINCT FROM 'nobody')
      AND user_id = o.id AND blocked_user_id = o.viewer LIMIT 1) b ON true
  WHERE s.version IS NOT NULL OR c.found IS NOT NULL OR b.found IS NOT NULL`;

function visibilityFromRow(row: VisibilityRow): OwnerVisibility {
  return {
    settings: settingsFromRow(row.id as UserId, row),
    facts:
      row.is_contact || row.blocked
        ? { isContact: row.is_contact, blocked: row.blocked }
        : NO_RELATION,
  };
}
