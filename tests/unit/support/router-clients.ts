import {
  type Client,
  createClient,
  createRouterTransport,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/health/v1/health_pb.js";
import { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { bearer, type TestToken } from "../../support/clients.js";

/** Clients of ProfileApi and Health served in memory, through Connect's router. */
export interface RouterClients {
  readonly profiles: Client<typeof ProfileApi>;
  readonly health: Client<typeof Health>;
}

/**
 * Serves `profileApi` (methods left out answer UNIMPLEMENTED) and a Health service that is always
 * SERVING through Connect's in-memory router transport, with the given interceptors and request
 * gate, as the app does over sockets. Every call sends `token` (none for `null`, the default).
 */
export function routerClients(options: {
  readonly profileApi: Partial<ServiceImpl<typeof ProfileApi>>;
  readonly interceptors?: Interceptor[];
  readonly requestGate?: (context: HandlerContext) => Promise<void>;
  readonly token?: TestToken;
}): RouterClients {
  const { profileApi, interceptors = [], requestGate, token = null } = options;
  const transport = createRouterTransport(
    (router) => {
      router.service(ProfileApi, profileApi);
      router.service(Health, {
        check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
      });
    },
    { router: { interceptors, requestGate }, transport: { interceptors: bearer(token) } },
  );
  return { profiles: createClient(ProfileApi, transport), health: createClient(Health, transport) };
}
