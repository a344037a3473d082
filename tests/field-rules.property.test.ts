import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Profile as ProfileMessage } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { findProfile } from "../src/profile/profile-repository.js";
import {
  AVATAR_URL_MAX_LENGTH,
  BIO_MAX_LENGTH,
  checkProfileFields,
  DISPLAY_NAME_MAX_LENGTH,
  type FieldRuleOptions,
  type ProfileFields,
} from "../src/profile/profile-rules.js";
import { parseUserId, type UserId } from "../src/profile/user-id.js";
import { grpcClient, type ProfileClient } from "./support/clients.js";
import { createTestDatabase, storageKinds, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// The rules the test server runs with (defaultTestConfig: no http:// avatars).
const rules: FieldRuleOptions = { allowHttpAvatarUrls: false };
const grpcRuns = 150;
const pureRuns = 500;

// ---------------------------------------------------------------------------------------------
// Arbitraries: text that breaks naive validation (invisible, reordering, control, unnormalized,
// whitespace, emoji sequences, lone surrogates, URL punctuation), alone and mixed together.
// ---------------------------------------------------------------------------------------------

const trickyPieces = fc.constantFrom(
  // bidi overrides and isolates, zero-width and other format characters
  "\u202E",
  "\u202A",
  "\u2066",
  "\u2069",
  "\u200B",
  "\u200C",
  "\u200D",
  "\u200E",
  "\u2060",
  "\uFEFF",
  "\u{E0041}",
  // fillers, blanks, private use, noncharacters, marks and selectors that draw nothing alone
  "\u3164",
  "\u115F",
  "\u1160",
  "\uFFA0",
  "\u2800",
  "\u034F",
  "\uE000",
  "\u{F0000}",
  "\uFFFF",
  "\uFDD0",
  "\u{10FFFE}",
  "\u0301",
  "\u064B",
  "\uFE0F",
  "\u{E0100}",
  // C0, C1, separators
  "\u0000",
  "\u0001",
  "\u001F",
  "\u007F",
  "\u0085",
  "\u009F",
  "\u2028",
  "\u2029",
  // whitespace
  " ",
  "\u00A0",
  "\u3000",
  "\u2003",
  "\t",
  "\n",
  "\r",
  "\r\n",
  // unnormalized text
  "e\u0301",
  "\u0301",
  "\u212B",
  "\u1E9B\u0323",
  "\uFB01",
  // emoji sequences (ZWJ, skin tone, variation selector)
  "👩‍💻",
  "👍🏽",
  "🏳️‍🌈",
  "\u200D👩",
  // lone surrogates (sent on the wire as U+FFFD)
  "\uD800",
  "\uDC00",
  // URL parts
  "https://",
  "HTTPS://",
  "http://",
  "javascript:",
  "/",
  "//",
  "\\",
  "?",
  "#",
  "@",
  ":",
  "user:pass@",
  "%00",
  "example.com",
  "Ada",
);

const fragment = fc.oneof(
  trickyPieces,
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
  fc.webUrl({ validSchemes: ["https", "http"], withQueryParameters: true, withFragments: true }),
);

/** Arbitrary text: a few fragments of any kind, concatenated. */
const mixedText = fc.array(fragment, { maxLength: 6 }).map((parts) => parts.join(""));

/** Text of about `around` code points, built from pieces that count differently once normalized. */
const textNearLength = (around: number, pieces: string[]) =>
  fc.string({
    unit: fc.constantFrom(...pieces),
    minLength: around - 5,
    maxLength: around + 5,
  });

const displayNameArb = fc.oneof(
  mixedText,
  fc
    .tuple(fc.constantFrom(" ", "\t", "\u3000", "\uFEFF", ""), mixedText, fc.constantFrom(" ", ""))
    .map(([before, text, after]) => before + text + after),
  textNearLength(DISPLAY_NAME_MAX_LENGTH, ["a", "é", "e\u0301", "👩‍💻", " ", "\u200B"]),
);

const bioArb = fc.oneof(
  mixedText,
  fc.array(fc.oneof(mixedText, fc.constant("\n")), { maxLength: 8 }).map((parts) => parts.join("")),
  textNearLength(BIO_MAX_LENGTH, ["a", "é", "e\u0301", "\n", " ", "😀", "\r"]),
);

const avatarUrlArb = fc.oneof(
  mixedText,
  fc.webUrl({
    validSchemes: ["https", "http", "ftp"],
    withQueryParameters: true,
    withFragments: true,
  }),
  fc
    .tuple(
      fc.constantFrom("https://", "HTTPS://", "http://", "https:", "https:/", "javascript:", ""),
      mixedText,
    )
    .map(([scheme, rest]) => scheme + rest),
  // Well-formed URLs with one odd part: extra slashes, credentials, odd authorities or paths.
  fc
    .tuple(
      fc.constantFrom("https://", "HTTPS://", "http://"),
      fc.constantFrom("", "", "", "/", "//", "\\", "user:pass@", "@", ":"),
      fc.oneof(
        fc.webAuthority({ withIPv4: true, withIPv6: true, withPort: true, withUserInfo: true }),
        fc.constantFrom("example.com", "", "[::1]", "127.0.0.1:443", "xn--nxasmq6b.example"),
      ),
      fc.oneof(fc.webPath(), mixedText),
    )
    .map((parts) => parts.join("")),
  fc
    .integer({ min: AVATAR_URL_MAX_LENGTH - 5, max: AVATAR_URL_MAX_LENGTH + 5 })
    .map((length) => `https://example.com/${"a".repeat(length - "https://example.com/".length)}`),
);

/** Any subset of the three fields, each arbitrary. */
const fieldsArb = fc.record(
  { displayName: displayNameArb, avatarUrl: avatarUrlArb, bio: bioArb },
  { requiredKeys: [] },
);

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

const codePoints = (text: string) => [...text].length;

// ---------------------------------------------------------------------------------------------
// UpdateProfile over gRPC against the real server and PostgreSQL
// ---------------------------------------------------------------------------------------------

describe("UpdateProfile with arbitrary text over gRPC", () => {
  let database: TestDatabase;
  let server: TestServer;
  let client: ProfileClient;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    server = await startTestServer(database.db);
    client = grpcClient(server.baseUrl);
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
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
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await database?.drop();
  });

  const insertRaw = (column: string, value: string) =>
    sql`INSERT INTO profiles (user_id, ${sql.ref(column)}) VALUES (${newUserId()}, ${value})`.execute(
      database.db,
    );

  it("accept a row that follows every field rule", async () => {
    const userId = newUserId();

    await sql`INSERT INTO profiles (user_id, display_name, avatar_url, bio)
      VALUES (${userId}, ${"Ada 👩‍💻"}, ${"https://example.com/a.png"}, ${"line\nbreak é"})`.execute(
      database.db,
    );

    expect(await findProfile(database.db, userId)).toMatchObject({ display_name: "Ada 👩‍💻" });
  });

  it.each(refusedByTheDatabase)("refuse %s = %j inserted with raw SQL", async (column, value) => {
    const insert = insertRaw(column, value);

    await expect(insert).rejects.toMatchObject({
      code: "23514",
      constraint: `profiles_${column}_valid`,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// checkProfileFields as a pure function
// ---------------------------------------------------------------------------------------------

describe("checkProfileFields", () => {
  it("checking an accepted result again accepts it unchanged (idempotent)", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const first = checkProfileFields(fields, rules);
        fc.pre(first.ok);
        if (!first.ok) return;

        const second = checkProfileFields(first.fields, rules);

        expect(second).toEqual(first);
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted display name is trimmed, NFC, 1 to 64 code points, free of invisible characters and shows something", () => {
    fc.assert(
      fc.property(displayNameArb, (displayName) => {
        const checked = checkProfileFields({ displayName }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.displayName ?? "";

        expect(value).toBe(value.trim());
        expect(value).toBe(value.normalize("NFC"));
        expect(codePoints(value)).toBeGreaterThanOrEqual(1);
        expect(codePoints(value)).toBeLessThanOrEqual(DISPLAY_NAME_MAX_LENGTH);
        expect(value).not.toMatch(
          /[\p{Cc}\p{Co}\p{Noncharacter_Code_Point}\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF\u115F\u1160\u3164\uFFA0\u2800]/u,
        );
        expect(value).toMatch(/[\p{L}\p{N}\p{P}\p{S}]/u);
        expect(value).toBe(displayName.normalize("NFC").trim());
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted bio is NFC, at most 500 code points and has no control character but \\n, no bidi override or isolate and no noncharacter", () => {
    fc.assert(
      fc.property(bioArb, (bio) => {
        const checked = checkProfileFields({ bio }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.bio ?? "";

        expect(value).toBe(value.normalize("NFC"));
        expect(codePoints(value)).toBeLessThanOrEqual(BIO_MAX_LENGTH);
        expect(value.replaceAll("\n", "")).not.toMatch(/\p{Cc}/u);
        expect(value).not.toMatch(/[\u202A-\u202E\u2066-\u2069\p{Noncharacter_Code_Point}]/u);
        expect(value).toBe(bio.normalize("NFC"));
      }),
      { numRuns: pureRuns },
    );
  });

  it("an accepted avatar URL is empty or an https URL with a host of at most 2048 code points", () => {
    fc.assert(
      fc.property(avatarUrlArb, (avatarUrl) => {
        const checked = checkProfileFields({ avatarUrl }, rules);
        fc.pre(checked.ok);
        if (!checked.ok) return;

        const value = checked.fields.avatarUrl ?? "";

        expect(value).toBe(avatarUrl);
        if (value !== "") {
          expect(value).toMatch(/^https:\/\//i);
          expect(codePoints(value)).toBeLessThanOrEqual(AVATAR_URL_MAX_LENGTH);
          expect(URL.parse(value)?.hostname).toBeTruthy();
          expect(value).not.toMatch(/[\s\p{C}]/u);
        }
      }),
      { numRuns: pureRuns },
    );
  });

  it("a refusal names only fields that were present, and absent fields stay absent when accepted", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const checked = checkProfileFields(fields, rules);

        const present = new Set(
          Object.entries({
            display_name: fields.displayName,
            avatar_url: fields.avatarUrl,
            bio: fields.bio,
          })
            .filter(([, value]) => value !== undefined)
            .map(([field]) => field),
        );
        if (checked.ok) {
          if (fields.displayName === undefined) expect(checked.fields.displayName).toBeUndefined();
          if (fields.avatarUrl === undefined) expect(checked.fields.avatarUrl).toBeUndefined();
          if (fields.bio === undefined) expect(checked.fields.bio).toBeUndefined();
        } else {
          expect(checked.violations.length).toBeGreaterThan(0);
          for (const violation of checked.violations) {
            expect(present).toContain(violation.field);
            expect(violation.reason).toMatch(/^[A-Z][A-Z_]*$/);
          }
        }
      }),
      { numRuns: pureRuns },
    );
  });
});
