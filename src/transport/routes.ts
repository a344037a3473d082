import type { ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health, Health } from "../../gen/health/v1/health_pb.js";
import { file_realchat_auth_v1_user_events } from "../../gen/realchat/auth/v1/user_events_pb.js";
import {
  file_realchat_profile_v1_profile_api,
  ProfileApi,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { file_realchat_profile_v1_profile_events } from "../../gen/realchat/profile/v1/profile_events_pb.js";
import {
  file_realchat_profile_v1_social_graph_api,
  SocialGraphApi,
} from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { file_realchat_profile_v1_social_graph_events } from "../../gen/realchat/profile/v1/social_graph_events_pb.js";
import { createSocialGraphApiHandlers } from "../graph/rpc/handlers.js";
import type { SocialGraphService } from "../graph/service.js";
import type { Readiness } from "../ops/readiness.js";
import type { WatchHub } from "../profile/live/watch.js";
import { createProfileApiHandlers } from "../profile/rpc/handlers.js";
import type { ProfileService } from "../profile/service.js";
import { createHealthHandlers } from "./health.js";
import { registerReflection } from "./reflection.js";

/** What the routes serve: the domain services and the instance's own state. */
export interface RouteDependencies {
  readonly profiles: ProfileService;
  readonly socialGraph: SocialGraphService;
  /** WatchProfiles' fan-out of the instance's profile feed. */
  readonly watches: WatchHub;
  readonly readiness: Readiness;
  /** HEALTH_WATCH_MAX_STREAMS: open Health/Watch streams per instance. */
  readonly healthWatchMaxStreams: number;
}

/** Every RPC route of the service, registered on a Connect router. */
export type Routes = (router: ConnectRouter) => void;

/**
 * Services that answer without a token: orchestrators and tools call them. Every other method
 * needs a verified caller (docs/auth.md).
 */
export const publicServices: ReadonlySet<string> = new Set([
  Health.typeName,
  ServerReflectionV1.typeName,
  ServerReflectionV1Alpha.typeName,
]);

/** The schemas reflection describes: the APIs, their events, and the health service. */
const reflectedFiles = [
  file_realchat_profile_v1_profile_api,
  file_realchat_profile_v1_profile_events,
  file_realchat_profile_v1_social_graph_api,
  file_realchat_profile_v1_social_graph_events,
  file_realchat_auth_v1_user_events,
  file_health_v1_health,
];

/**
 * The one routes module: Connect's adapter, the direct gRPC path (which derives its method table
 * from what is registered here) and the in-memory test transport all serve these routes.
 */
export function createRoutes(dependencies: RouteDependencies): Routes {
  const profileApi = createProfileApiHandlers(dependencies.profiles, dependencies.watches);
  const socialGraphApi = createSocialGraphApiHandlers(dependencies.socialGraph);
  const health = createHealthHandlers(
    dependencies.readiness,
    [ProfileApi.typeName, SocialGraphApi.typeName],
    dependencies.healthWatchMaxStreams,
  );
  return (router) => {
    router.service(ProfileApi, profileApi);
    router.service(SocialGraphApi, socialGraphApi);
    router.service(Health, health);
    registerReflection(router, reflectedFiles);
  };
}
