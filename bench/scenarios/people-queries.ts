// What bench:people asks (bench/README.md, "Find people"): a mix of queries as people type them
// into a people screen's search, made from the seeded database itself so that they find someone,
// and the users whose handles it resolves. Deterministic for one seed: the same run asks the same.
import { seededId, sql } from "../harness/database.js";
import { seededRandom } from "../harness/seeded-random.js";
import { viewerIds } from "../seed/people.js";

/** The kinds of query in the mix, and their shares of it (percent). */
export const queryKinds = {
  /** The first 1 to 5 letters of a given or family name, common ones most often: "j", "gar". */
  prefix: 35,
  /** A whole first word and the start of the next: "josé ga". */
  twoWords: 20,
  /** A handle as it is: "ada_lovelace". */
  handle: 10,
  /** "@" and the start of a handle: "@jose_g". */
  atHandle: 15,
  /** A name with a typo (two letters swapped, or one missing): "kierkegard". */
  typo: 10,
  /** The start of a name in its own script: "Ива", "李", "Γιώ". */
  otherScript: 10,
} as const;
export type QueryKind = keyof typeof queryKinds;

export interface PeopleQuery {
  readonly kind: QueryKind;
  readonly query: string;
  /** Who searches: one of the seed's viewers. */
  readonly viewer: string;
}

/** A user with a handle, for ResolveHandle beside GetProfile. */
export interface HandleUser {
  readonly userId: string;
  readonly handle: string;
}

/** Profiles spread over the table: number 1 + (k × 7919 mod N), k = 1..count. */
async function sampledProfiles(url: URL, profiles: number, count: number) {
  const ids = Array.from({ length: count }, (_, k) => seededId(1 + (((k + 1) * 7919) % profiles)));
  const { rows } = await sql(
    url,
    `SELECT user_id, display_name, handle,
            EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = p.user_id AND b.blocked_user_id = ANY ($2::uuid[])
                    OR b.blocked_user_id = p.user_id AND b.user_id = ANY ($2::uuid[])) AS blocks_a_viewer
     FROM profiles p WHERE user_id = ANY ($1::uuid[]) ORDER BY user_id`,
    [ids, viewerIds],
  );
  return rows as {
    user_id: string;
    display_name: string;
    handle: string | null;
    blocks_a_viewer: boolean;
  }[];
}

const isLatin = (text: string) => /^\p{Script=Latin}/u.test(text);
const letters = (word: string) => [...word];

/** A word with two neighbouring letters swapped or one left out, away from its first letter. */
function typo(word: string, next: () => number): string {
  const chars = letters(word);
  const at = 1 + Math.floor(next() * (chars.length - 2));
  if (next() < 0.5) chars.splice(at, 1);
  else [chars[at], chars[at + 1]] = [chars[at + 1] ?? "", chars[at] ?? ""];
  return chars.join("");
}

/**
 * `count` queries of the kinds' shares, each by one of `viewers` in turn, from the seed at `url`
 * of `profiles` profiles: the names and handles of profiles spread over the table.
 */
