import pg from "pg";
import type { DatabaseConfig } from "../../src/config/config.js";
import type { Metrics } from "../../src/ops/metrics.js";
import { metricValue } from "./metrics.js";
import { until } from "./nats.js";

// For the read cache's tests: writes this service never hears of, and the cache's metrics read
// from the registry (not GET /metrics, whose outbox gauge asks the database).

/** The PostgreSQL URL of a test database. */
export function urlOf(config: DatabaseConfig): string {
  if (config.kind !== "postgres") throw new Error("these tests need PostgreSQL");
  return config.url;
}

/**
 * Runs `statement` on its own connection with the triggers off (`session_replication_role`), so
 * the outbox gets no row and no event is ever published: a change no instance hears of.
 */
export async function unannounced(
  databaseUrl: string,
  statement: string,
  parameters: unknown[] = [],
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SET session_replication_role = replica");
    await client.query(statement, parameters);
  } finally {
    await client.end();
  }
}

/** Sets `bio` and bumps the version of a profile, unannounced. */
export function changeUnannounced(databaseUrl: string, userId: string, bio: string): Promise<void> {
  return unannounced(
    databaseUrl,
    "UPDATE profiles SET bio = $2, version = version + 1, updated_at = now() WHERE user_id = $1",
    [userId, bio],
  );
}

/** Creates profiles at version 1, unannounced: the cache can only learn of them by reading. */
export function insertUnannounced(
  databaseUrl: string,
  userIds: readonly string[],
  bio = "",
): Promise<void> {
  return unannounced(
    databaseUrl,
    "INSERT INTO profiles (user_id, display_name, bio) SELECT id, 'Unannounced', $2 FROM unnest($1::uuid[]) AS id",
    [userIds, bio],
  );
}

/** The stored row of a profile, as raw SQL sees it. */
export async function storedRow(
  databaseUrl: string,
  userId: string,
): Promise<{ bio: string; version: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ bio: string; version: number }>(
      "SELECT bio, version FROM profiles WHERE user_id = $1",
      [userId],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`no profile ${userId}`);
    return row;
  } finally {
    await client.end();
  }
}

/** One of the read cache's metrics (profile_cache_hits_total, …). */
export function cacheMetric(metrics: Metrics, name: string): Promise<number> {
  return metricValue(metrics, name);
}

/** Waits until the cache serves (1) or bypasses (0), as `profile_cache_serving` says. */
export function untilServing(metrics: Metrics, serving: 0 | 1, timeoutMs = 20_000): Promise<void> {
  return until(
    async () => (await cacheMetric(metrics, "profile_cache_serving")) === serving,
    timeoutMs,
  );
}

/**
 * Holds back the events of `userId`: an earlier unpublished outbox row that is not due for a day
 * keeps every relay from publishing that user's later rows (events of one user are published in
 * order), so the instances learn of its changes only from their own writes.
 */
export function holdBackEventsOf(databaseUrl: string, userId: string): Promise<void> {
  return unannounced(
    databaseUrl,
    `INSERT INTO outbox (user_id, event_type, version, changed_fields, profile, occurred_at, next_attempt_at)
     VALUES ($1, 'updated', 1, '{}', '{}', now(), now() + interval '1 day')`,
    [userId],
  );
}
