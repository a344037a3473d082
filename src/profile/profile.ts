import type { UserId } from "./user-id.js";

/** A user's profile as the domain sees it. */
export interface Profile {
  readonly userId: UserId;
  readonly displayName: string;
  readonly avatarUrl: string;
  readonly bio: string;
  /** The canonical handle (handle.ts), "" when none. */
  readonly handle: string;
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

/** Versions are PostgreSQL `integer`s. */
const MAX_VERSION = 2_147_483_647;

/** The version an etag names, or `undefined` for a string that is no etag of ours. */
export function versionOfEtag(etag: string): number | undefined {
  const digits = /^v([1-9][0-9]{0,9})$/.exec(etag)?.[1];
  const version = Number(digits);
  return digits !== undefined && version <= MAX_VERSION ? version : undefined;
}
