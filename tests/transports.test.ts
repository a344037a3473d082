import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { transportsFor } from "./support/clients.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();

describe.each(Object.keys(transportsFor("http://unused")))("over %s", (name) => {
  const client = () => {
    const transport = transportsFor(fixture.server.baseUrl)[name];
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
