import { CompiledQuery, type Kysely } from "kysely";
import { statementRunnerOf } from "../../db/named-statements.js";
import type { Database } from "../../db/schema.js";
import type { SearchHit, SearchPlan, SearchRank, SearchStore } from "../search.js";
import type { UserId } from "../user-id.js";

// The search statement (docs/search.md): one statement, every candidate group an index range or
// probe bounded by `need` (offset + limit) rows, so that its cost does not grow with the table.
// Exported as text with its parameters for the benchmark, which runs it in pgbench.

/**
 * Whether `viewer` ($1) may find the profile `p`: no block either way, and the owner's
 * discoverable_by admits them (no settings row: everyone). A NULL viewer is found by EVERYONE
 * profiles only. Each test is one primary-key or index probe per candidate. One CASE, so that the
 * planner cannot turn the probes into anti-joins, which would read a group's whole range before
 * its LIMIT instead of stopping there.
 */
const admits = (p: string) => `
      CASE
        WHEN EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = ${p}.user_id AND b.blocked_user_id = $1::uuid)
          OR EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = $1::uuid AND b.blocked_user_id = ${p}.user_id)
          THEN false
        ELSE CASE coalesce(
            (SELECT s.discoverable_by FROM privacy_settings s WHERE s.user_id = ${p}.user_id), 'everyone')
          WHEN 'everyone' THEN true
          WHEN 'contacts' THEN ${p}.user_id = $1::uuid OR EXISTS (SELECT 1 FROM contacts o
            WHERE o.user_id = ${p}.user_id AND o.contact_user_id = $1::uuid)
          ELSE ${p}.user_id = $1::uuid
        END
      END`;

/**
 * Every query word ($4) is a prefix of some word of the folded name `name`. A CASE, like
 * `admits`, so that it stays a filter evaluated in place rather than an anti-join.
 */
const namePrefixes = (name: string) => `(cardinality($4::text[]) > 0 AND CASE
        WHEN EXISTS (SELECT 1 FROM unnest($4::text[]) AS q(word)
          WHERE strpos(' ' || ${name}, ' ' || q.word) = 0) THEN false
        ELSE true
      END)`;

const NEED = "($7::int + $8::int)";

/**
 * How far the terms of each word of a query of several words are counted, to walk the range of
 * the rarest: "marai garcia" walks the few "marai…" names, not every Garcia.
 */
const TERMS_COUNTED = 2000;

/**
 * The distinct words closest to a typo that the fuzzy group looks at: a word people mistype has
 * a few close spellings, and each brings at most `need` profiles.
 */
const FUZZY_WORDS = 8;

/**
 * The search, eight parameters (searchParameters builds them):
 * $1 viewer uuid or NULL; $2 exact handle or NULL; $3 handle prefix or NULL; $4 the folded query
 * words, text[] ('{}' for none); $5 the end of each word's range, text[] (the word with its last
 * code point incremented); $6 the query word for fuzzy matches or NULL; $7 offset; $8 limit.
 * Returns `user_id` (text) and `rank` (1 to 5), in rank order.
 *
 * Each group takes its own best `need` = offset + limit in its own order, which within its rank is
 * the final order, so the merge (each user's best rank, then rank, the group's key, user_id) has
 * exactly the first `need` results. The name groups walk `profile_search_terms` alone (its index
 * carries the folded name), visiting no profile. The fuzzy group runs only when the others found
 * fewer than `need`: its filter is evaluated once, and otherwise the words are never looked up.
 */
