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
 * The `outbox` table: one row per profile change, contact or block added or removed, and deleted
 * profile, written by triggers on `profiles`, `contacts` and `blocks` in the same transaction
 * (db/migrations), published and marked by the relay.
 */
export interface OutboxTable {
  /** bigint identity; read as text so that PostgreSQL and PGlite agree. */
  id: ColumnType<string, never, never>;
  event_id: ColumnType<string, never, never>;
  user_id: ColumnType<string, never, never>;
  event_type: ColumnType<OutboxEventType, never, never>;
  /** The profile's version after the change (`deleted`: the final one); null for graph events. */
  version: ColumnType<number | null, never, never>;
  /** Profile events only; empty for the others. */
  changed_fields: ColumnType<string[], never, never>;
  /** `to_jsonb` of the profiles row after the change; null except for `created` and `updated`. */
  profile: ColumnType<ProfileSnapshot | null, never, never>;
  /** The other user of a graph event; null for profile events. */
  payload: ColumnType<GraphEventPayload | null, never, never>;
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

export type OutboxEventType =
  | "created"
  | "updated"
  | "deleted"
  | "contact_added"
  | "contact_removed"
  | "user_blocked"
  | "user_unblocked";

/** What the graph triggers record beside the owner (`outbox.user_id`). */
export interface GraphEventPayload {
  /** contact_added, contact_removed. */
  contact_user_id?: string;
  /** contact_added. */
  nickname?: string;
  is_favorite?: boolean;
  /** user_blocked, user_unblocked. */
  blocked_user_id?: string;
}

export type OutboxRow = Selectable<OutboxTable>;

/** The `contacts` table: `user_id`'s address book entry for `contact_user_id`. */
export interface ContactsTable {
  user_id: string;
  contact_user_id: string;
  nickname: Generated<string>;
  is_favorite: Generated<boolean>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export type ContactRow = Selectable<ContactsTable>;

/** The `blocks` table: `user_id` blocks `blocked_user_id`. */
export interface BlocksTable {
  user_id: string;
  blocked_user_id: string;
  reason: Generated<string>;
  created_at: ColumnType<Date, never, never>;
}

export type BlockRow = Selectable<BlocksTable>;

/** The `deleted_profiles` table: tombstones of deleted accounts, kept for good. */
export interface DeletedProfilesTable {
  user_id: string;
  version: number;
  deleted_at: ColumnType<Date, never, never>;
}

/** Every table Kysely knows about. */
export interface Database {
  profiles: ProfilesTable;
  outbox: OutboxTable;
  contacts: ContactsTable;
  blocks: BlocksTable;
  deleted_profiles: DeletedProfilesTable;
}
