// The hot read path builds its messages as literals of the generated type (src/profile/rpc/
// message.ts): they must be what protobuf-es's create() and timestampFromDate() build.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ProfileSchema } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "../../src/profile/profile.js";
import { timestampOf, toProfileMessage } from "../../src/profile/rpc/message.js";
import { alice, profileAt } from "./support/profiles.js";

/** Instants at the edges of the conversion: the epoch, before it, sub-second parts, the range. */
const dates = [
  new Date(0),
  new Date(-1),
  new Date(-1500),
  new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 123)),
  new Date("0001-01-01T00:00:00.000Z"),
  new Date("9999-12-31T23:59:59.999Z"),
];

describe("messages built as literals", () => {
  it.each(dates.map((date) => [date.toISOString(), date]))(
    "timestampOf(%s) is timestampFromDate's Timestamp",
    (_, date) => {
      expect(timestampOf(date)).toStrictEqual(timestampFromDate(date));
    },
  );

  it("toProfileMessage builds the message create() and timestampFromDate() build", () => {
    for (const date of dates) {
      const profile: Profile = {
        ...profileAt(alice, 3),
        displayName: "Ünïcode 名前 👋",
        bio: "bio",
        avatarUrl: "https://example.com/a.png",
        createdAt: date,
      };
      const created = create(ProfileSchema, {
        userId: profile.userId,
        displayName: profile.displayName,
        avatarUrl: profile.avatarUrl,
        bio: profile.bio,
        createdAt: timestampFromDate(profile.createdAt),
        updatedAt: timestampFromDate(profile.updatedAt),
        etag: profile.etag,
      });
      const literal = toProfileMessage(profile);

      expect(literal).toStrictEqual(created);
      expect(toBinary(ProfileSchema, literal)).toEqual(toBinary(ProfileSchema, created));
      expect(toJsonString(ProfileSchema, literal)).toBe(toJsonString(ProfileSchema, created));
    }
  });
});
