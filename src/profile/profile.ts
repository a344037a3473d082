import type { ProfileRow } from "../db/schema.js";
import type { UserId } from "./user-id.js";

/** A user's profile as the domain sees it. */
export interface Profile {
  readonly userId: UserId;
  readonly displayName: string;
  readonly avatarUrl: string;
  readonly bio: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Grows by one with every effective change. */
  readonly version: number;
  /** Opaque to clients; derived from `version`. */
  readonly etag: string;
}

/** The etag clients see for a profile version. */
function etagOf(version: number): string {
  return `v${version}`;
}

/** Versions are PostgreSQL `integer`s. */
const MAX_VERSION = 2_147_483_647;

/** The version an etag names, or `undefined` for a string that is no etag of ours. */
export function versionOfEtag(etag: string): number | undefined {
  const digits = /^v([1-9][0-9]{0,9})$/.exec(etag)?.[1];
  const version = Number(digits);
  return digits !== undefined && version <= MAX_VERSION ? version : undefined;
}

export function profileFromRow(row: ProfileRow): Profile {
  return {
    userId: row.user_id as UserId,
    displayName: row.display_name,
    avatarUrl: row.avatar_url,
    bio: row.bio,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    etag: etagOf(row.version),
  };
}
