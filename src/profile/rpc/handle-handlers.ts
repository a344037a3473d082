import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CheckHandleResponseSchema,
  HandleUnavailableReason,
  type ProfileApi,
} from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../../auth/caller-context.js";
import type { ProfileService } from "../service.js";
import { viewerOf } from "../visibility.js";
import { toProfileMessage } from "./message.js";
import { sentEtag } from "./sent-etag.js";

/** The handle RPCs of ProfileApi: SetHandle, CheckHandle and ResolveHandle. */
export function createHandleHandlers(
  service: ProfileService,
): Pick<ServiceImpl<typeof ProfileApi>, "setHandle" | "checkHandle" | "resolveHandle"> {
  return {
    async setHandle(request, context) {
      const profile = await service.setHandle({
        caller: callerOf(context),
        userId: request.userId,
        handle: request.handle,
        etag: sentEtag(request.etag),
        signal: context.signal,
      });
      return toProfileMessage(profile);
    },

    async checkHandle(request, context) {
      const answer = await service.checkHandle(callerOf(context), request.handle, context.signal);
      return create(CheckHandleResponseSchema, {
        available: answer.available,
        reason: answer.available
          ? HandleUnavailableReason.UNSPECIFIED
          : answer.reason === "taken"
            ? HandleUnavailableReason.TAKEN
            : HandleUnavailableReason.INVALID,
        handle: answer.handle,
      });
    },

    async resolveHandle(request, context) {
      const viewer = viewerOf(callerOf(context), request.viewerUserId);
      return toProfileMessage(await service.resolveHandle(request.handle, viewer, context.signal));
    },
  };
}
