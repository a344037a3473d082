import type { ColumnType, Generated, Selectable } from "kysely";

import { etagOf, type Profile } from "../../profile/profile.js";
import type { UserId } from "../../profile/user-id.js";

/** The `profiles` table (db/migrations). */
export interface ProfilesTable {
  user_id: string;
  /** Every text column defaults to "" (a provisioned profile may have no name yet). */
  display_name: Generated<string>;
  avatar_url: Generated<string>;
  bio: Generated<string>;
  /** Canonical handle, NULL when none; written with `handles` (db/tables/handles.ts). */
  handle: Generated<string | null>;
  /** The display name folded for search (profile/search-text.ts); written with it. */
  search_name: Generated<string>;
  /** Starts at 1 and grows by one with every effective change; the etag is derived from it. */
  version: Generated<number>;
  /** Set once by the database clock. */
  created_at: ColumnType<Date, never, never>;
  /** Set by the database clock (`now()`) on every effective change. */
  updated_at: ColumnType<Date, never, Date>;
}

/** A profiles row as reads return it: `search_name` serves search only. */
export type ProfileRow = Omit<Selectable<ProfilesTable>, "search_name">;

/** A profiles row as JSON: timestamps are ISO strings. */
export interface ProfileSnapshot {
  user_id: string;
  display_name: string;
  avatar_url: string;
  bio: string;
  /** Absent from snapshots written before handles existed. */
  handle?: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** The `deleted_profiles` table: tombstones of deleted accounts, kept for good. */
export interface DeletedProfilesTable {
  user_id: string;
  version: number;
  deleted_at: ColumnType<Date, never, never>;
}

/** A profiles row (or its JSON snapshot with dates restored) as the domain sees it. */
export function profileFromRow(row: ProfileRow): Profile {
  return {
    userId: row.user_id as UserId,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    bio: row.bio,
    handle: row.handle ?? "",
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    etag: etagOf(row.version),
  };
}
