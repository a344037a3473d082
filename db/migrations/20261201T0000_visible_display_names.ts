import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// Display names must show something, and bios must not reorder the page: the database side of the
// field rules of issue 10 (the service's rules are in src/profile/rules.ts). PostgreSQL 15
// regexes have no Unicode property classes, so these constraints name code point ranges: they
// refuse a subset of what the service refuses, and never a name the service accepts.
//
// Rows written before this migration that break the new constraints are mended first, as one
// announced change each (version + 1, so the outbox trigger publishes it): such a display name
// becomes "", the state of a provisioned profile whose user has not chosen a name yet; a bio loses
// the refused characters and is normalized again.

// Noncharacters: U+FDD0–U+FDEF and the last two code points of every plane.
const noncharacters = [
  "\\ufdd0-\\ufdef\\ufffe\\uffff",
  ...Array.from({ length: 16 }, (_, index) => {
    const plane = (index + 1).toString(16).padStart(2, "0");
    return `\\U00${plane}fffe\\U00${plane}ffff`;
  }),
].join("");

// Refused anywhere in a display name, besides what profiles_display_name_valid already refuses:
// soft hyphen, combining grapheme joiner, Arabic letter mark, the Hangul fillers (U+115F, U+1160,
// U+3164, U+FFA0), the Khmer inherent vowels, the Mongolian vowel separator, line and paragraph
// separators, invisible operators and deprecated format characters (U+2060–U+206F), the blank
// symbols U+2800 and U+1D159, interlinear annotation characters, musical formatting characters,
// tags, private use (U+E000–U+F8FF, planes 15 and 16) and noncharacters.
const forbiddenInDisplayName = [
  "\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u2028\\u2029\\u2060-\\u206f",
  "\\u2800\\u3164\\uffa0\\ufff9-\\ufffb\\U0001d159\\U0001d173-\\U0001d17a\\U000e0000-\\U000e007f",
  "\\ue000-\\uf8ff\\U000f0000-\\U0010ffff",
  noncharacters,
].join("");

// Draws nothing: whitespace, zero-width characters, combining marks of the combining blocks
// (U+0300–U+036F, U+0483–U+0489, U+1AB0–U+1AEB, U+1DC0–U+1DFF, U+20D0–U+20F0, U+FE20–U+FE2F) and
// variation selectors. A name needs one character outside this set. Marks of other blocks pass
// here; the service refuses names of marks alone whatever their block.
const drawsNothing = [
  "\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200f\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff",
  "\\u0300-\\u036f\\u0483-\\u0489\\u1ab0-\\u1aeb\\u1dc0-\\u1dff\\u20d0-\\u20f0\\ufe20-\\ufe2f",
  "\\u180b-\\u180f\\ufe00-\\ufe0f\\U000e0100-\\U000e01ef",
].join("");

const displayNameVisible = sql.raw(
  `display_name = '' OR (display_name !~ '[${forbiddenInDisplayName}]' AND display_name ~ '[^${drawsNothing}]')`,
);

// Bidi embeddings, overrides and isolates, and noncharacters.
const forbiddenInBio = `[\\u202a-\\u202e\\u2066-\\u2069${noncharacters}]`;
const bioBreaks = sql.raw(`bio ~ '${forbiddenInBio}'`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE profiles
    SET display_name = CASE WHEN ${displayNameVisible} THEN display_name ELSE '' END,
      bio = CASE WHEN ${bioBreaks}
        THEN normalize(regexp_replace(bio, ${sql.raw(`'${forbiddenInBio}'`)}, '', 'g'), NFC)
        ELSE bio END,
      version = version + 1,
      updated_at = now()
    WHERE NOT (${displayNameVisible}) OR ${bioBreaks}
  `.execute(db);
  await sql`
    ALTER TABLE profiles
    ADD CONSTRAINT profiles_display_name_visible CHECK (${displayNameVisible}),
    ADD CONSTRAINT profiles_bio_characters_valid CHECK (NOT (${bioBreaks}))
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE profiles
    DROP CONSTRAINT profiles_bio_characters_valid,
    DROP CONSTRAINT profiles_display_name_visible
  `.execute(db);
}
