// The ProfileApi semantics of docs/api.md, through a real gRPC client against the real server
// on a fresh PostgreSQL database.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../gen/google/rpc/error_details_pb.js";
import type { Profile } from "../gen/realchat/profile/v1/profile_api_pb.js";
import type { ProfileRow } from "../src/db/tables/profiles.js";
import { grpcClient, type ProfileClient, errorOf as rpcError } from "./support/clients.js";
import { startTestServer, type TestServer, useTestServer } from "./support/test-server.js";

const fixture = useTestServer();
let client: ProfileClient;

beforeAll(() => {
  client = grpcClient(fixture.server.baseUrl);
});

/** The `field` of every google.rpc.BadRequest field violation in the error's details. */
function violatedFields(error: ConnectError): string[] {
  return error
    .findDetails(BadRequestSchema)
    .flatMap((badRequest) => badRequest.fieldViolations.map((violation) => violation.field));
}

async function storedRow(userId: string): Promise<ProfileRow | undefined> {
  return fixture.database.db
    .selectFrom("profiles")
    .selectAll()
    .where("user_id", "=", userId)
    .executeTakeFirst();
}

async function createProfile(displayName = "Ada"): Promise<Profile> {
  return client.updateProfile({ userId: crypto.randomUUID(), displayName });
}

function updatedAtMs(profile: Profile): number {
  if (profile.updatedAt === undefined) throw new Error("profile has no updated_at");
  return timestampDate(profile.updatedAt).getTime();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("GetProfile", () => {
  it("finds the lower-case profile when asked with the upper-case id", async () => {
    const created = await createProfile("Grace");

    const profile = await client.getProfile({ userId: created.userId.toUpperCase() });

    expect(profile).toMatchObject({ userId: created.userId, displayName: "Grace" });
    expect(profile.etag).toBe(created.etag);
  });

  it.each([
    ["not a UUID", "not-a-uuid"],
    ["empty", ""],
    ["a UUID in braces", `{${crypto.randomUUID()}}`],
  ])("refuses an id that is %s with INVALID_ARGUMENT naming user_id", async (_, userId) => {
    const error = await rpcError(client.getProfile({ userId }));

    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error)).toEqual(["user_id"]);
    expect(error.rawMessage).toContain("user_id");
  });

  it("answers NOT_FOUND for an unknown id", async () => {
    const error = await rpcError(client.getProfile({ userId: crypto.randomUUID() }));

    expect(error.code).toBe(Code.NotFound);
  });
});

