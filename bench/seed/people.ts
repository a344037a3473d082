// The people seed (issue 21's benchmark): a PostgreSQL database of N profiles with realistic
// names of many cultures and scripts, handles for about 80 % of them, some who may be found only by
// their contacts (10 %) or by nobody (2 %), and viewers with contacts and blocks. The names are
// made and folded in JavaScript (searchNameOf, as the service writes them) into a pool of distinct
// full names; PostgreSQL then draws every profile from the pool with generate_series, so that
// 1,000,000 profiles take a minute or two. A database seeded with the same N, migrations and seed
// is reused: `bench_seed` records what it holds, written last.
//
//   npx tsx bench/seed/people.ts [N]     seeds bench_people (N = 1,000,000 by default) unless it is
//                                        already seeded so; BENCH_PEOPLE_DATABASE names another
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { searchNameOf, searchWords } from "../../src/profile/search-text.js";
import { migrate, seededId, seededIdSql, sql } from "../harness/database.js";
import { build, root } from "../harness/processes.js";
import { seededRandom } from "../harness/seeded-random.js";
import { type Culture, cultures } from "./names.js";

/** Bump when the seed's content changes: a database seeded by another version is seeded again. */
const SEED_VERSION = 3;
/** Users 1..VIEWERS are the viewers the benchmark searches as. */
export const VIEWERS = 16;
/** Each viewer's own contacts, the owners who have the viewer as a contact, and blocks each way. */
const CONTACTS_EACH = 200;
const CONTACT_OF_EACH = 300;
const BLOCKS_EACH = 20;

/** One full name of the pool: as displayed, as stored for search, and the stem of its handle. */
export interface PoolName {
  readonly display: string;
  readonly search: string;
  readonly stem: string;
}

/** A name as shown ("李") and its Latin spelling for a handle ("li"). */
function parts(name: string): { shown: string; latin: string } {
  const [shown = name, latin] = name.split("|");
  const folded = latin ?? searchWords(shown).join("");
  return { shown, latin: folded.replace(/[^a-z0-9]/g, "") };
}

/**
 * `size` full names drawn from `cultures` by their weights, each name of a list with a skew towards
 * its first (most common) entries; duplicates are kept, so common names are common in the pool.
 */
export function namePool(size: number, seed = 21): PoolName[] {
  const next = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(list.length * next() ** 1.4)] as T;
  const totalWeight = cultures.reduce((sum, culture) => sum + culture.weight, 0);
  const culture = (): Culture => {
    let left = next() * totalWeight;
    for (const c of cultures) {
      left -= c.weight;
      if (left < 0) return c;
    }
    return cultures[0] as Culture;
  };
  const pool: PoolName[] = [];
  while (pool.length < size) {
    const c = culture();
    const name = (of: "given" | "family") => {
      const tail = c.tail;
      if (tail?.of !== of || next() >= tail.share) return parts(pick(c[of]));
      const start = parts(tail.starts[Math.floor(next() * tail.starts.length)] ?? "");
      const end = parts(tail.ends[Math.floor(next() * tail.ends.length)] ?? "");
      return { shown: start.shown + end.shown, latin: start.latin + end.latin };
    };
    const given = name("given");
    const family = name("family");
    const roll = next();
    let display: string;
    if (roll < 0.04) {
      display = given.shown;
    } else if (c.order === "family+given") {
      display = family.shown + given.shown;
    } else if (c.order === "family given") {
      const middle = c.middle !== undefined && next() < 0.85 ? `${pick(c.middle)} ` : "";
      display = `${family.shown} ${middle}${given.shown}`;
    } else {
      const second =
        c.secondFamily !== undefined && next() < c.secondFamily
          ? `${next() < 0.2 ? "-" : " "}${parts(pick(c.family)).shown}`
          : "";
      const middle = next() < 0.08 ? ` ${parts(pick(c.given)).shown}` : "";
      display = `${given.shown}${middle} ${family.shown}${second}`;
    }
    if (roll > 0.97) display = display.toLowerCase();
    else if (roll > 0.955) display = `${display} ${pick(["🌸", "⚽", "🎸", "✨", "🇧🇷", "☕"])}`;
    display = display.normalize("NFC");
    pool.push({
      display,
      search: searchNameOf(display),
      stem: handleStem(given.latin, family.latin, next()),
    });
  }
  return pool;
}

