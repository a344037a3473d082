import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { grpcClient, transportsFor } from "./support/clients.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();

/** Generous: the database's clock and the test's are the same machine's. */
const clockSlackMs = 5 * 60_000;

/** A new profile, made over gRPC: what the reading tests below fetch over each transport. */
function storedProfile(displayName: string, bio: string) {
  return grpcClient(fixture.server.baseUrl).updateProfile({
    userId: crypto.randomUUID(),
    displayName,
    bio,
  });
}

describe.each(Object.keys(transportsFor("http://unused")))("over %s", (name) => {
  const client = () => {
    const transport = transportsFor(fixture.server.baseUrl)[name];
    if (transport === undefined) throw new Error(`no transport ${name}`);
    return createClient(ProfileApi, transport);
  };

  it("UpdateProfile creates the profile and returns it whole", async () => {
    const userId = crypto.randomUUID();
    const profile = await client().updateProfile({ userId, displayName: "Ada", bio: "hello" });

    expect(profile).toMatchObject({ userId, displayName: "Ada", avatarUrl: "", bio: "hello" });
    expect(profile.etag).not.toBe("");
    if (profile.createdAt === undefined) throw new Error("no created_at");
    expect(profile.updatedAt).toEqual(profile.createdAt);
    expect(Math.abs(timestampDate(profile.createdAt).getTime() - Date.now())).toBeLessThan(
      clockSlackMs,
    );
  });

  it("GetProfile returns the stored profile, for an id in any letter case", async () => {
    const stored = await storedProfile("Grace", "compilers");

    const profile = await client().getProfile({ userId: stored.userId.toUpperCase() });

    expect(profile).toEqual(stored);
  });

  it("BatchGetProfiles returns the found profiles in request order and the missing ids", async () => {
    const [first, second] = [
      await storedProfile("Alan", "machines"),
      await storedProfile("Barbara", "abstractions"),
    ];
    const missing = crypto.randomUUID();

    const response = await client().batchGetProfiles({
      userIds: [missing, second.userId, first.userId, second.userId],
    });

    expect(response.profiles).toEqual([second, first]);
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
