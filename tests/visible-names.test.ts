// Issue 10, item 9: names that render as nothing (Hangul fillers, the braille blank, combining
// marks alone), noncharacters and private-use characters were accepted as display names, and bidi
// overrides in bios. The service refuses them (each case against the rules alone:
// tests/unit/visible-names.test.ts), the CHECK constraints refuse them too, and the migration that
// added the constraints mends the rows stored before it.
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import { beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../db/migrations/index.js";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { checkProfileFields } from "../src/profile/rules.js";
import { grpcClient, type ProfileClient } from "./support/clients.js";
import { storageKinds, useTestDatabase } from "./support/databases.js";
import { useTestServer } from "./support/test-server.js";
import {
  acceptedBios,
  acceptedDisplayNames,
  refusedBios,
  refusedDisplayNames,
} from "./support/visible-name-cases.js";

const rules = { allowHttpAvatarUrls: false };

/** The code and the BadRequest reasons of a call that must fail. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    const reasons = connectError
      .findDetails(BadRequestSchema)
      .flatMap((detail) => detail.fieldViolations.map((v) => `${v.field}: ${v.reason}`));
    return `${Code[connectError.code]} ${reasons.join(", ")}`;
  }
  return "OK";
}

describe("UpdateProfile over gRPC", () => {
  const fixture = useTestServer();
  let client: ProfileClient;

  beforeAll(() => {
    client = grpcClient(fixture.server.baseUrl);
  });

  // Each case against the rules alone: tests/unit/visible-names.test.ts. Here, that the server
  // applies them: one case of each list over the wire.
  it("refuses a display_name the rules refuse (a Hangul filler alone) with INVALID_ARGUMENT and the rule's reason", async () => {
    const outcome = await refusal(
      client.updateProfile({ userId: crypto.randomUUID(), displayName: "\u3164" }),
    );

    expect(outcome).toBe("InvalidArgument display_name: FORBIDDEN_CHARACTER");
  });

  it("refuses a bio with a right-to-left override with INVALID_ARGUMENT FORBIDDEN_CHARACTER", async () => {
    const outcome = await refusal(
      client.updateProfile({ userId: crypto.randomUUID(), bio: "hello \u202Eevil" }),
    );

    expect(outcome).toBe("InvalidArgument bio: FORBIDDEN_CHARACTER");
  });

  it("stores an accepted display name with a combining mark NFC-normalized", async () => {
    const profile = await client.updateProfile({
      userId: crypto.randomUUID(),
      displayName: "Zoe\u0308",
    });

    expect(profile.displayName).toBe("Zo\u00EB");
  });
});

describe.each(storageKinds)("the CHECK constraints on %s", (kind) => {
  const fixture = useTestDatabase(kind);

  const insertRaw = (column: "display_name" | "bio", value: string) =>
    sql`INSERT INTO profiles (user_id, ${sql.ref(column)}) VALUES (${crypto.randomUUID()}, ${value})`.execute(
      fixture.database.db,
    );

  // Each class the service refuses, as far as the database can tell code points apart (marks of
  // the combining blocks only: PostgreSQL 15 regexes have no Unicode property classes).
  it.each(refusedDisplayNames.filter(([what]) => what !== "Arabic marks alone"))(
    "refuse a display_name of %s inserted with raw SQL",
    async (_, displayName) => {
      await expect(
        insertRaw("display_name", displayName.normalize("NFC").trim()),
      ).rejects.toMatchObject({
        code: "23514",
        constraint: "profiles_display_name_visible",
      });
    },
  );

  it.each(refusedBios)("refuse a bio with %s inserted with raw SQL", async (_, bio) => {
    await expect(insertRaw("bio", bio)).rejects.toMatchObject({
      code: "23514",
      constraint: "profiles_bio_characters_valid",
    });
  });

  it("accept the display names and bios the service accepts", async () => {
    for (const [, displayName] of acceptedDisplayNames) {
      await insertRaw("display_name", displayName.normalize("NFC"));
    }
    for (const [, bio] of acceptedBios) await insertRaw("bio", bio);
  });
});

// ---------------------------------------------------------------------------------------------
// Service ⊆ constraints: no name the service stores is refused by the database
// ---------------------------------------------------------------------------------------------

describe("the display_name constraints on PostgreSQL", () => {
  const fixture = useTestDatabase("postgres");

  // A minute at most: 2.2 million names through the rules and the database's regexes.
  it("accept every display name the service stores made of one code point, alone or after a letter", {
    timeout: 120_000,
  }, async () => {
    // The database's own CHECK expressions, evaluated on many values in one query each.
    const { rows } = await sql<{ definition: string }>`
      SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conrelid = 'profiles'::regclass AND conname LIKE 'profiles_display_name_%'
    `.execute(fixture.database.db);
    expect(rows.length).toBe(2);
    const conditions = rows
      .map(({ definition }) => definition.replace(/^CHECK /, ""))
      .join(" AND ");

    const stored: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      for (const displayName of [char, `A${char}`]) {
        const checked = checkProfileFields({ displayName }, rules);
        if (checked.ok && checked.fields.displayName !== undefined) {
          stored.push(checked.fields.displayName);
        }
      }
    }

    const refused: string[] = [];
    const batch = 50_000;
    for (let start = 0; start < stored.length; start += batch) {
      const { rows: refusedRows } = await sql<{ display_name: string }>`
        SELECT display_name FROM unnest(${stored.slice(start, start + batch)}::text[]) AS t(display_name)
        WHERE NOT (${sql.raw(conditions)})
      `.execute(fixture.database.db);
      refused.push(...refusedRows.map((row) => row.display_name));
    }

    expect(stored.length).toBeGreaterThan(1_000_000);
    expect(refused.map((name) => [...name].map((c) => c.codePointAt(0)?.toString(16)))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The migration on rows stored before it
// ---------------------------------------------------------------------------------------------

describe.each(storageKinds)("the migration 20261201T0000_visible_display_names on %s", (kind) => {
  const fixture = useTestDatabase(kind);

  it("clears invisible display names, strips bidi controls from bios, announces each change, and leaves good rows alone", async () => {
    const db = fixture.database.db;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    await migrator.migrateTo("20261124T0100_create_outbox");
    const filler = crypto.randomUUID();
    const blank = crypto.randomUUID();
    const marks = crypto.randomUUID();
    const rlo = crypto.randomUUID();
    const good = crypto.randomUUID();
    await sql`
      INSERT INTO profiles (user_id, display_name, bio) VALUES
        (${filler}, ${"\u3164"}, ''),
        (${blank}, ${"Ada\u2800"}, ${"hello\u202E"}),
        (${marks}, ${"\u0301\u0301"}, ''),
        (${rlo}, 'Bob', ${"e\u202E\u0301 and \u2066more\u2069"}),
        (${good}, 'Carol', 'hello')
    `.execute(db);

    await migrateToLatest(db);

    const rows = await db
      .selectFrom("profiles")
      .select(["user_id", "display_name", "bio", "version"])
      .orderBy("user_id")
      .execute();
    const byId = new Map(rows.map((row) => [row.user_id, row]));
    expect([filler, blank, marks, rlo, good].map((id) => byId.get(id))).toEqual([
      { user_id: filler, display_name: "", bio: "", version: 2 },
      { user_id: blank, display_name: "", bio: "hello", version: 2 },
      { user_id: marks, display_name: "", bio: "", version: 2 },
      // Without the override between them, e and U+0301 compose.
      { user_id: rlo, display_name: "Bob", bio: "\u00E9 and more", version: 2 },
      { user_id: good, display_name: "Carol", bio: "hello", version: 1 },
    ]);
    const events = await db
      .selectFrom("outbox")
      .select(["user_id", "version", "changed_fields"])
      .where("event_type", "=", "updated")
      .orderBy("user_id")
      .execute();
    expect(events).toEqual(
      [
        { user_id: filler, version: 2, changed_fields: ["display_name"] },
        { user_id: blank, version: 2, changed_fields: ["display_name", "bio"] },
        { user_id: marks, version: 2, changed_fields: ["display_name"] },
        { user_id: rlo, version: 2, changed_fields: ["bio"] },
      ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
  });
});