describe("BatchGetProfiles", () => {
  it("returns profiles in the order of the request's first occurrence", async () => {
    const [a, b, c] = [
      await createProfile("A"),
      await createProfile("B"),
      await createProfile("C"),
    ];

    const response = await client.batchGetProfiles({ userIds: [c.userId, a.userId, b.userId] });

    expect(response.profiles.map((p) => p.displayName)).toEqual(["C", "A", "B"]);
    expect(response.missingUserIds).toEqual([]);
  });

  it("collapses duplicate ids, also when they differ only in letter case", async () => {
    const [a, b] = [await createProfile("A"), await createProfile("B")];
    const missing = crypto.randomUUID();

    const response = await client.batchGetProfiles({
      userIds: [
        b.userId,
        a.userId.toUpperCase(),
        missing,
        b.userId.toUpperCase(),
        a.userId,
        missing.toUpperCase(),
        b.userId,
      ],
    });

    expect(response.profiles.map((p) => p.userId)).toEqual([b.userId, a.userId]);
    expect(response.missingUserIds).toEqual([missing]);
  });

  it("lists ids without a profile in missing_user_ids in request order instead of failing", async () => {
    const existing = await createProfile();
    const [m1, m2, m3] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];

    const response = await client.batchGetProfiles({
      userIds: [m2, existing.userId, m3, m1],
    });

    expect(response.profiles.map((p) => p.userId)).toEqual([existing.userId]);
    expect(response.missingUserIds).toEqual([m2, m3, m1]);
  });

  it("answers an empty list with an empty answer", async () => {
    const response = await client.batchGetProfiles({ userIds: [] });

    expect(response.profiles).toEqual([]);
    expect(response.missingUserIds).toEqual([]);
  });

  it("returns the ids of found and missing profiles in lower case", async () => {
    const existing = await createProfile();
    const missing = crypto.randomUUID();

    const response = await client.batchGetProfiles({
      userIds: [existing.userId.toUpperCase(), missing.toUpperCase()],
    });

    expect(response.profiles.map((p) => p.userId)).toEqual([existing.userId]);
    expect(response.missingUserIds).toEqual([missing]);
    expect(existing.userId).toBe(existing.userId.toLowerCase());
  });

  it("accepts exactly 1000 ids, mixing existing and missing ones", async () => {
    const existing = await Promise.all(
      Array.from({ length: 5 }, (_, i) => createProfile(`User ${i}`)),
    );
    const userIds: string[] = Array.from({ length: 1000 }, () => crypto.randomUUID());
    const positions = [999, 0, 500, 42, 777];
    positions.forEach((position, i) => {
      userIds[position] = existing[i]?.userId ?? "";
    });
    const existingIds = new Set(existing.map((p) => p.userId));

    const response = await client.batchGetProfiles({ userIds });

    expect(response.profiles.map((p) => p.userId)).toEqual(
      userIds.filter((id) => existingIds.has(id)),
    );
    expect(response.missingUserIds).toEqual(userIds.filter((id) => !existingIds.has(id)));
    expect(response.missingUserIds).toHaveLength(995);
  });

  it("refuses 1001 ids with INVALID_ARGUMENT naming user_ids", async () => {
    const userIds = Array.from({ length: 1001 }, () => crypto.randomUUID());

    const error = await rpcError(client.batchGetProfiles({ userIds }));

    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error)).toEqual(["user_ids"]);
    expect(error.rawMessage).toContain("user_ids");
  });

  it("refuses the whole call with INVALID_ARGUMENT naming the index of one malformed id", async () => {
    const existing = await createProfile();
    const userIds = [existing.userId, crypto.randomUUID(), "not-a-uuid", crypto.randomUUID()];

    const error = await rpcError(client.batchGetProfiles({ userIds }));

    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error)).toEqual(["user_ids[2]"]);
    expect(error.rawMessage).toContain("user_ids[2]");
  });
});

