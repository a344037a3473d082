import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import type { ProfileService } from "../service.js";

// TODO(issue 21, handles): SetHandle, CheckHandle and ResolveHandle; not built yet.

/** The handle RPCs of ProfileApi. */
export function createHandleHandlers(
  _service: ProfileService,
): Pick<ServiceImpl<typeof ProfileApi>, "setHandle" | "checkHandle" | "resolveHandle"> {
  const unbuilt = () => Promise.reject(new ConnectError("not built yet", Code.Unimplemented));
  return { setHandle: unbuilt, checkHandle: unbuilt, resolveHandle: unbuilt };
}
