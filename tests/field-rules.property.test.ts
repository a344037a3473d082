import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import type { Profile as ProfileMessage } from "../gen/realchat/profile/v1/profile_api_pb.js";
import {
  checkProfileFields,
  type FieldRuleOptions,
  type ProfileFields,
} from "../src/profile/rules.js";
import { findProfile } from "../src/profile/sql/reads.js";
import { parseUserId, type UserId } from "../src/profile/user-id.js";
import { grpcClient, type ProfileClient } from "./support/clients.js";
import { storageKinds, type TestDatabase, useTestDatabase } from "./support/databases.js";
import { avatarUrlArb, bioArb, displayNameArb, fieldsArb } from "./support/field-arbitraries.js";
import { useTestServer } from "./support/test-server.js";

// The field rules through the server and the database: every outcome is the one the rules
// predict, and the CHECK constraints hold. The rules alone: tests/unit/field-rules.property.test.ts.

// The rules the test server runs with (defaultTestConfig: no http:// avatars).
const rules: FieldRuleOptions = { allowHttpAvatarUrls: false };
const grpcRuns = 150;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function newUserId(): UserId {
  const userId = parseUserId(crypto.randomUUID());
  if (userId === undefined) throw new Error("randomUUID gave no UUID");
  return userId;
}

/** What the server receives for a string: protobuf's UTF-8 turns lone surrogates into U+FFFD. */
function onTheWire(fields: ProfileFields): ProfileFields {
  return {
    displayName: fields.displayName?.toWellFormed(),
    avatarUrl: fields.avatarUrl?.toWellFormed(),
    bio: fields.bio?.toWellFormed(),
  };
}

type Outcome =
  | { readonly ok: true; readonly profile: ProfileMessage }
  | { readonly ok: false; readonly error: ConnectError };

async function outcomeOf(call: Promise<ProfileMessage>): Promise<Outcome> {
  try {
    return { ok: true, profile: await call };
  } catch (error) {
    return { ok: false, error: ConnectError.from(error) };
  }
}

/**
 * The property every UpdateProfile call must satisfy: the outcome is the one the field rules
 * predict (OK with the normalized values, or INVALID_ARGUMENT; never INTERNAL or another code),
 * and an OK answer is exactly what the database now holds.
 */
async function expectRuleAbidingOutcome(
  db: TestDatabase,
  userId: UserId,
  sent: ProfileFields,
  outcome: Outcome,
): Promise<void> {
  const predicted = checkProfileFields(onTheWire(sent), rules);
  if (!outcome.ok) {
    expect(
      { code: Code[outcome.error.code], message: outcome.error.rawMessage },
      "only INVALID_ARGUMENT may refuse an update",
    ).toMatchObject({ code: Code[Code.InvalidArgument] });
    expect(predicted.ok, "the service refused what its own rules accept").toBe(false);
    return;
  }
  expect(predicted.ok, "the service accepted what its own rules refuse").toBe(true);
  if (!predicted.ok) return;
  const { profile } = outcome;
  for (const [field, value] of Object.entries(predicted.fields)) {
    if (value !== undefined) expect(profile[field as keyof ProfileFields]).toBe(value);
  }
  const row = await findProfile(db.db, userId);
  expect({
    displayName: row?.display_name,
    avatarUrl: row?.avatar_url,
    bio: row?.bio,
    etag: row === undefined ? undefined : `v${row.version}`,
  }).toEqual({
    displayName: profile.displayName,
    avatarUrl: profile.avatarUrl,
    bio: profile.bio,
    etag: profile.etag,
  });
}

