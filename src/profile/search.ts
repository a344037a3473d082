import { createHmac, timingSafeEqual } from "node:crypto";
import type { FieldViolation } from "../field-violations.js";
import { InvalidSearchRequest } from "./errors.js";
import { searchWords } from "./search-text.js";
import type { UserId } from "./user-id.js";
import type { ProfileView, Viewer } from "./visibility.js";

// Finding people (docs/search.md): what a typed query looks for, its pages and their bound. The
// matching and ranking is one statement behind the SearchStore port (profile/sql/search.ts); the
// profiles found are then read and shown as any read shows them.

/** Page sizes: the default for 0, the most one page holds, and the most a query ever yields. */
export const DEFAULT_SEARCH_PAGE_SIZE = 20;
export const MAX_SEARCH_PAGE_SIZE = 50;
export const MAX_SEARCH_RESULTS = 200;
/** A query's length bounds, in characters (code points). */
export const MAX_QUERY_LENGTH = 100;
/** The shortest folded text that is also matched fuzzily. */
export const FUZZY_MIN_LENGTH = 3;

/** Why a profile was found, best first; a profile found several ways counts its best. */
export const SEARCH_RANKS = {
  exactHandle: 1,
  contact: 2,
  handlePrefix: 3,
  namePrefix: 4,
  fuzzy: 5,
} as const;
export type SearchRank = (typeof SEARCH_RANKS)[keyof typeof SEARCH_RANKS];

/** One search as the store runs it: what to match, for whom, and which slice of the results. */
export interface SearchPlan {
  /**
   * Whose search it is: found are the profiles whose `discoverable_by` admits them, none that
   * blocks them or that they block, and their contacts rank second. Undefined (a service token
   * without a viewer, or a token whose subject is no user): only profiles everyone may find.
   */
  readonly viewerId: UserId | undefined;
  /** The query as a whole handle, when it is one (rank 1). */
  readonly exactHandle: string | undefined;
  /** The query as a handle prefix, when it is one (rank 3). */
  readonly handlePrefix: string | undefined;
  /** The folded query words, each to be a prefix of a word of the name (rank 4); [] for none. */
  readonly nameWords: readonly string[];
  /**
   * The longest query word of 3 or more characters, matched by trigram similarity against the
   * distinct words of all names (rank 5); the other words must then be prefixes of, or close to,
   * words of the same name. Handles match exactly or by prefix only.
   */
  readonly fuzzyWord: string | undefined;
  /** How many results in rank order to skip, then how many at most to return. */
  readonly offset: number;
  readonly limit: number;
}

/** One profile found. */
export interface SearchHit {
  readonly userId: UserId;
  readonly rank: SearchRank;
}

/** The port the search runs on: profile/sql/search.ts implements it. */
export interface SearchStore {
  /** The hits of `plan` in rank order (ties: docs/search.md), `offset` skipped, `limit` at most. */
  search(plan: SearchPlan, signal?: AbortSignal): Promise<SearchHit[]>;
}

/** A SearchProfiles request, its raw values as the client sent them. */
export interface SearchRequest {
  readonly viewer: Viewer;
  readonly query: string;
  readonly pageSize: number;
  /** "" for the first page. */
  readonly pageToken: string;
  readonly signal?: AbortSignal;
}

/** One page of results, as the viewer sees them. */
export interface SearchPage {
  readonly views: ProfileView[];
  /** "" on the last page, and once MAX_SEARCH_RESULTS are reached. */
  readonly nextPageToken: string;
}

/** What the search reads the profiles found through: the read cache and the visibility rules. */
export type ViewsOf = (
  userIds: readonly UserId[],
  viewer: Viewer,
  signal?: AbortSignal,
) => Promise<{ readonly views: ProfileView[] }>;

/** The search use case, on `store`, showing what it finds through `viewsOf`. */
export function createProfileSearch(store: SearchStore, viewsOf: ViewsOf) {
  return {
    /** @throws InvalidSearchRequest for a bad query, page size or page token. */
    async searchProfiles(request: SearchRequest): Promise<SearchPage> {
      const violations = queryViolations(request.query);
      if (request.pageSize < 0) {
        violations.push({
          field: "page_size",
          description: "cannot be negative",
          reason: "NEGATIVE",
        });
      }
      const viewerKey = viewerKeyOf(request.viewer);
      const offset =
        request.pageToken === "" ? 0 : offsetOfToken(request.pageToken, request.query, viewerKey);
      if (offset === undefined) {
        violations.push({
          field: "page_token",
          description: "is not a page token of this query for this viewer",
          reason: "INVALID_PAGE_TOKEN",
        });
      }
      if (violations.length > 0 || offset === undefined) throw new InvalidSearchRequest(violations);

      const requested = request.pageSize === 0 ? DEFAULT_SEARCH_PAGE_SIZE : request.pageSize;
      const size = Math.min(requested, MAX_SEARCH_PAGE_SIZE, MAX_SEARCH_RESULTS - offset);
      const plan = planOf(request.query, request.viewer, offset, size + 1);
      const hits = size <= 0 || plan === undefined ? [] : await store.search(plan, request.signal);
      const page = hits.slice(0, size);
      const { views } = await viewsOf(
        page.map((hit) => hit.userId),
        request.viewer,
        request.signal,
      );
      const next = offset + page.length;
      return {
        views,
        nextPageToken:
          hits.length > size && next < MAX_SEARCH_RESULTS
            ? tokenOf(next, request.query, viewerKey)
            : "",
      };
    },
  };
}

