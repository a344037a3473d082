import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  BatchGetProfilesResponseSchema,
  type ProfileApi,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../auth/caller-context.js";
import { CONNECT_GET_CACHE_CONTROL, entityTagOf } from "../http/conditional-get.js";
import type { Profile } from "./profile.js";
import { toProfileMessage } from "./profile-message.js";
import type { ProfileService } from "./profile-service.js";

/** Translates ProfileApi calls between protobuf messages and the profile service. */
export function createProfileApiHandlers(service: ProfileService): ServiceImpl<typeof ProfileApi> {
  return {
    async getProfile(request, context) {
      const profile = await service.getProfile(request.userId, context.signal);
      markRevalidatable(context, [profile]);
      return toProfileMessage(profile);
    },

    async batchGetProfiles(request, context) {
      const result = await service.batchGetProfiles(request.userIds, context.signal);
      markRevalidatable(context, result.profiles);
      return create(BatchGetProfilesResponseSchema, {
        profiles: result.profiles.map(toProfileMessage),
        missingUserIds: result.missingUserIds,
      });
    },

    async updateProfile(request, context) {
      const profile = await service.updateProfile({
        caller: callerOf(context),
        userId: request.userId,
        fields: {
          displayName: request.displayName,
          avatarUrl: request.avatarUrl,
          bio: request.bio,
        },
        // proto3 has no absent string: "" means the caller sent no etag.
        etag: request.etag === "" ? undefined : request.etag,
        signal: context.signal,
      });
      return toProfileMessage(profile);
    },
  };
}

/**
 * A Connect GET answer gets an entity tag from the versions it holds, and a browser revalidates
 * it before each use (`If-None-Match`, answered 304 by src/http/conditional-get.ts).
 */
function markRevalidatable(context: HandlerContext, profiles: readonly Profile[]): void {
  if (context.requestMethod !== "GET") return;
  context.responseHeader.set("etag", entityTagOf(profiles));
  context.responseHeader.set("cache-control", CONNECT_GET_CACHE_CONTROL);
}