/** Every stored row passes the service's own rules unchanged ("" name: provisioned, allowed). */
async function expectEveryStoredRowToPassTheRules(db: TestDatabase): Promise<void> {
  const rows = await db.db
    .selectFrom("profiles")
    .select(["user_id", "display_name", "avatar_url", "bio"])
    .execute();
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    const stored: ProfileFields = {
      displayName: row.display_name === "" ? undefined : row.display_name,
      avatarUrl: row.avatar_url,
      bio: row.bio,
    };
    const checked = checkProfileFields(stored, rules);
    expect({ userId: row.user_id, checked }).toEqual({
      userId: row.user_id,
      checked: { ok: true, fields: stored },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// UpdateProfile over gRPC against the real server and PostgreSQL
// ---------------------------------------------------------------------------------------------

describe("UpdateProfile with arbitrary text over gRPC", () => {
  const fixture = useTestServer();
  let database: TestDatabase;
  let client: ProfileClient;

  beforeAll(() => {
    database = fixture.database;
    client = grpcClient(fixture.server.baseUrl);
  });

  it("an arbitrary display_name is stored normalized or refused as INVALID_ARGUMENT, and stored rows pass the rules", async () => {
    await fc.assert(
      fc.asyncProperty(displayNameArb, async (displayName) => {
        const userId = newUserId();

        const outcome = await outcomeOf(client.updateProfile({ userId, displayName }));

        await expectRuleAbidingOutcome(database, userId, { displayName }, outcome);
      }),
      { numRuns: grpcRuns },
    );

    await expectEveryStoredRowToPassTheRules(database);
  });

  it("an arbitrary avatar_url is stored or refused as INVALID_ARGUMENT, and stored rows pass the rules", async () => {
    await fc.assert(
      fc.asyncProperty(avatarUrlArb, async (avatarUrl) => {
        const userId = newUserId();

        const outcome = await outcomeOf(client.updateProfile({ userId, avatarUrl }));

        await expectRuleAbidingOutcome(database, userId, { avatarUrl }, outcome);
      }),
      { numRuns: grpcRuns },
    );

    await expectEveryStoredRowToPassTheRules(database);
  });

  it("an arbitrary bio is stored normalized or refused as INVALID_ARGUMENT, and stored rows pass the rules", async () => {
    await fc.assert(
      fc.asyncProperty(bioArb, async (bio) => {
        const userId = newUserId();

        const outcome = await outcomeOf(client.updateProfile({ userId, bio }));

        await expectRuleAbidingOutcome(database, userId, { bio }, outcome);
      }),
      { numRuns: grpcRuns },
    );

    await expectEveryStoredRowToPassTheRules(database);
  });

  it("arbitrary partial updates of an existing profile change only the present fields or are refused as INVALID_ARGUMENT", async () => {
    await fc.assert(
      fc.asyncProperty(fieldsArb, async (fields) => {
        const userId = newUserId();
        const before = await client.updateProfile({
          userId,
          displayName: "Ada",
          avatarUrl: "https://example.com/ada.png",
          bio: "hello",
        });

        const outcome = await outcomeOf(client.updateProfile({ userId, ...fields }));

        await expectRuleAbidingOutcome(database, userId, fields, outcome);
        const after = await client.getProfile({ userId });
        if (!outcome.ok) expect(after).toEqual(before);
        for (const field of ["displayName", "avatarUrl", "bio"] as const) {
          if (fields[field] === undefined) expect(after[field]).toBe(before[field]);
        }
      }),
      { numRuns: grpcRuns },
    );

    await expectEveryStoredRowToPassTheRules(database);
  });

  // Found by the avatar_url property: the WHATWG URL parser skips extra slashes after https://
  // and sees host "example.com", while the CHECK constraint wants a host right after "//"; the
  // service used to accept the value and the insert then failed as INTERNAL.
  it("an avatar_url with an empty authority (https:///example.com) is refused as INVALID_ARGUMENT, not INTERNAL", async () => {
    const userId = newUserId();
    const avatarUrl = "https:///example.com/a.png";

    const outcome = await outcomeOf(client.updateProfile({ userId, avatarUrl }));

    expect(outcome.ok ? "OK" : Code[outcome.error.code]).toBe(Code[Code.InvalidArgument]);
    expect(await findProfile(database.db, userId)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The CHECK constraints, with SQL that bypasses the service
// ---------------------------------------------------------------------------------------------

const refusedByTheDatabase: [column: "display_name" | "avatar_url" | "bio", value: string][] = [
  ["display_name", "\u202Eevil"],
  ["display_name", "a\u200Bb"],
  ["display_name", "a\u0007b"],
  ["display_name", "a".repeat(65)],
  ["display_name", " Ada"],
  ["display_name", "Ada "],
  ["display_name", "e\u0301"],
  ["avatar_url", "javascript:alert(1)"],
  ["avatar_url", "ftp://example.com/a.png"],
  ["avatar_url", "https://"],
  ["avatar_url", "https://example.com/a b.png"],
  ["avatar_url", `https://example.com/${"a".repeat(2029)}`],
  ["bio", "a\u0001b"],
  ["bio", "line\rbreak"],
  ["bio", "a".repeat(501)],
  ["bio", "e\u0301"],
];

describe.each(storageKinds)("the CHECK constraints on %s", (kind) => {
  const fixture = useTestDatabase(kind);

  const insertRaw = (column: string, value: string) =>
    sql`INSERT INTO profiles (user_id, ${sql.ref(column)}) VALUES (${newUserId()}, ${value})`.execute(
      fixture.database.db,
    );

  it("accept a row that follows every field rule", async () => {
    const userId = newUserId();

    await sql`INSERT INTO profiles (user_id, display_name, avatar_url, bio)
      VALUES (${userId}, ${"Ada 👩‍💻"}, ${"https://example.com/a.png"}, ${"line\nbreak é"})`.execute(
      fixture.database.db,
    );

    expect(await findProfile(fixture.database.db, userId)).toMatchObject({
      display_name: "Ada 👩‍💻",
    });
  });

  it.each(refusedByTheDatabase)("refuse %s = %j inserted with raw SQL", async (column, value) => {
    const insert = insertRaw(column, value);

    await expect(insert).rejects.toMatchObject({
      code: "23514",
      constraint: `profiles_${column}_valid`,
    });
  });
});
