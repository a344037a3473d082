import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  BatchGetProfilesResponseSchema,
  ProfileSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "../../src/profile/profile.js";
import { batchGetProfilesAnswer } from "../../src/profile/rpc/batch-answer.js";
import { toProfileMessage } from "../../src/profile/rpc/message.js";
import { answersInBinary, encodedProfileEntry } from "../../src/profile/rpc/stored-encoding.js";
import { alice, bob, profileAt } from "./support/profiles.js";

/** The answer built the plain way, message by message. */
function plainAnswer(profiles: readonly Profile[], missingUserIds: readonly string[]) {
  return create(BatchGetProfilesResponseSchema, {
    profiles: profiles.map(toProfileMessage),
    missingUserIds: [...missingUserIds],
  });
}

describe("batch answers from stored encodings", () => {
  const long: Profile = {
    ...profileAt(bob, 7),
    displayName: "Ünïcode 名前 👋",
    bio: "x".repeat(3000),
    avatarUrl: "https://cdn.example/a.png",
  };
  const cases: Array<[string, Profile[], string[]]> = [
    ["profiles and missing ids", [profileAt(alice, 1), long], ["missing-1", "missing-2"]],
    ["only profiles", [long, profileAt(alice, 300)], []],
    ["only missing ids", [], ["00000000-0000-4000-8000-0000000000ff"]],
    ["nothing", [], []],
  ];

  it.each(cases)("are byte-identical to plain ones in binary: %s", (_, profiles, missing) => {
    // Cached profiles have their encoding: the cache weighs them by it.
    for (const profile of profiles) encodedProfileEntry(profile);
    const assembled = batchGetProfilesAnswer(profiles, missing, true);
    expect(assembled.profiles).toEqual([]);
    expect(toBinary(BatchGetProfilesResponseSchema, assembled)).toEqual(
      toBinary(BatchGetProfilesResponseSchema, plainAnswer(profiles, missing)),
    );
  });

  it.each(cases)("are plain messages in JSON: %s", (_, profiles, missing) => {
    const answer = batchGetProfilesAnswer(profiles, missing, false);
    expect(toJsonString(BatchGetProfilesResponseSchema, answer)).toBe(
      toJsonString(BatchGetProfilesResponseSchema, plainAnswer(profiles, missing)),
    );
  });

  it("are plain messages when a profile has no stored encoding (read for this answer only)", () => {
    const stored = profileAt(alice, 3);
    encodedProfileEntry(stored);
    const answer = batchGetProfilesAnswer([stored, profileAt(bob, 4)], ["gone"], true);
    expect(answer.$unknown).toBeUndefined();
    expect(answer.profiles).toHaveLength(2);
    expect(toBinary(BatchGetProfilesResponseSchema, answer)).toEqual(
      toBinary(BatchGetProfilesResponseSchema, plainAnswer([stored, profileAt(bob, 4)], ["gone"])),
    );
  });

  it("encode each profile object once", () => {
    const profile = profileAt(alice, 2);
    encodedProfileEntry(profile);
    const first = batchGetProfilesAnswer([profile], [], true).$unknown?.[0]?.data;
    const second = batchGetProfilesAnswer([profile], [], true).$unknown?.[0]?.data;
    expect(second).toBe(first);
    expect(first?.subarray(1)).toEqual(toBinary(ProfileSchema, toProfileMessage(profile)));
  });
});

describe("answersInBinary", () => {
  const context = (contentType: string | undefined, url = "http://h/realchat.Api/Get") => ({
    requestHeader: new Headers(contentType === undefined ? {} : { "content-type": contentType }),
    url,
  });
  it.each([
    ["application/grpc", true],
    ["application/grpc+proto", true],
    ["application/grpc-web+proto", true],
    ["application/proto", true],
    ["application/connect+proto", true],
    ["application/json", false],
    ["application/JSON; charset=utf-8", false],
    ["application/grpc+json", false],
    ["application/grpc-web+json", false],
    ["application/connect+json", false],
  ])("%s: %s", (contentType, binary) => {
    expect(answersInBinary(context(contentType))).toBe(binary);
  });

  it("reads a Connect GET's encoding parameter", () => {
    expect(answersInBinary(context(undefined, "http://h/x?encoding=proto&message=CgA"))).toBe(true);
    expect(answersInBinary(context(undefined, "http://h/x?encoding=json&message=%7B%7D"))).toBe(
      false,
    );
  });
});