describe("UpdateProfile", () => {
  it("leaves absent fields unchanged", async () => {
    const userId = crypto.randomUUID();
    await client.updateProfile({
      userId,
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
      bio: "first programmer",
    });

    const profile = await client.updateProfile({ userId, bio: "analyst" });

    expect(profile).toMatchObject({
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
      bio: "analyst",
    });
    expect(await storedRow(userId)).toMatchObject({
      display_name: "Ada",
      avatar_url: "https://example.com/ada.png",
      bio: "analyst",
    });
  });

  it('clears avatar_url and bio when they are set to ""', async () => {
    const userId = crypto.randomUUID();
    await client.updateProfile({
      userId,
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
      bio: "first programmer",
    });

    const profile = await client.updateProfile({ userId, avatarUrl: "", bio: "" });

    expect(profile).toMatchObject({ displayName: "Ada", avatarUrl: "", bio: "" });
    expect(await storedRow(userId)).toMatchObject({ display_name: "Ada", avatar_url: "", bio: "" });
  });

  it.each([
    ["empty", ""],
    ["whitespace only", " \t\u3000 "],
  ])(
    "refuses a display_name that is %s with INVALID_ARGUMENT and changes nothing",
    async (_, displayName) => {
      const created = await createProfile("Ada");
      const before = await storedRow(created.userId);

      const error = await rpcError(client.updateProfile({ userId: created.userId, displayName }));

      expect(error.code).toBe(Code.InvalidArgument);
      expect(violatedFields(error)).toEqual(["display_name"]);
      expect(await storedRow(created.userId)).toEqual(before);
    },
  );

  it("stores display_name trimmed and NFC-normalized", async () => {
    const userId = crypto.randomUUID();

    const profile = await client.updateProfile({ userId, displayName: "  Ame\u0301lie \n" });

    expect(profile.displayName).toBe("Am\u00e9lie");
    expect((await storedRow(userId))?.display_name).toBe("Am\u00e9lie");
  });

  it("changes nothing and returns the current profile when every value is already stored", async () => {
    const userId = crypto.randomUUID();
    const current = await client.updateProfile({
      userId,
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
      bio: "hello",
    });
    const before = await storedRow(userId);

    // " Ada " normalizes to the stored "Ada".
    const profile = await client.updateProfile({
      userId,
      displayName: " Ada ",
      avatarUrl: "https://example.com/ada.png",
      bio: "hello",
    });

    expect(profile).toEqual(current);
    expect(await storedRow(userId)).toEqual(before);
  });

  it("changes nothing and returns the current profile when no field is present", async () => {
    const userId = crypto.randomUUID();
    const current = await client.updateProfile({ userId, displayName: "Ada", bio: "hello" });
    const before = await storedRow(userId);

    const profile = await client.updateProfile({ userId });

    expect(profile).toEqual(current);
    expect(await storedRow(userId)).toEqual(before);
  });

  it("gives every effective change a new etag and a later updated_at while created_at stays", async () => {
    const userId = crypto.randomUUID();
    const created = await client.updateProfile({ userId, displayName: "Ada" });
    const versions = [created];

    for (const bio of ["one", "two", "three"]) {
      // The wire timestamp has millisecond precision: let the database clock move past it.
      await sleep(5);
      versions.push(await client.updateProfile({ userId, bio }));
    }

    expect(new Set(versions.map((p) => p.etag)).size).toBe(versions.length);
    for (let i = 1; i < versions.length; i += 1) {
      const [previous, next] = [versions[i - 1], versions[i]];
      if (previous === undefined || next === undefined) throw new Error("unreachable");
      expect(updatedAtMs(next)).toBeGreaterThan(updatedAtMs(previous));
      expect(next.createdAt).toEqual(created.createdAt);
    }
    expect((await storedRow(userId))?.version).toBe(4);
  });

  it("creates a missing profile with the given fields", async () => {
    const userId = crypto.randomUUID();

    const profile = await client.updateProfile({
      userId,
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
    });

    expect(profile).toMatchObject({
      userId,
      displayName: "Ada",
      avatarUrl: "https://example.com/ada.png",
      bio: "",
    });
    expect(profile.createdAt).toEqual(profile.updatedAt);
    expect(await storedRow(userId)).toMatchObject({ display_name: "Ada", version: 1 });
  });

  it('creates a missing profile with display_name "" when only bio is given', async () => {
    const userId = crypto.randomUUID();

    const profile = await client.updateProfile({ userId, bio: "just a bio" });

    expect(profile).toMatchObject({ userId, displayName: "", avatarUrl: "", bio: "just a bio" });
    expect(await storedRow(userId)).toMatchObject({ display_name: "", bio: "just a bio" });
  });

  it("applies an update that carries the current etag", async () => {
    const created = await createProfile("Ada");

    const profile = await client.updateProfile({
      userId: created.userId,
      bio: "checked",
      etag: created.etag,
    });

    expect(profile.bio).toBe("checked");
    expect(profile.etag).not.toBe(created.etag);
  });

  it("refuses an update with a stale etag with ABORTED and changes nothing", async () => {
    const created = await createProfile("Ada");
    const staleEtag = created.etag;
    await client.updateProfile({ userId: created.userId, bio: "newer" });
    const before = await storedRow(created.userId);

    const error = await rpcError(
      client.updateProfile({ userId: created.userId, displayName: "Bob", etag: staleEtag }),
    );

    expect(error.code).toBe(Code.Aborted);
    expect(await storedRow(created.userId)).toEqual(before);
  });

  it("refuses a stale etag with ABORTED even when the values are already stored", async () => {
    const created = await createProfile("Ada");
    await client.updateProfile({ userId: created.userId, bio: "newer" });
    const before = await storedRow(created.userId);

    const error = await rpcError(
      client.updateProfile({ userId: created.userId, bio: "newer", etag: created.etag }),
    );

    expect(error.code).toBe(Code.Aborted);
    expect(await storedRow(created.userId)).toEqual(before);
  });

  it.each([
    ["garbage", "garbage"],
    ["the etag of the profile in quotes", '"v1"'],
    // Looks like one of ours, but names a version far beyond any stored one.
    ["a huge version number", "v9999999999"],
  ])("refuses an etag that is %s with ABORTED and changes nothing", async (_, etag) => {
    const created = await createProfile("Ada");
    const before = await storedRow(created.userId);

    const error = await rpcError(client.updateProfile({ userId: created.userId, bio: "x", etag }));

    expect(error.code).toBe(Code.Aborted);
    expect(await storedRow(created.userId)).toEqual(before);
  });

  it("refuses an etag for a profile that does not exist with ABORTED and creates nothing", async () => {
    const userId = crypto.randomUUID();
    const etagOfAnotherProfile = (await createProfile()).etag;

    const error = await rpcError(
      client.updateProfile({ userId, displayName: "Ada", etag: etagOfAnotherProfile }),
    );

    expect(error.code).toBe(Code.Aborted);
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("keeps both of two concurrent updates of different fields from two clients", async () => {
    const userId = crypto.randomUUID();
    // Separate transports: separate HTTP/2 connections, so the calls really overlap.
    const [first, second] = [
      grpcClient(fixture.server.baseUrl),
      grpcClient(fixture.server.baseUrl),
    ];

    for (let round = 0; round < 20; round += 1) {
      await Promise.all([
        first.updateProfile({ userId, displayName: `Name ${round}` }),
        second.updateProfile({ userId, bio: `Bio ${round}` }),
      ]);

      expect(await storedRow(userId)).toMatchObject({
        display_name: `Name ${round}`,
        bio: `Bio ${round}`,
      });
    }
  });

  it("ends many concurrent updates of one user at version 1 + number of effective changes", async () => {
    const created = await createProfile("Start");
    const clients = Array.from({ length: 5 }, () => grpcClient(fixture.server.baseUrl));
    const nameUpdates = Array.from({ length: 20 }, (_, i) => ({
      userId: created.userId,
      displayName: `Name ${i}`,
    }));
    // The same bio ten times: only the first one to run changes anything.
    const bioUpdates = Array.from({ length: 10 }, () => ({
      userId: created.userId,
      bio: "shared",
    }));

    const [nameResults] = await Promise.all([
      Promise.all(nameUpdates.map((u, i) => clients[i % clients.length]?.updateProfile(u))),
      Promise.all(bioUpdates.map((u, i) => clients[i % clients.length]?.updateProfile(u))),
    ]);

    const effectiveChanges = nameUpdates.length + 1;
    const row = await storedRow(created.userId);
    expect(row?.version).toBe(1 + effectiveChanges);
    expect(row?.bio).toBe("shared");
    expect(nameUpdates.map((u) => u.displayName)).toContain(row?.display_name);
    expect(new Set(nameResults.map((p) => p?.etag)).size).toBe(nameUpdates.length);
  });
});

describe("UpdateProfile field rules", () => {
  const longUrl = (length: number) => {
    const prefix = "https://example.com/";
    return prefix + "a".repeat(length - prefix.length);
  };

  it.each([
    ["a display_name of 65 code points", "display_name", { displayName: "a".repeat(65) }],
    ["a display_name of 65 astral emoji", "display_name", { displayName: "😀".repeat(65) }],
    ["a display_name with a control character", "display_name", { displayName: "Ada\u0007" }],
    ["a display_name with a bidi override", "display_name", { displayName: "Ada\u202Eevil" }],
    ["a display_name with a zero-width space", "display_name", { displayName: "Ad\u200Ba" }],
    [
      "an avatar_url with the javascript: scheme",
      "avatar_url",
      { avatarUrl: "javascript:alert(1)" },
    ],
    [
      "an avatar_url with the http: scheme",
      "avatar_url",
      { avatarUrl: "http://example.com/a.png" },
    ],
    ["an avatar_url without a host", "avatar_url", { avatarUrl: "https://" }],
    [
      // WHATWG URL parsing skips the third slash and finds the host "example.com"; the URL
      // text itself has an empty authority, so it is no absolute https:// URL with a host.
      "an avatar_url with an empty authority",
      "avatar_url",
      { avatarUrl: "https:///example.com/a.png" },
    ],
    [
      "an avatar_url with credentials",
      "avatar_url",
      { avatarUrl: "https://user:pw@example.com/a.png" },
    ],
    ["an avatar_url of 2049 characters", "avatar_url", { avatarUrl: longUrl(2049) }],
    ["an avatar_url with a space", "avatar_url", { avatarUrl: "https://example.com/a b.png" }],
    ["a bio of 100 KB", "bio", { bio: "a".repeat(100 * 1024) }],
    ["a bio with a NUL character", "bio", { bio: "hello\u0000world" }],
    ["a bio with a carriage return", "bio", { bio: "hello\r\nworld" }],
  ])(
    "refuses %s with INVALID_ARGUMENT naming the field and stores nothing",
    async (_, field, fields) => {
      const userId = crypto.randomUUID();

      const error = await rpcError(client.updateProfile({ userId, ...fields }));

      expect(error.code).toBe(Code.InvalidArgument);
      expect(violatedFields(error)).toEqual([field]);
      expect(error.rawMessage).toContain(field);
      expect(await storedRow(userId)).toBeUndefined();
    },
  );

  it("refuses a malformed user_id with INVALID_ARGUMENT naming it and stores nothing", async () => {
    const before = await fixture.database.db
      .selectFrom("profiles")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .executeTakeFirstOrThrow();

    const error = await rpcError(
      client.updateProfile({ userId: "not-a-uuid", displayName: "Ada" }),
    );

    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error)).toEqual(["user_id"]);
    expect(error.rawMessage).toContain("user_id");
    const after = await fixture.database.db
      .selectFrom("profiles")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .executeTakeFirstOrThrow();
    expect(after.count).toBe(before.count);
  });

  it("reports one violation per bad field when several fields are bad", async () => {
    const error = await rpcError(
      client.updateProfile({
        userId: "not-a-uuid",
        displayName: "",
        avatarUrl: "javascript:alert(1)",
        bio: "a".repeat(501),
      }),
    );

    expect(error.code).toBe(Code.InvalidArgument);
    expect(violatedFields(error).sort()).toEqual(["avatar_url", "bio", "display_name", "user_id"]);
  });

  it.each([
    ["a display_name of 64 astral emoji", { displayName: "😀".repeat(64) }, "display_name"],
    [
      // 👩‍💻: woman, zero-width joiner, laptop.
      "a display_name with an emoji ZWJ sequence",
      { displayName: "\u{1F469}\u200D\u{1F4BB} Ada" },
      "display_name",
    ],
    ["an avatar_url of 2048 characters", { avatarUrl: longUrl(2048) }, "avatar_url"],
    ["a bio with line breaks", { bio: "line one\nline two" }, "bio"],
  ] as const)("accepts %s and stores it as given", async (_, fields, column) => {
    const userId = crypto.randomUUID();

    await client.updateProfile({ userId, ...fields });

    const value = Object.values(fields)[0];
    expect((await storedRow(userId))?.[column]).toBe(value);
  });
});

describe("UpdateProfile with http:// avatar URLs allowed for local development", () => {
  let devServer: TestServer;

  beforeAll(async () => {
    devServer = await startTestServer(fixture.database.db, { allowHttpAvatarUrls: true });
  });

  afterAll(async () => {
    await devServer?.close();
  });

  it("accepts an http:// avatar URL", async () => {
    const userId = crypto.randomUUID();

    const profile = await grpcClient(devServer.baseUrl).updateProfile({
      userId,
      avatarUrl: "http://localhost:8080/a.png",
    });

    expect(profile.avatarUrl).toBe("http://localhost:8080/a.png");
    expect((await storedRow(userId))?.avatar_url).toBe("http://localhost:8080/a.png");
  });
});
