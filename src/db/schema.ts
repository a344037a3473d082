import type { ColumnType, Generated, Selectable } from "kysely";

/** The `profiles` table (db/migrations). */
export interface ProfilesTable {
  user_id: string;
  /** Every text column defaults to "" (a provisioned profile may have no name yet). */
  display_name: Generated<string>;
  avatar_url: Generated<string>;
  bio: Generated<string>;
  /** Starts at 1 and grows by one with every effective change; the etag is derived from it. */
  version: Generated<number>;
  /** Set once by the database clock. */
  created_at: ColumnType<Date, never, never>;
  /** Set by the database clock (`now()`) on every effective change. */
  updated_at: ColumnType<Date, never, Date>;
}

export type ProfileRow = Selectable<ProfilesTable>;

/**
 * The `outbox` table: one row per profile change, written by triggers on `profiles` in the same
 * transaction (db/migrations), published and marked by the relay.
 */
export interface OutboxTable {
  /** bigint identity; read as text so that PostgreSQL and PGlite agree. */
  id: ColumnType<string, never, never>;
  event_id: ColumnType<string, never, never>;
  user_id: ColumnType<string, never, never>;
  event_type: ColumnType<"created" | "updated", never, never>;
  version: ColumnType<number, never, never>;
  changed_fields: ColumnType<string[], never, never>;
  /** `to_jsonb` of the profiles row after the change. */
  profile: ColumnType<ProfileSnapshot, never, never>;
  occurred_at: ColumnType<Date, never, never>;
  attempts: ColumnType<number, never, number>;
  next_attempt_at: ColumnType<Date, never, Date>;
  lease_until: ColumnType<Date | null, never, Date | null>;
  last_error: ColumnType<string | null, never, string | null>;
  published_at: ColumnType<Date | null, never, Date | null>;
}

/** A profiles row as JSON: timestamps are ISO strings. */
export interface ProfileSnapshot {
  user_id: string;
  display_name: string;
  avatar_url: string;
  bio: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export type OutboxRow = Selectable<OutboxTable>;

/** Every table Kysely knows about. */
export interface Database {
  profiles: ProfilesTable;
  outbox: OutboxTable;
}