export async function peopleQueries(
  url: URL,
  profiles: number,
  viewers: readonly string[],
  count: number,
): Promise<PeopleQuery[]> {
  const next = seededRandom(2021);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const sample = await sampledProfiles(url, profiles, 3000);
  const latinNames = sample.filter((p) => isLatin(p.display_name) && p.display_name.includes(" "));
  const otherNames = sample.filter((p) => !isLatin(p.display_name));
  const wordsOf = (name: string) => name.split(/[^\p{L}\p{N}'’-]+/u).filter((w) => w !== "");
  // A word of a name drawn at random: common names come up as often as they are common.
  const latinWords = latinNames.flatMap((p) => wordsOf(p.display_name)).filter(isLatin);
  const handles = sample.flatMap((p) => (p.handle === null ? [] : [p.handle]));
  const kinds = Object.entries(queryKinds) as [QueryKind, number][];
  const kindOf = (): QueryKind => {
    let left = next() * 100;
    for (const [kind, share] of kinds) {
      left -= share;
      if (left < 0) return kind;
    }
    return "prefix";
  };
  const make: Record<QueryKind, () => string> = {
    prefix: () => {
      const word = pick(latinWords);
      const length = [1, 2, 2, 3, 3, 3, 4, 4, 5][Math.floor(next() * 9)] ?? 3;
      const start = letters(word).slice(0, length).join("");
      return next() < 0.6 ? start.toLowerCase() : start;
    },
    twoWords: () => {
      const [first = "", second = ""] = wordsOf(pick(latinNames).display_name);
      return `${first} ${letters(second)
        .slice(0, 1 + Math.floor(next() * 4))
        .join("")}`;
    },
    handle: () => pick(handles),
    atHandle: () => `@${pick(handles).slice(0, 2 + Math.floor(next() * 7))}`,
    typo: () => {
      const words = wordsOf(pick(latinNames).display_name);
      const longest = words.reduce((a, b) => (letters(b).length > letters(a).length ? b : a), "");
      const wrong = letters(longest).length >= 5 ? typo(longest, next) : `${longest}x`;
      const two = words.slice(0, 2);
      if (!two.includes(longest) || next() < 0.5) return wrong;
      return two.map((word) => (word === longest ? wrong : word)).join(" ");
    },
    otherScript: () => {
      const [first = ""] = wordsOf(pick(otherNames).display_name);
      return letters(first)
        .slice(0, 1 + Math.floor(next() * 3))
        .join("");
    },
  };
  return Array.from({ length: count }, (_, i) => {
    const kind = kindOf();
    return { kind, query: make[kind](), viewer: viewers[i % viewers.length] ?? "" };
  });
}

/**
 * `count` users with handles, spread over the table, none blocked by a viewer or blocking one:
 * ResolveHandle answers NOT_FOUND for those, GetProfile a withheld view.
 */
export async function handleUsers(
  url: URL,
  profiles: number,
  count: number,
): Promise<HandleUser[]> {
  const sample = await sampledProfiles(url, profiles, Math.ceil(count / 0.7));
  return sample
    .flatMap((p) =>
      p.handle === null || p.blocks_a_viewer ? [] : [{ userId: p.user_id, handle: p.handle }],
    )
    .slice(0, count);
}

/** Quotes a value for SQL text: a string literal. */
const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** A parameter as pg sends it: text, an array in PostgreSQL's array syntax, or NULL. */
export type SqlValue = string | number | null | readonly string[];
const asText = (value: Exclude<SqlValue, null>) =>
  typeof value === "object"
    ? `{${value.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`
    : String(value);

/**
 * A pgbench script that runs `statement` (SQL with $1..$n, as the service prepares it) with one
 * of `parameterSets` picked at random per transaction: pgbench has no string variables, so a
 * first statement selects the set's values into :p1..:pn (`\gset`), and the service's SQL then
 * runs as it is, with :pk where it has $k, which pgbench -M prepared sends as a parameter again.
 * `\gset` stores NULL as "", so a parameter that is NULL in some set is `NULLIF(:pk, '')` (none of
 * its other values may be ""): still a parameter, folded alike in a custom plan.
 */
export function pgbenchScript(
  statement: string,
  parameterSets: readonly (readonly SqlValue[])[],
): string {
  const width = parameterSets[0]?.length ?? 0;
  if (parameterSets.some((set) => set.length !== width))
    throw new Error("every parameter set must have as many values as the statement parameters");
  const texts = parameterSets.map((set) => set.map((v) => (v === null ? null : asText(v))));
  if (texts.some((set) => set.some((value) => value !== null && /:[A-Za-z0-9_]/.test(value))))
    throw new Error("pgbench would read ':name' inside a value as a variable");
  const nullable = Array.from({ length: width }, (_, k) => texts.some((set) => set[k] === null));
  if (texts.some((set) => set.some((value, k) => nullable[k] && value === "")))
    throw new Error(
      "a parameter that may be NULL has an empty value: pgbench cannot tell them apart",
    );
  const columns = Array.from(
    { length: width },
    (_, k) => `(ARRAY[${texts.map((set) => literal(set[k] ?? "")).join(", ")}])[:i] AS p${k + 1}`,
  );
  const sqlText = statement
    .trim()
    .replace(/;$/, "")
    .replace(/\$(\d+)/g, (_, k: string) =>
      nullable[Number(k) - 1] ? `NULLIF(:p${k}, '')` : `:p${k}`,
    );
  return [
    `\\set i random(1, ${parameterSets.length})`,
    `SELECT ${columns.join(", ")} \\gset`,
    `${sqlText};`,
    "",
  ].join("\n");
}
