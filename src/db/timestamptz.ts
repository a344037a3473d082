import pg from "pg";

/** PostgreSQL's type OID for `timestamptz`. */
export const TIMESTAMPTZ_OID = 1184;

const defaultParse = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text");
const zero = 48; // "0"

/**
 * Parses a `timestamptz` in the text form PostgreSQL sends a session whose TimeZone is UTC
 * (`2026-11-24 02:36:33.177123+00`, fraction optional); any other form goes to pg's own parser.
 *
 * Why: pg's parser (a regular expression, then field by field) took a tenth of the service's CPU
 * on BatchGetProfiles, two timestamps per row; this one is about five times cheaper. Like pg's,
 * it keeps milliseconds, the precision of `Date`.
 */
export function parseTimestamptz(text: string): Date {
  const n = text.length;
  const utcForm =
    n >= 22 &&
    n <= 29 &&
    text.charCodeAt(10) === 32 &&
    text.charCodeAt(n - 3) === 43 &&
    text.charCodeAt(n - 2) === zero &&
    text.charCodeAt(n - 1) === zero;
  const year = utcForm ? digitsAt(text, 0, 4) : 0;
  // Date.UTC reads years 0-99 as 1900-1999; pg's parser knows better.
  if (year < 100) return defaultParse(text) as Date;
  // A fraction has 1 to 6 digits after the "."; its first three are the milliseconds.
  const fractionDigits = Math.min(n - 23, 3);
  const milliseconds = n > 22 ? digitsAt(text, 20, fractionDigits) * 10 ** (3 - fractionDigits) : 0;
  return new Date(
    Date.UTC(
      year,
      digitsAt(text, 5, 2) - 1,
      digitsAt(text, 8, 2),
      digitsAt(text, 11, 2),
      digitsAt(text, 14, 2),
      digitsAt(text, 17, 2),
      milliseconds,
    ),
  );
}

/** pg's type parsers, with `parseTimestamptz` for `timestamptz` text. */
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMPTZ_OID && format !== "binary"
      ? parseTimestamptz
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + text.charCodeAt(i) - zero;
  return value;
}