/** How people make a handle of their name: ada_lovelace, adalovelace, a_lovelace, ada, ... */
function handleStem(given: string, family: string, roll: number): string {
  const stem =
    roll < 0.45
      ? `${given}_${family}`
      : roll < 0.6
        ? `${given}${family}`
        : roll < 0.7
          ? `${given.slice(0, 1)}_${family}`
          : roll < 0.78
            ? `${given}_${family.slice(0, 1)}`
            : roll < 0.9
              ? given
              : `${family}_${given}`;
  const valid = /^[a-z][a-z0-9_]{2,}$/.test(stem) ? stem : `${given}_${family}`;
  // Room for the number that tells the holders of one stem apart, within the 32 characters.
  return valid.slice(0, 26).replace(/_+$/, "");
}

/** What a seeded database holds, so that a run can tell whether to reuse it. */
export async function seedFingerprint(profiles: number): Promise<string> {
  const hash = createHash("sha256").update(`people seed ${SEED_VERSION} ${profiles}\n`);
  const migrations = path.join(root, "db", "migrations");
  for (const file of (await readdir(migrations)).sort()) {
    hash.update(`${file}\n`).update(await readFile(path.join(migrations, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

/** The database a people bench of N profiles uses: bench_people for 1,000,000. */
export function peopleDatabaseUrl(serverUrl: string, profiles: number): URL {
  const url = new URL(serverUrl);
  url.pathname = `/${process.env.BENCH_PEOPLE_DATABASE ?? (profiles === 1_000_000 ? "bench_people" : `bench_people_${profiles}`)}`;
  return url;
}

/**
 * Makes sure the database at `url` holds the people seed of `profiles` profiles: reuses it when
 * its `bench_seed` says so, otherwise drops it, creates it, migrates it with the production build
 * (`dist/migrate.js`, which must be built) and seeds it. Returns whether it seeded.
 */
export async function ensurePeopleSeed(url: URL, profiles: number): Promise<boolean> {
  const fingerprint = await seedFingerprint(profiles);
  const name = url.pathname.slice(1);
  const seeded = await sql(url, "SELECT fingerprint FROM bench_seed")
    .then((result) => result.rows[0]?.fingerprint === fingerprint)
    .catch(() => false);
  if (seeded) return false;
  const server = new URL(url);
  server.pathname = "/postgres";
  await sql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await sql(server, `CREATE DATABASE ${name}`);
  await migrate(url);
  await seed(url, profiles);
  await sql(
    url,
    "CREATE TABLE bench_seed (profiles integer, fingerprint text, seeded_at timestamptz)",
  );
  await sql(url, "INSERT INTO bench_seed VALUES ($1, $2, now())", [profiles, fingerprint]);
  return true;
}

/** Every user's number n hashed into [0, m) with `salt`: the seed's stable dice. */
const dice = (n: string, salt: number, m: number) =>
  `(abs(hashint4extended((${n})::int, ${salt})) % ${m})`;

async function seed(url: URL, profiles: number): Promise<void> {
  const started = Date.now();
  const say = (what: string) =>
    process.stderr.write(`  seed: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  const pool = namePool(Math.max(1000, Math.min(200_000, Math.floor(profiles / 5))));
  const client = new pg.Client({ connectionString: String(url) });
  await client.connect();
  try {
    const q = (text: string, values?: unknown[]) => client.query(text, values);
    // Foreign keys are not checked and the outbox triggers do not fire while seeding (the seed has
    // no events); every other trigger of the migrations fires as it would for the service's
    // writes (ENABLE ALWAYS for the while), so that what they derive (the search terms, the
    // distinct words) is theirs, not a copy of their SQL.
    await q(`SET session_replication_role = replica; SET maintenance_work_mem = '1GB';
             SET synchronous_commit = off`);
    const { rows: triggers } = await q(
      `SELECT tgrelid::regclass::text AS "table", quote_ident(tgname) AS name FROM pg_trigger
       WHERE NOT tgisinternal AND tgenabled = 'O' AND tgname !~ '(outbox|refuse_deleted)'
         AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)`,
    );
    for (const t of triggers) await q(`ALTER TABLE ${t.table} ENABLE ALWAYS TRIGGER ${t.name}`);
    // Indexes that back no constraint are built once the rows are in: far faster than row by row.
    const { rows: indexes } = await q(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
       WHERE i.indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    );
    for (const index of indexes) await q(`DROP INDEX ${index.name}`);
    await q(
      `CREATE TEMP TABLE pool AS
       SELECT i::int, display, search, stem
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(display, search, stem, i)`,
      [pool.map((p) => p.display), pool.map((p) => p.search), pool.map((p) => p.stem)],
    );
    await q("ALTER TABLE pool ADD PRIMARY KEY (i)");
    say(`${pool.length} names in the pool`);
    // Profile n takes pool name 1 + hash(n) mod |pool|; 80 % take a handle, the stem's first holder
    // as it is and the others with a number (no stem has a digit, so these cannot collide).
    await q(
      `INSERT INTO profiles (user_id, display_name, search_name, handle, avatar_url, bio, version,
                             created_at, updated_at)
       SELECT ${seededIdSql("n")}, display, search,
              CASE WHEN has_handle THEN
                CASE WHEN holder = 1 THEN stem ELSE stem || (holder - 1) END END,
              CASE WHEN ${dice("n", 3, 10)} < 7 THEN 'https://cdn.example/avatars/' || n || '.png' ELSE '' END,
              CASE WHEN ${dice("n", 4, 10)} < 4 THEN 'Bio of user ' || n ELSE '' END,
              1, since, since
       FROM (
         SELECT n, display, search, stem, has_handle,
                timestamptz '2024-01-01' + ${dice("n", 5, 60_000_000)} * interval '1 second' AS since,
                row_number() OVER (PARTITION BY has_handle, stem ORDER BY n) AS holder
         FROM (SELECT n, ${dice("n", 2, 100)} < 80 AS has_handle, ${dice("n", 1, pool.length)} + 1 AS i
               FROM generate_series(1, $1::int) AS n) AS drawn
         JOIN pool USING (i)
       ) AS named
       ORDER BY n`,
      [profiles],
    );
    say(`${profiles} profiles, with what their triggers write`);
    await q(
      `INSERT INTO handles (handle, user_id, claimed_at)
       SELECT handle, user_id, created_at FROM profiles WHERE handle IS NOT NULL`,
    );
    say("handles");
    const viewer = seededIdSql("v");
    await q(
      `INSERT INTO privacy_settings (user_id, avatar_audience, bio_audience, discoverable_by, version)
       SELECT ${seededIdSql("n")},
              CASE WHEN ${dice("n", 7, 20)} = 0 THEN 'contacts' ELSE 'everyone' END,
              CASE WHEN ${dice("n", 8, 10)} = 0 THEN 'nobody' ELSE 'everyone' END,
              CASE WHEN ${dice("n", 6, 100)} < 10 THEN 'contacts'
                   WHEN ${dice("n", 6, 100)} < 12 THEN 'nobody' ELSE 'everyone' END, 2
       FROM generate_series(1, $1::int) AS n
       WHERE ${dice("n", 6, 100)} < 12 OR ${dice("n", 7, 20)} = 0 OR ${dice("n", 8, 10)} = 0`,
      [profiles],
    );
    // Each viewer's contacts; owners who found only by contacts and have the viewer as one; blocks
    // both ways. Drawn among all profiles, so some of them match any common query.
    const other = (salt: number) =>
      `${seededIdSql(`1 + ${dice("v * 100000 + k", salt, profiles)}`)}`;
    await q(
      `INSERT INTO contacts (user_id, contact_user_id)
       SELECT ${viewer}, ${other(11)} FROM generate_series(1, ${VIEWERS}) v, generate_series(1, ${CONTACTS_EACH}) k
       ON CONFLICT DO NOTHING;
       INSERT INTO contacts (user_id, contact_user_id)
       SELECT owner, ${viewer} FROM generate_series(1, ${VIEWERS}) v,
         LATERAL (SELECT user_id AS owner FROM privacy_settings WHERE discoverable_by = 'contacts'
                  ORDER BY hashint4extended(right(user_id::text, 12)::int, v) LIMIT ${CONTACT_OF_EACH}) o
       ON CONFLICT DO NOTHING;
       INSERT INTO blocks (user_id, blocked_user_id)
       SELECT ${viewer}, ${other(12)} FROM generate_series(1, ${VIEWERS}) v, generate_series(1, ${BLOCKS_EACH}) k
       ON CONFLICT DO NOTHING;
       INSERT INTO blocks (user_id, blocked_user_id)
       SELECT ${other(13)}, ${viewer} FROM generate_series(1, ${VIEWERS}) v, generate_series(1, ${BLOCKS_EACH}) k
       ON CONFLICT DO NOTHING;
       DELETE FROM contacts WHERE user_id = contact_user_id;
       DELETE FROM blocks WHERE user_id = blocked_user_id;
       DELETE FROM contacts c USING blocks b
       WHERE (b.user_id, b.blocked_user_id) IN ((c.user_id, c.contact_user_id), (c.contact_user_id, c.user_id))`,
    );
    say("privacy settings, contacts and blocks");
    for (const index of indexes) await q(index.definition);
    say(`${indexes.length} indexes built`);
    for (const t of triggers) await q(`ALTER TABLE ${t.table} ENABLE TRIGGER ${t.name}`);
    await q("SET session_replication_role = origin");
    await q("VACUUM ANALYZE");
    say("vacuumed and analyzed");
    await checkSeed(client, profiles);
  } finally {
    await client.end();
  }
}

/** Fails unless the seed holds what it promises (a few rows against searchNameOf, the shares). */
async function checkSeed(client: pg.Client, profiles: number): Promise<void> {
  const { rows } = await client.query(
    "SELECT display_name, search_name FROM profiles TABLESAMPLE SYSTEM (1) LIMIT 2000",
  );
  const wrong = rows.filter((row) => row.search_name !== searchNameOf(row.display_name));
  if (wrong.length > 0)
    throw new Error(`search_name is not searchNameOf(display_name): ${JSON.stringify(wrong[0])}`);
  const { rows: counts } = await client.query(
    `SELECT count(*)::int AS profiles, count(handle)::int AS handles,
            (SELECT count(*)::int FROM privacy_settings WHERE discoverable_by = 'contacts') AS contacts_only,
            (SELECT count(*)::int FROM privacy_settings WHERE discoverable_by = 'nobody') AS nobody
     FROM profiles`,
  );
  const count = counts[0];
  if (count?.profiles !== profiles)
    throw new Error(`seeded ${count?.profiles} profiles, not ${profiles}`);
  process.stderr.write(
    `  seed: ${count.handles} handles, discoverable by contacts ${count.contacts_only}, by nobody ${count.nobody}\n`,
  );
}

/** The viewers' ids, users 1..VIEWERS. */
export const viewerIds = Array.from({ length: VIEWERS }, (_, i) => seededId(i + 1));

if (import.meta.main) {
  const profiles = Number(process.argv[2] ?? process.env.BENCH_PEOPLE_PROFILES ?? 1_000_000);
  const url = peopleDatabaseUrl(
    process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    profiles,
  );
  await build();
  const started = Date.now();
  const seededNow = await ensurePeopleSeed(url, profiles);
  process.stderr.write(
    `${url.pathname.slice(1)}: ${seededNow ? "seeded" : "already seeded"} with ${profiles} profiles in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}
