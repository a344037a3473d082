import type { ColumnType, Generated, Selectable } from "kysely";

/**
 * The `privacy_settings` table: a user's audiences, once they changed them (no row: everyone sees
 * everything, version 1).
 */
export interface PrivacySettingsTable {
  user_id: string;
  /** 'everyone', 'contacts' or 'nobody'. */
  avatar_audience: string;
  bio_audience: string;
  /** Who finds the user in search: 'everyone' (default), 'contacts' or 'nobody'. */
  discoverable_by: Generated<string>;
  /** 2 when the row is inserted, +1 with every effective change. */
  version: number;
  updated_at: ColumnType<Date, never, Date>;
}

export type PrivacySettingsRow = Selectable<PrivacySettingsTable>;
