import type { ServiceImpl } from "@connectrpc/connect";
import type { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { callerOf } from "../../auth/caller-context.js";
import type { ProfileService } from "../service.js";
import { viewerOf } from "../visibility.js";
import { toProfileMessage } from "./message.js";

/** The search RPC of ProfileApi. */
export function createSearchHandlers(
  service: ProfileService,
): Pick<ServiceImpl<typeof ProfileApi>, "searchProfiles"> {
  return {
    async searchProfiles(request, context) {
      const page = await service.searchProfiles({
        viewer: viewerOf(callerOf(context), request.viewerUserId),
        query: request.query,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
        signal: context.signal,
      });
      // A literal of the generated type, as other read answers (message.ts says why).
      return {
        $typeName: "realchat.profile.v1.SearchProfilesResponse",
        profiles: page.views.map(toProfileMessage),
        nextPageToken: page.nextPageToken,
      };
    },
  };
}
