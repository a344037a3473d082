import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Profile as ProfileMessage,
  ProfileSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type { Profile } from "./profile.js";

/** The protobuf form of a profile, as the API returns it and events carry it. */
export function toProfileMessage(profile: Profile): ProfileMessage {
  return create(ProfileSchema, {
    userId: profile.userId,
    displayName: profile.displayName,
    avatarUrl: profile.avatarUrl,
    bio: profile.bio,
    createdAt: timestampFromDate(profile.createdAt),
    updatedAt: timestampFromDate(profile.updatedAt),
    etag: profile.etag,
  });
}