export type ProfileSearch = ReturnType<typeof createProfileSearch>;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function queryViolations(query: string): FieldViolation[] {
  const length = [...query].length;
  const refused = (description: string, reason: string) => [
    { field: "query", description, reason },
  ];
  if (length === 0) return refused("cannot be empty", "REQUIRED");
  if (length > MAX_QUERY_LENGTH) {
    return refused(`must be at most ${MAX_QUERY_LENGTH} characters`, "TOO_LONG");
  }
  if (!LETTER_OR_DIGIT.test(query)) {
    return refused("must have at least one letter or digit", "NO_LETTER_OR_DIGIT");
  }
  return [];
}

/** What a handle may start with and hold (Profile.handle's rules), and its longest length. */
const HANDLE_PREFIX = /^[a-z][a-z0-9_]{0,31}$/;
const HANDLE = /^[a-z][a-z0-9_]{2,31}$/;

/**
 * What a valid query looks for: a leading "@" looks for handles only; a query that is a handle
 * prefix (after NFKC and lower-casing) looks for handles too. Undefined: nothing can match.
 */
export function planOf(
  query: string,
  viewer: Viewer,
  offset: number,
  limit: number,
): SearchPlan | undefined {
  const handlesOnly = query.startsWith("@");
  const handleText = (handlesOnly ? query.slice(1) : query).normalize("NFKC").toLowerCase();
  const handlePrefix = HANDLE_PREFIX.test(handleText) ? handleText : undefined;
  const nameWords = handlesOnly ? [] : searchWords(query);
  if (handlePrefix === undefined && nameWords.length === 0) return undefined;
  // The longest word is the likeliest to hold a typo that still leaves trigrams to match.
  const fuzzyWord = nameWords.reduce<string | undefined>(
    (longest, word) =>
      [...word].length >= FUZZY_MIN_LENGTH && word.length >= (longest?.length ?? 0)
        ? word
        : longest,
    undefined,
  );
  return {
    viewerId: viewer.kind === "user" ? viewer.userId : undefined,
    exactHandle: handlePrefix !== undefined && HANDLE.test(handlePrefix) ? handlePrefix : undefined,
    handlePrefix,
    nameWords,
    fuzzyWord,
    offset,
    limit,
  };
}

/** Whose search a page token belongs to. */
function viewerKeyOf(viewer: Viewer): string {
  return viewer.kind === "trusted" ? "trusted" : `user:${viewer.userId ?? ""}`;
}

/**
 * Page tokens: `base64url(version ‖ offset ‖ tag)`, the tag an HMAC-SHA256 (128 bits) over the
 * offset, the query and the viewer. The key need not be secret: a token only says how far into
 * results the caller may read anyway it resumes, and no offset reaches past MAX_SEARCH_RESULTS;
 * the tag keeps tokens opaque and ties each to its query and viewer.
 */
const TOKEN_KEY = "realchat-profile search page token v1";
const TOKEN_VERSION = 1;
const TAG_BYTES = 16;

function tagOf(offset: number, query: string, viewerKey: string): Buffer {
  return createHmac("sha256", TOKEN_KEY)
    .update(`${TOKEN_VERSION}\0${offset}\0${viewerKey}\0${query}`)
    .digest()
    .subarray(0, TAG_BYTES);
}

function tokenOf(offset: number, query: string, viewerKey: string): string {
  return Buffer.concat([
    Buffer.of(TOKEN_VERSION, offset),
    tagOf(offset, query, viewerKey),
  ]).toString("base64url");
}

/** The offset a token names, or undefined when it is no token of this query and viewer. */
function offsetOfToken(token: string, query: string, viewerKey: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, "base64url");
  if (bytes.length !== 2 + TAG_BYTES || bytes[0] !== TOKEN_VERSION) return undefined;
  if (bytes.toString("base64url") !== token) return undefined;
  const offset = bytes[1] ?? MAX_SEARCH_RESULTS;
  if (offset === 0 || offset >= MAX_SEARCH_RESULTS) return undefined;
  return timingSafeEqual(bytes.subarray(2), tagOf(offset, query, viewerKey)) ? offset : undefined;
}
