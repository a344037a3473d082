import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { transportsFor } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let database: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer(database.db);
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

describe.each(Object.keys(transportsFor("http://unused")))("over %s", (name) => {
  const client = () => {
    const transport = transportsFor(server.baseUrl)[name];
    if (transport === undefined) throw new Error(`no transport ${name}`);
    return createClient(ProfileApi, transport);
  };
  const userId = crypto.randomUUID();

  it("UpdateProfile creates the profile and returns it whole", async () => {
    const profile = await client().updateProfile({ userId, displayName: "Ada", bio: "hello" });

    expect(profile).toMatchObject({ userId, displayName: "Ada", avatarUrl: "", bio: "hello" });
    expect(profile.etag).not.toBe("");
    expect(profile.createdAt).toBeDefined();
  });

  it("GetProfile returns the stored profile", async () => {
    const profile = await client().getProfile({ userId: userId.toUpperCase() });

    expect(profile).toMatchObject({ userId, displayName: "Ada", bio: "hello" });
  });

  it("BatchGetProfiles returns found and missing ids", async () => {
    const missing = crypto.randomUUID();
    const response = await client().batchGetProfiles({ userIds: [missing, userId] });

    expect(response.profiles.map((p) => p.userId)).toEqual([userId]);
    expect(response.missingUserIds).toEqual([missing]);
  });

  it("GetProfile of an unknown user is NOT_FOUND", async () => {
    const error = await client()
      .getProfile({ userId: crypto.randomUUID() })
      .catch((e: unknown) => ConnectError.from(e));

    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });
});
