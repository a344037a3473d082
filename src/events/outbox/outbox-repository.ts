import { type Kysely, sql } from "kysely";
import type { DatabaseHandle } from "../../db/open.js";
import type { Database } from "../../db/schema.js";
import type { OutboxRow } from "../../db/tables/outbox.js";
import type { OutboxStore } from "./outbox-relay.js";

// All SQL for the outbox table. Rows are written by triggers on `profiles` (db/migrations), which
// also send NOTIFY profile_outbox.

const byId = (ids: readonly string[]) => sql<boolean>`id = any(${sql.val(ids)}::bigint[])`;

/** The relay's outbox store on PostgreSQL or PGlite. */
export function createOutboxStore(database: DatabaseHandle): OutboxStore {
  const { db } = database;
  return {
    claim: (limit, leaseSeconds) => claimOutboxRows(db, limit, leaseSeconds),
    markPublished: (ids) => markPublished(db, ids),
    releaseLeases: (ids) => releaseLeases(db, ids),
    markFailed: (id, error, retryAfterMs) => markFailed(db, id, error, retryAfterMs),
    retryAllNow: () => retryAllNow(db),
    purgePublished: (retentionSeconds) => purgePublished(db, retentionSeconds),
    onNewRows: (onNotify) => database.listen("profile_outbox", onNotify),
  };
}

/**
 * Leases up to `limit` unpublished rows that are due, oldest first, for `leaseSeconds`, and
 * returns them in id order. A row is taken only if no earlier unpublished row of the same user
 * is left behind (leased by another relay, waiting for a retry, or beyond `limit`), so events of
 * one user are never published out of order, even by several relays at once. `FOR UPDATE SKIP
 * LOCKED` keeps concurrent relays from claiming the same row.
 */
async function claimOutboxRows(
  db: Kysely<Database>,
  limit: number,
  leaseSeconds: number,
): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow>`
    WITH candidates AS (
      SELECT id, user_id FROM outbox
      WHERE published_at IS NULL
        AND next_attempt_at <= now()
        AND (lease_until IS NULL OR lease_until < now())
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ),
    claimable AS (
      SELECT c.id FROM candidates c
      WHERE NOT EXISTS (
        SELECT 1 FROM outbox earlier
        WHERE earlier.user_id = c.user_id
          AND earlier.published_at IS NULL
          AND earlier.id < c.id
          AND earlier.id NOT IN (SELECT id FROM candidates)
      )
    )
    UPDATE outbox SET lease_until = now() + make_interval(secs => ${leaseSeconds})
    FROM claimable
    WHERE outbox.id = claimable.id
    RETURNING outbox.id::text AS id, outbox.event_id, outbox.user_id, outbox.event_type,
      outbox.version, outbox.changed_fields, outbox.profile, outbox.payload, outbox.occurred_at,
      outbox.traceparent, outbox.attempts,
      outbox.next_attempt_at, outbox.lease_until, outbox.last_error, outbox.published_at
  `.execute(db);
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** `UPDATE outbox SET published_at = now(), lease_until = NULL WHERE id = any($1)` */
async function markPublished(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable("outbox")
    .set({ published_at: sql<Date>`now()`, lease_until: null, last_error: null })
    .where(byId(ids))
    .execute();
}

/** Gives leased rows back unattempted (an earlier event of their user failed). */
async function releaseLeases(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("outbox").set({ lease_until: null }).where(byId(ids)).execute();
}

/** Records a failed publish; the row is due again after `retryAfterMs`. */
async function markFailed(
  db: Kysely<Database>,
  id: string,
  error: string,
  retryAfterMs: number,
): Promise<void> {
  await db
    .updateTable("outbox")
    .set((eb) => ({
      attempts: eb("attempts", "+", 1),
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${retryAfterMs / 1000})`,
      lease_until: null,
      last_error: error.slice(0, 1000),
    }))
    .where(byId([id]))
    .execute();
}

/** Makes every waiting row due now: the broker is back, no need to sit out the backoff. */
async function retryAllNow(db: Kysely<Database>): Promise<void> {
  await db
    .updateTable("outbox")
    .set({ next_attempt_at: sql<Date>`now()` })
    .where("published_at", "is", null)
    .where("next_attempt_at", ">", sql<Date>`now()`)
    .execute();
}

/** Deletes rows published more than `retentionSeconds` ago; returns how many. */
async function purgePublished(db: Kysely<Database>, retentionSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom("outbox")
    .where("published_at", "<", sql<Date>`now() - make_interval(secs => ${retentionSeconds})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface OutboxBacklog {
  /** Rows not yet published. */
  readonly pending: number;
  /** Age of the oldest unpublished row in seconds, 0 when none. */
  readonly oldestAgeSeconds: number;
}

/** How far behind publishing is, for metrics and readiness. */
export async function outboxBacklog(db: Kysely<Database>): Promise<OutboxBacklog> {
  const row = await db
    .selectFrom("outbox")
    .select([
      sql<string>`count(*)::text`.as("pending"),
      sql<number>`coalesce(extract(epoch from now() - min(occurred_at)), 0)::float8`.as("age"),
    ])
    .where("published_at", "is", null)
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), oldestAgeSeconds: Number(row.age) };
}
