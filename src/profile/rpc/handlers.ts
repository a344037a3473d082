import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  Audience as AudienceMessage,
  DeleteProfileResponseSchema,
  type PrivacySettings as PrivacySettingsMessage,
  type ProfileApi,
  type WatchProfilesResponse,
  WatchProfilesResponse_DeletedSchema,
  WatchProfilesResponse_MissingSchema,
  WatchProfilesResponseSchema,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../../auth/caller-context.js";
import type { WatchHub, WatchUpdate } from "../live/watch.js";
import { etagOf } from "../profile.js";
import type { ProfileService } from "../service.js";
import { type Audience, type PrivacySettings, type ProfileView, viewerOf } from "../visibility.js";
import { batchGetProfilesAnswer } from "./batch-answer.js";
import { CONNECT_GET_CACHE_CONTROL, entityTagOf } from "./entity-tag.js";
import { createHandleHandlers } from "./handle-handlers.js";
import { toProfileMessage } from "./message.js";
import { createSearchHandlers } from "./search-handlers.js";
import { sentEtag } from "./sent-etag.js";
import { answersInBinary } from "./stored-encoding.js";

/** Translates ProfileApi calls between protobuf messages and the profile service. */
export function createProfileApiHandlers(
  service: ProfileService,
  watches: WatchHub,
): ServiceImpl<typeof ProfileApi> {
  return {
    async getProfile(request, context) {
      const viewer = viewerOf(callerOf(context), request.viewerUserId);
      const view = await service.getProfileView(request.userId, viewer, context.signal);
      markRevalidatable(context, [view]);
      return toProfileMessage(view);
    },

    async batchGetProfiles(request, context) {
      const viewer = viewerOf(callerOf(context), request.viewerUserId);
      const result = await service.batchGetProfileViews(request.userIds, viewer, context.signal);
      markRevalidatable(context, result.views);
      return batchGetProfilesAnswer(result.views, result.missingUserIds, answersInBinary(context));
    },

    async getPrivacySettings(request, context) {
      const settings = await service.getPrivacySettings({
        caller: callerOf(context),
        userId: request.userId,
        signal: context.signal,
      });
      return toPrivacySettingsMessage(settings);
    },

    async updatePrivacySettings(request, context) {
      const settings = await service.updatePrivacySettings({
        caller: callerOf(context),
        userId: request.userId,
        avatarAudience: audienceOf(request.avatarAudience),
        bioAudience: audienceOf(request.bioAudience),
        discoverableBy: audienceOf(request.discoverableBy),
        etag: sentEtag(request.etag),
        signal: context.signal,
      });
      return toPrivacySettingsMessage(settings);
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
        etag: sentEtag(request.etag),
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
      const caller = callerOf(context);
      const viewer = viewerOf(caller, request.viewerUserId);
      const watch = watches.open(caller.subject, request.userIds, viewer);
      try {
        // Not kept in variables: the generator's scope lives as long as the stream.
        watch.start(
          (await service.batchGetProfiles(watch.userIds, context.signal)).profiles,
          await service.visibilityOf(watch.userIds, viewer, context.signal),
        );
        for (;;) yield toWatchMessage(await watch.next(context.signal));
      } finally {
        watch.close();
      }
    },

    ...createHandleHandlers(service),
    ...createSearchHandlers(service),
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
function markRevalidatable(context: HandlerContext, profiles: readonly ProfileView[]): void {
  if (context.requestMethod !== "GET") return;
  context.responseHeader.set("etag", entityTagOf(profiles));
  context.responseHeader.set("cache-control", CONNECT_GET_CACHE_CONTROL);
}

const audienceMessages: Record<Audience, AudienceMessage> = {
  everyone: AudienceMessage.EVERYONE,
  contacts: AudienceMessage.CONTACTS,
  nobody: AudienceMessage.NOBODY,
};

/** A requested audience: undefined when absent, "invalid" for UNSPECIFIED or an unknown number. */
function audienceOf(message: AudienceMessage | undefined): Audience | "invalid" | undefined {
  if (message === undefined) return undefined;
  const found = Object.entries(audienceMessages).find(([, value]) => value === message);
  return found === undefined ? "invalid" : (found[0] as Audience);
}

function toPrivacySettingsMessage(settings: PrivacySettings): PrivacySettingsMessage {
  return {
    $typeName: "realchat.profile.v1.PrivacySettings",
    userId: settings.userId,
    avatarAudience: audienceMessages[settings.avatarAudience],
    bioAudience: audienceMessages[settings.bioAudience],
    etag: etagOf(settings.version),
    discoverableBy: audienceMessages[settings.discoverableBy],
  };
}
