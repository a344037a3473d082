import type { Generated, Selectable } from "kysely";

/**
 * The `handles` table: every handle ever claimed, in use (`released_at` NULL) or held after its
 * release. The primary key makes a handle one user's at a time; `profiles.handle` is the copy
 * reads use.
 */
export interface HandlesTable {
  /** Canonical form (Profile.handle's rules). */
  handle: string;
  /** Who holds it, or held it last. */
  user_id: string;
  claimed_at: Date;
  /** When its holder let it go (or their account was deleted); NULL while in use. */
  released_at: Date | null;
  /** Claimed by provisioning (the registration's username): starts no claim cooldown. */
  by_registration: Generated<boolean>;
}

export type HandleRow = Selectable<HandlesTable>;

/** The `profile_search_terms` table: one row per word of a profile's `search_name` (by trigger). */
export interface ProfileSearchTermsTable {
  term: string;
  user_id: string;
  /** The profile's whole search_name, carried in the index for the query's other words. */
  search_name: string;
}

/** The `search_words` table: every distinct word of any name, with a trigram index (fuzzy). */
export interface SearchWordsTable {
  word: string;
}
