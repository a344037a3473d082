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
export function etagOf(version: number): string {
  return `v${version}`;
}

/** The version an etag names, or `undefined` for a string that is no etag of ours. */
export function versionOfEtag(etag: string): number | undefined {
  const match = /^v([1-9][0-9]{0,9})$/.exec(etag);
  return match?.[1] === undefined ? undefined : Number(match[1]);
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
