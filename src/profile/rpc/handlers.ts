import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  DeleteProfileResponseSchema,
  type ProfileApi,
  type WatchProfilesResponse,
  WatchProfilesResponse_DeletedSchema,
  WatchProfilesResponse_MissingSchema,
  WatchProfilesResponseSchema,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../../auth/caller-context.js";
import { CONNECT_GET_CACHE_CONTROL, entityTagOf } from "../../transport/conditional-get.js";
import type { WatchHub, WatchUpdate } from "../live/watch.js";
import type { Profile } from "../profile.js";
import type { ProfileService } from "../service.js";
import { toProfileMessage } from "./message.js";
import { answersInBinary, batchGetProfilesAnswer } from "./wire.js";

/** Translates ProfileApi calls between protobuf messages and the profile service. */
export function createProfileApiHandlers(
  service: ProfileService,
  watches: WatchHub,
): ServiceImpl<typeof ProfileApi> {
  return {
    async getProfile(request, context) {
      const profile = await service.getProfile(request.userId, context.signal);
      markRevalidatable(context, [profile]);
      return toProfileMessage(profile);
    },

    async batchGetProfiles(request, context) {
      const result = await service.batchGetProfiles(request.userIds, context.signal);
      markRevalidatable(context, result.profiles);
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

    // Watched from before the snapshot is read, so that no change falls between the two.
    async *watchProfiles(request, context) {
      const watch = watches.open(callerOf(context).subject, request.userIds);
      try {
        // Not kept in a variable: the generator's scope lives as long as the stream.
        watch.start((await service.batchGetProfiles(watch.userIds, context.signal)).profiles);
        for (;;) yield toWatchMessage(await watch.next(context.signal));
      } finally {
        watch.close();
      }
    },
  };
}

function toWatchMessage({ state, snapshot }: WatchUpdate): WatchProfilesResponse {
  const { userId, version } = state;
  const common = { userId, version: BigInt(version), snapshot };
  switch (state.kind) {
    case "profile":
      return create(WatchProfilesResponseSchema, {
        ...common,
        state: { case: "profile", value: toProfileMessage(state.profile) },
      });
    case "missing":
      return create(WatchProfilesResponseSchema, {
        ...common,
        state: { case: "missing", value: create(WatchProfilesResponse_MissingSchema) },
      });
    case "deleted":
      return create(WatchProfilesResponseSchema, {
        ...common,
        state: { case: "deleted", value: create(WatchProfilesResponse_DeletedSchema) },
      });
  }
}

/**
 * A Connect GET answer gets an entity tag from the versions it holds, and a browser revalidates
 * it before each use (`If-None-Match`, answered 304 by src/transport/conditional-get.ts).
 */
function markRevalidatable(context: HandlerContext, profiles: readonly Profile[]): void {
  if (context.requestMethod !== "GET") return;
  context.responseHeader.set("etag", entityTagOf(profiles));
  context.responseHeader.set("cache-control", CONNECT_GET_CACHE_CONTROL);
}
