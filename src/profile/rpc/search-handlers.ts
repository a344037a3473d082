import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { ProfileService } from "../service.js";

// TODO(issue 21, search): SearchProfiles; not built yet.

/** The search RPC of ProfileApi. */
export function createSearchHandlers(
  _service: ProfileService,
): Pick<ServiceImpl<typeof ProfileApi>, "searchProfiles"> {
  return {
    searchProfiles: () => Promise.reject(new ConnectError("not built yet", Code.Unimplemented)),
  };
}
