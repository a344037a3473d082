import fc from "fast-check";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTimestamptz, TIMESTAMPTZ_OID } from "../src/db/timestamptz.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";

const pgParse = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (text: string) => Date;

/** Years 100-9999, any millisecond, as PostgreSQL writes it for a UTC session. */
const utcText = fc
  .record({
    ms: fc.integer({ min: Date.UTC(100, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
    micros: fc.integer({ min: 0, max: 999 }),
    fractionDigits: fc.integer({ min: 0, max: 6 }),
  })
  .map(({ ms, micros, fractionDigits }) => {
    const iso = new Date(ms).toISOString();
    const fraction = `${iso.slice(20, 23)}${String(micros).padStart(3, "0")}`;
    const dot = fractionDigits === 0 ? "" : `.${fraction.slice(0, fractionDigits)}`;
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${dot}+00`;
  });

describe("parseTimestamptz", () => {
  it("reads every UTC text form exactly as pg's own parser does", () => {
    fc.assert(
      fc.property(utcText, (text) => {
        expect(parseTimestamptz(text).getTime()).toBe(pgParse(text).getTime());
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    "2026-11-24 08:06:33.177123+05:30",
    "2026-11-23 21:36:33-05",
    "0044-03-15 12:00:00+00",
    "0044-03-15 12:00:00+00 BC",
    "12026-11-24 02:36:33+00",
    "infinity",
    "-infinity",
  ])("leaves %s to pg's parser", (text) => {
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
