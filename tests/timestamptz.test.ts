import fc from "fast-check";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTimestamptz, TIMESTAMPTZ_OID } from "../src/db/timestamptz.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";

const pgParse = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (text: string) => Date;

/** Zone offsets as PostgreSQL prints them: `+HH`, `+HH:MM`, or `+HH:MM:SS` (old local mean times). */
const offsetSeconds = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -15, max: 15 }).map((hours) => hours * 3600),
  fc.integer({ min: -15 * 4, max: 15 * 4 }).map((quarters) => quarters * 900),
  fc.integer({ min: -15 * 3600, max: 15 * 3600 }),
);

function offsetText(seconds: number): string {
  const sign = seconds < 0 ? "-" : "+";
  const magnitude = Math.abs(seconds);
  const [h, m, s] = [Math.floor(magnitude / 3600), Math.floor(magnitude / 60) % 60, magnitude % 60];
  const two = (value: number) => String(value).padStart(2, "0");
  if (s !== 0) return `${sign}${two(h)}:${two(m)}:${two(s)}`;
  return m !== 0 ? `${sign}${two(h)}:${two(m)}` : `${sign}${two(h)}`;
}

/** Years 100-9999, any millisecond, in any zone, as PostgreSQL writes it (DateStyle ISO). */
const timestampText = fc
  .record({
    ms: fc.integer({ min: Date.UTC(100, 1, 1), max: Date.UTC(9999, 10, 30) }),
    micros: fc.integer({ min: 0, max: 999 }),
    fractionDigits: fc.integer({ min: 0, max: 6 }),
    offset: offsetSeconds,
  })
  .map(({ ms, micros, fractionDigits, offset }) => {
    const iso = new Date(ms + offset * 1000).toISOString();
    const fraction = `${iso.slice(20, 23)}${String(micros).padStart(3, "0")}`;
    const dot = fractionDigits === 0 ? "" : `.${fraction.slice(0, fractionDigits)}`;
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${dot}${offsetText(offset)}`;
  });

describe("parseTimestamptz", () => {
  it("reads every text form exactly as pg's own parser does", () => {
    fc.assert(
      fc.property(timestampText, (text) => {
        expect(parseTimestamptz(text).getTime()).toBe(pgParse(text).getTime());
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    "2026-11-24 08:06:33.177123+05:30",
    "2026-11-23 21:36:33-05",
    "1883-11-18 11:40:28-04:56:02",
    "0044-03-15 12:00:00+00",
    "0044-03-15 12:00:00+00 BC",
    "12026-11-24 02:36:33+00",
    "infinity",
    "-infinity",
  ])("reads %s as pg's parser does", (text) => {
    expect(String(parseTimestamptz(text))).toBe(String(pgParse(text)));
  });
});

describe("timestamps from PostgreSQL through the service's pool", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it.each(["UTC", "Pacific/Chatham"])(
    "arrive as the instants that were stored, in a session on %s",
    async (timeZone) => {
      const stored = [
        "2026-11-24T02:36:33.177Z",
        "1999-12-31T23:59:59.999Z",
        "2026-03-01T00:00:00Z",
      ];
      const read = await database.db.transaction().execute(async (trx) => {
        await sql`SELECT set_config('TimeZone', ${timeZone}, true)`.execute(trx);
        const { rows } = await sql<{ at: Date }>`
        SELECT at FROM unnest(${stored}::timestamptz[]) WITH ORDINALITY AS t(at, n) ORDER BY n
      `.execute(trx);
        return rows.map((row) => row.at.toISOString());
      });
      expect(read).toEqual(stored.map((iso) => new Date(iso).toISOString()));
    },
  );
});
