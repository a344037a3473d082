import { type Kysely, sql } from "kysely";
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

// All SQL for the privacy_settings table, and the graph facts the visibility rules read; the
// PrivacyStore on top of it. The optional `signal` as in repository.ts.

/** The privacy store on this database. */
export function createPrivacyStore(db: Kysely<Database>): PrivacyStore {
  return {
    findSettings: (userId, signal) => findPrivacySettings(db, userId, signal),
    applySettings: (change, signal) => applyPrivacyChange(db, change, signal),
    visibility: (ownerIds, viewerId, signal) => findVisibility(db, ownerIds, viewerId, signal),
  };
}

const settingsColumns = [
  "user_id",
  "avatar_audience",
  "bio_audience",
  "version",
] as const satisfies ReadonlyArray<keyof PrivacySettingsRow>;

type SettingsRow = Pick<PrivacySettingsRow, (typeof settingsColumns)[number]>;

/** An audience as stored; the CHECK constraint admits no other value. */
function audienceOf(stored: string): Audience {
  return stored === "contacts" || stored === "nobody" ? stored : "everyone";
}

function settingsFromRow(row: SettingsRow): PrivacySettings {
  return {
    userId: row.user_id as UserId,
    avatarAudience: audienceOf(row.avatar_audience),
    bioAudience: audienceOf(row.bio_audience),
    version: row.version,
  };
}

/**
 * The settings of a user with a profile, the defaults when they have no row.
 *
 * `SELECT p.user_id, s.avatar_audience, s.bio_audience, s.version FROM profiles p
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
    .select(["p.user_id", "s.avatar_audience", "s.bio_audience", "s.version"])
    .where("p.user_id", "=", userId)
    .executeTakeFirst({ signal });
  if (row === undefined) return undefined;
  if (row.version === null) return defaultPrivacySettings(userId);
  return settingsFromRow({
    user_id: row.user_id,
    avatar_audience: row.avatar_audience ?? "everyone",
    bio_audience: row.bio_audience ?? "everyone",
    version: row.version,
  });
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
 * RETURNING user_id, avatar_audience, bio_audience, version
 * ```
 */
export async function applyPrivacyChange(
  db: Kysely<Database>,
  change: PrivacyChange,
  signal?: AbortSignal,
): Promise<PrivacySettings | undefined> {
  const values: { avatar_audience?: Audience; bio_audience?: Audience } = {};
  if (change.avatarAudience !== undefined) values.avatar_audience = change.avatarAudience;
  if (change.bioAudience !== undefined) values.bio_audience = change.bioAudience;
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
    return row === undefined ? undefined : settingsFromRow(row);
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
  return row === undefined ? undefined : settingsFromRow(row);
}

/**
 * The settings of those of `ownerIds` that have a row, and how each stands to `viewerId`, in one
 * query with two array-free parameters besides the ids: two primary-key probes per owner. Owners
 * with the defaults and no relation are left out (most are), which keeps the answer small.
 *
 * ```sql
 * SELECT o.id, s.avatar_audience, s.bio_audience, s.version,
 *   EXISTS (SELECT 1 FROM contacts WHERE user_id = o.id AND contact_user_id = $2) AS is_contact,
 *   EXISTS (SELECT 1 FROM blocks WHERE user_id = o.id AND blocked_user_id = $2) AS blocked
 * FROM unnest($1::uuid[]) AS o(id) LEFT JOIN privacy_settings s ON s.user_id = o.id
 * WHERE s.user_id IS NOT NULL OR is_contact OR blocked
 * ```
 */
export async function findVisibility(
  db: Kysely<Database>,
  ownerIds: readonly UserId[],
  viewerId: UserId | undefined,
  signal?: AbortSignal,
): Promise<ReadonlyMap<UserId, OwnerVisibility>> {
  const found = new Map<UserId, OwnerVisibility>();
  if (ownerIds.length === 0) return found;
  const viewer = viewerId ?? null;
  const { rows } = await sql<{
    id: string;
    avatar_audience: string | null;
    bio_audience: string | null;
    version: number | null;
    is_contact: boolean;
    blocked: boolean;
  }>`
    SELECT id, avatar_audience, bio_audience, version, is_contact, blocked FROM (
      SELECT o.id, s.avatar_audience, s.bio_audience, s.version,
        EXISTS (SELECT 1 FROM contacts c
          WHERE c.user_id = o.id AND c.contact_user_id = ${viewer}::uuid) AS is_contact,
        EXISTS (SELECT 1 FROM blocks b
          WHERE b.user_id = o.id AND b.blocked_user_id = ${viewer}::uuid) AS blocked
      FROM unnest(${sql.val(ownerIds)}::uuid[]) AS o(id)
      LEFT JOIN privacy_settings s ON s.user_id = o.id
    ) r
    WHERE version IS NOT NULL OR is_contact OR blocked
  `.execute(db, { signal });
  for (const row of rows) {
    const userId = row.id as UserId;
    found.set(userId, {
      settings:
        row.version === null
          ? defaultPrivacySettings(userId)
          : settingsFromRow({
              user_id: row.id,
              avatar_audience: row.avatar_audience ?? "everyone",
              bio_audience: row.bio_audience ?? "everyone",
              version: row.version,
            }),
      facts:
        row.is_contact || row.blocked
          ? { isContact: row.is_contact, blocked: row.blocked }
          : NO_RELATION,
    });
  }
  return found;
}