export const SEARCH_PROFILES_SQL = `
  WITH walked AS MATERIALIZED (
    SELECT q.word, q.word_end
    FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS q(word, word_end, position)
    ORDER BY CASE WHEN cardinality($4::text[]) = 1 THEN 0 ELSE (
        SELECT count(*) FROM (SELECT 1 FROM profile_search_terms t
          WHERE t.term >= q.word AND t.term < q.word_end LIMIT ${TERMS_COUNTED}) AS counted)
      END, length(q.word) DESC, q.position
    LIMIT 1
  ), exact AS (
    SELECT p.user_id, 1 AS rank, 0::real AS key_number, ''::text COLLATE "C" AS key_text
    FROM profiles p
    WHERE p.handle = $2::text AND ${admits("p")}
  ), contact_matches AS (
    SELECT p.user_id, 2, m.kind, p.search_name COLLATE "C"
    FROM contacts c
    JOIN profiles p ON p.user_id = c.contact_user_id
    CROSS JOIN LATERAL (SELECT CASE
        WHEN p.handle = $2::text THEN 0::real
        WHEN starts_with(p.handle, $3::text) THEN 1::real
        WHEN ${namePrefixes("p.search_name")} THEN 2::real
      END AS kind) m
    WHERE c.user_id = $1::uuid AND m.kind IS NOT NULL AND ${admits("p")}
    ORDER BY m.kind, p.search_name COLLATE "C", p.user_id
    LIMIT ${NEED}
  ), handle_prefix AS (
    SELECT p.user_id, 3, 0::real, p.handle
    FROM profiles p
    WHERE p.handle >= $3::text AND p.handle < $3::text || '~' AND ${admits("p")}
    ORDER BY p.handle
    LIMIT ${NEED}
  ), name_prefix AS (
    SELECT t.user_id, 4, 0::real, t.term
    FROM profile_search_terms t
    WHERE t.term >= (SELECT w.word FROM walked w) AND t.term < (SELECT w.word_end FROM walked w)
      AND CASE
        WHEN NOT ${namePrefixes("t.search_name")} THEN false
        -- Once per user: at their first word in the range.
        WHEN EXISTS (SELECT 1 FROM unnest(string_to_array(t.search_name, ' ')) AS e(term)
          WHERE e.term COLLATE "C" >= (SELECT w.word FROM walked w) AND e.term COLLATE "C" < t.term)
          THEN false
        ELSE ${admits("t")}
      END
    ORDER BY t.term, t.user_id
    LIMIT ${NEED}
  ), found AS (
    SELECT * FROM exact
    UNION ALL SELECT * FROM contact_matches
    UNION ALL SELECT * FROM handle_prefix
    UNION ALL SELECT * FROM name_prefix
  ), fuzzy_words AS MATERIALIZED (
    SELECT w.word, similarity(w.word, $6::text) AS score
    FROM search_words w
    WHERE (SELECT count(DISTINCT f.user_id) FROM found f) < ${NEED} AND w.word % $6::text
    ORDER BY 2 DESC, 1
    LIMIT ${FUZZY_WORDS}
  ), fuzzy AS (
    SELECT m.user_id, 5, -fw.score, fw.word
    FROM fuzzy_words fw
    CROSS JOIN LATERAL (
      SELECT t.user_id
      FROM profile_search_terms t
      WHERE t.term = fw.word AND CASE
          -- The other words of the query: each a prefix of a word of the name, or close to one.
          WHEN EXISTS (SELECT 1 FROM unnest($4::text[]) AS q(word)
            WHERE q.word <> $6::text AND strpos(' ' || t.search_name, ' ' || q.word) = 0
              AND NOT q.word <% t.search_name) THEN false
          ELSE ${admits("t")}
        END
      ORDER BY t.user_id
      LIMIT ${NEED}
    ) m
    ORDER BY 3, 4, 1
    LIMIT ${NEED}
  )
  SELECT user_id::text AS user_id, rank
  FROM (
    SELECT DISTINCT ON (user_id) user_id, rank, key_number, key_text
    FROM (SELECT * FROM found UNION ALL SELECT * FROM fuzzy) AS every_match
    ORDER BY user_id, rank, key_number, key_text
  ) AS best
  ORDER BY rank, key_number, key_text, user_id
  OFFSET $7::int LIMIT $8::int`;

/** The parameters of SEARCH_PROFILES_SQL for one plan, in order. */
export function searchParameters(plan: SearchPlan): unknown[] {
  return [
    plan.viewerId ?? null,
    plan.exactHandle ?? null,
    plan.handlePrefix ?? null,
    [...plan.nameWords],
    plan.nameWords.map(rangeEndOf),
    plan.fuzzyWord ?? null,
    plan.offset,
    plan.limit,
  ];
}

/**
 * The first text after every text that starts with `word`, in code point order (COLLATE "C"
 * compares UTF-8 bytes, which keeps it): `word` with its last code point incremented.
 */
export function rangeEndOf(word: string): string {
  const points = [...word];
  const last = points.pop()?.codePointAt(0) ?? 0;
  // Past the surrogates, which are no characters.
  const next = last === 0xd7ff ? 0xe000 : Math.min(last + 1, 0x10ffff);
  return points.join("") + String.fromCodePoint(next);
}

interface SearchRow {
  user_id: string;
  rank: number;
}

/** The search store on this database. */
export function createSearchStore(db: Kysely<Database>): SearchStore {
  return {
    async search(plan, signal): Promise<SearchHit[]> {
      const parameters = searchParameters(plan);
      const run = statementRunnerOf(db);
      const rows =
        run === undefined
          ? (
              await db.executeQuery<SearchRow>(CompiledQuery.raw(SEARCH_PROFILES_SQL, parameters), {
                signal,
              })
            ).rows
          : await run<SearchRow>(SEARCH_PROFILES_SQL, parameters, signal);
      return rows.map((row) => ({ userId: row.user_id as UserId, rank: row.rank as SearchRank }));
    },
  };
}
