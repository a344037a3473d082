import type { ColumnType, Selectable } from "kysely";
import type { ProfileSnapshot } from "./profiles.js";

/**
 * The `outbox` table: one row per profile change, contact or block added or removed, deleted
 * profile and privacy settings change, written by triggers on `profiles`, `contacts`, `blocks`
 * and `privacy_settings` in the same transaction
 * (db/migrations), published and marked by the relay.
 */
export interface OutboxTable {
  /** bigint identity; read as text so that PostgreSQL and PGlite agree. */
  id: ColumnType<string, never, never>;
  event_id: ColumnType<string, never, never>;
  user_id: ColumnType<string, never, never>;
  event_type: ColumnType<OutboxEventType, never, never>;
  /** The version after the change (`deleted`: the final one; privacy_changed: the settings'); null for graph events. */
  version: ColumnType<number | null, never, never>;
  /** Profile events only; empty for the others. */
  changed_fields: ColumnType<string[], never, never>;
  /** `to_jsonb` of the profiles row after the change; null except for `created` and `updated`. */
  profile: ColumnType<ProfileSnapshot | null, never, never>;
  /** The other user of a graph event, or the audiences of privacy_changed; null otherwise. */
  payload: ColumnType<GraphEventPayload | null, never, never>;
  occurred_at: ColumnType<Date, never, never>;
  /** The W3C traceparent of the call that made the change; null when it had none. */
  traceparent: ColumnType<string | null, never, never>;
  attempts: ColumnType<number, never, number>;
  next_attempt_at: ColumnType<Date, never, Date>;
  lease_until: ColumnType<Date | null, never, Date | null>;
  last_error: ColumnType<string | null, never, string | null>;
  published_at: ColumnType<Date | null, never, Date | null>;
}

export type OutboxEventType =
  | "created"
  | "updated"
  | "deleted"
  | "contact_added"
  | "contact_removed"
  | "user_blocked"
  | "user_unblocked"
  | "privacy_changed";

/** What the graph and privacy triggers record beside the owner (`outbox.user_id`). */
export interface GraphEventPayload {
  /** contact_added, contact_removed. */
  contact_user_id?: string;
  /** contact_added. */
  nickname?: string;
  is_favorite?: boolean;
  /** user_blocked, user_unblocked. */
  blocked_user_id?: string;
  /** privacy_changed. */
  avatar_audience?: string;
  bio_audience?: string;
  /** privacy_changed, since handles and search (older rows lack it: everyone). */
  discoverable_by?: string;
}

export type OutboxRow = Selectable<OutboxTable>;
