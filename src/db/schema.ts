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

/** Every table Kysely knows about. */
export interface Database {
  profiles: ProfilesTable;
}
