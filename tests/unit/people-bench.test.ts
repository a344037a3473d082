import { describe, expect, it } from "vitest";
import { pgbenchScript } from "../../bench/scenarios/people-queries.js";
import { namePool } from "../../bench/seed/people.js";
import { searchNameOf } from "../../src/profile/search-text.js";

// bench:people (bench/README.md, "Find people"): the seed's names must be what the service would
// store, and pgbench must run the service's statement with the service's parameters.

describe("the people seed's names", () => {
  const pool = namePool(20_000);

  it("are stored as the service stores them: search_name is searchNameOf(display_name)", () => {
    expect(pool.filter((name) => name.search !== searchNameOf(name.display))).toEqual([]);
  });

  it("pass the profiles table's rules and yield valid handle stems", () => {
    const invalid = pool.filter(
      (name) =>
        name.display !== name.display.normalize("NFC") ||
        [...name.display].length > 64 ||
        name.display !== name.display.trim() ||
        !/^[a-z][a-z_]{2,25}$/.test(name.stem),
    );

    expect(invalid).toEqual([]);
  });

  it("come from many scripts", () => {
    const scripts = ["Latin", "Cyrillic", "Han", "Hangul", "Arabic", "Greek", "Devanagari"];
    const found = scripts.filter((script) =>
      pool.some((name) => new RegExp(`\\p{Script=${script}}`, "u").test(name.display)),
    );

    expect(found).toEqual(scripts);
  });
});

describe("the pgbench script of the search SQL", () => {
  const statement = "SELECT $1::uuid, $2::text, $3::text[], $2::text, $4::int;";

  it("picks a parameter set, then runs the statement with :pk for $k", () => {
    const script = pgbenchScript(statement, [
      ["00000000-0000-4000-8000-000000000001", "o'brien", ["o", 'say "hi"'], 21],
      ["00000000-0000-4000-8000-000000000002", "jose", [], 21],
    ]);

    expect(script.split("\n")).toEqual([
      "\\set i random(1, 2)",
      "SELECT (ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'])[:i] AS p1, " +
        "(ARRAY['o''brien', 'jose'])[:i] AS p2, " +
        `(ARRAY['{"o","say \\"hi\\""}', '{}'])[:i] AS p3, (ARRAY['21', '21'])[:i] AS p4 \\gset`,
      "SELECT :p1::uuid, :p2::text, :p3::text[], :p2::text, :p4::int;",
      "",
    ]);
  });

  it("keeps a NULL a NULL, which \\gset would make an empty string", () => {
    const script = pgbenchScript(statement, [
      [null, "ada", [], 21],
      ["00000000-0000-4000-8000-000000000002", "jose", [], 21],
    ]);

    expect(script).toContain("(ARRAY['', '00000000-0000-4000-8000-000000000002'])[:i] AS p1");
    expect(script).toContain("SELECT NULLIF(:p1, '')::uuid, :p2::text,");
  });

  it("refuses what pgbench would misread", () => {
    expect(() =>
      pgbenchScript(statement, [
        [null, "a", [], 1],
        ["", "b", [], 1],
      ]),
    ).toThrow(/empty value/);
    expect(() => pgbenchScript(statement, [["x", "say:hi", [], 1]])).toThrow(/variable/);
  });
});
