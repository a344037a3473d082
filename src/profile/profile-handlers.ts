import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeleteProfileResponseSchema,
  type ProfileApi,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../auth/caller-context.js";
import { toProfileMessage } from "./profile-message.js";
import type { ProfileService } from "./profile-service.js";
import { answersInBinary, batchGetProfilesAnswer } from "./profile-wire.js";

/** Translates ProfileApi calls between protobuf messages and the profile service. */
export function createProfileApiHandlers(service: ProfileService): ServiceImpl<typeof ProfileApi> {
  return {
    async getProfile(request, context) {
      return toProfileMessage(await service.getProfile(request.userId, context.signal));
    },

    async batchGetProfiles(request, context) {
      const result = await service.batchGetProfiles(request.userIds, context.signal);
      return batchGetProfilesAnswer(
        result.profiles,
        result.missingUserIds,
        answersInBinary(context),
      );
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

    async deleteProfile(request, context) {
      const version = await service.deleteProfile({
        caller: callerOf(context),
        userId: request.userId,
        signal: context.signal,
      });
      return create(DeleteProfileResponseSchema, {
        deleted: version !== undefined,
        version: BigInt(version ?? 0),
      });
    },
  };
}
