import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { cors as connectCors, createServiceImplSpec } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import cors from "cors";
import type { Logger } from "pino";
import { ServerReflection as ServerReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health, Health } from "../gen/health/v1/health_pb.js";
import { file_realchat_auth_v1_user_events } from "../gen/realchat/auth/v1/user_events_pb.js";
import {
  file_realchat_profile_v1_profile_api,
  ProfileApi,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { file_realchat_profile_v1_profile_events } from "../gen/realchat/profile/v1/profile_events_pb.js";
import {
  file_realchat_profile_v1_social_graph_api,
  SocialGraphApi,
} from "../gen/realchat/profile/v1/social_graph_api_pb.js";
import { file_realchat_profile_v1_social_graph_events } from "../gen/realchat/profile/v1/social_graph_events_pb.js";
import type { TokenVerifier } from "./auth/token-verifier.js";
import type { Config } from "./config.js";
import { withCallDeadline, withStreamDeadline } from "./connect-internals/call-deadline.js";
import { createGrpcUnaryHandler, type GrpcUnaryHandler } from "./connect-internals/grpc-unary.js";
import { createSocialGraphApiHandlers } from "./graph/social-graph-handlers.js";
import type { SocialGraphService } from "./graph/social-graph-service.js";
import { createHealthHandlers } from "./health/health-handlers.js";
import type { Readiness } from "./health/readiness.js";
import { withConditionalGet } from "./http/conditional-get.js";
import { createHttpEndpoints } from "./http/http-endpoints.js";
import type { Metrics } from "./observability/metrics.js";
import { createProfileApiHandlers } from "./profile/profile-handlers.js";
import type { ProfileService } from "./profile/profile-service.js";
import type { WatchHub } from "./profile/profile-watch-hub.js";
import { createAuthGate } from "./rpc/auth-gate.js";
import { createDeadlineInterceptor } from "./rpc/deadline-interceptor.js";
import { createErrorInterceptor } from "./rpc/error-interceptor.js";
import { createQuotaInterceptor } from "./rpc/quota-interceptor.js";
import { registerReflection } from "./rpc/reflection.js";
import { createTelemetry } from "./rpc/telemetry.js";
import type { RequestHandler } from "./server.js";

export type AppConfig = Pick<
  Config,
  | "requestTimeoutMs"
  | "maxRequestBytes"
  | "corsAllowedOrigins"
  | "grpcUnaryFastPath"
  | "quotas"
  | "healthWatchMaxStreams"
>;

export interface AppDependencies {
  readonly config: AppConfig;
  readonly profiles: ProfileService;
  readonly socialGraph: SocialGraphService;
  /** WatchProfiles' fan-out of the instance's profile feed. */
  readonly watches: WatchHub;
  readonly logger: Logger;
  readonly verifyToken: TokenVerifier;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
}

/** The schemas reflection describes: the APIs, their events, and the health service. */
const reflectedFiles = [
  file_realchat_profile_v1_profile_api,
  file_realchat_profile_v1_profile_events,
  file_realchat_profile_v1_social_graph_api,
  file_realchat_profile_v1_social_graph_events,
  file_realchat_auth_v1_user_events,
  file_health_v1_health,
];

/** The request paths of every unary method served, e.g. `/realchat.profile.v1.ProfileApi/GetProfile`. */
const unaryPaths = new Set(
  [ProfileApi, SocialGraphApi, Health, ServerReflectionV1, ServerReflectionV1Alpha].flatMap(
    (service) =>
      service.methods
        .filter((method) => method.methodKind === "unary")
        .map((method) => `/${service.typeName}/${method.name}`),
  ),
);

/** Services that answer without a token: orchestrators and tools call them. */
const publicServices = new Set([
  Health.typeName,
  ServerReflectionV1.typeName,
  ServerReflectionV1Alpha.typeName,
]);

/**
 * Wires the RPC side (ProfileApi, health, reflection; authentication, telemetry, error mapping,
 * quotas, deadlines), the plain HTTP endpoints (/healthz, /readyz, /metrics) and CORS, as one request
 * handler that does not listen anywhere (see server.ts); createService (service.ts) serves it.
 */
export function createRequestHandler(dependencies: AppDependencies): RequestHandler {
  const { config, readiness, metrics } = dependencies;
  const rpc = createRpcHandlers(dependencies);
  const rpcHandler: RequestHandler = withCallDeadline(rpc.connect, {
    maxMs: config.requestTimeoutMs,
    isUnary: (path) => unaryPaths.has(path),
  });
  // The direct path takes its HTTP/2 streams before Node's compatibility layer (server.ts).
  const grpcUnary = config.grpcUnaryFastPath
    ? withStreamDeadline(rpc.grpcUnary, { maxMs: config.requestTimeoutMs })
    : undefined;
  const conditionalRpcHandler = withConditionalGet(rpcHandler);
  const httpEndpoints = createHttpEndpoints(readiness, metrics);
  const serve: RequestHandler = (request, response) => {
    if (!httpEndpoints(request, response)) conditionalRpcHandler(request, response);
  };
  if (config.corsAllowedOrigins.length === 0)
    return Object.assign(serve, { http2Stream: grpcUnary });

  const allowOrigins = config.corsAllowedOrigins.includes("*")
    ? "*"
    : [...config.corsAllowedOrigins];
  const corsHandler = cors({
    origin: allowOrigins,
    methods: [...connectCors.allowedMethods],
    // x-request-id both ways (docs/operating.md "Logs"); If-None-Match for pages that revalidate
    // themselves.
    allowedHeaders: [
      ...connectCors.allowedHeaders,
      "Authorization",
      "X-Request-Id",
      "If-None-Match",
    ],
    exposedHeaders: [...connectCors.exposedHeaders, "X-Request-Id", "ETag"],
    maxAge: 2 * 60 * 60,
  });
  const withCors: RequestHandler = (request, response) => {
    // The cors middleware only reads headers and sets response headers: it fits both HTTP versions.
    const req = request as Parameters<typeof corsHandler>[0];
    const res = response as Parameters<typeof corsHandler>[1];
    corsHandler(req, res, () => serve(request, response));
  };
  // Browsers send `Origin` and get the CORS headers from the middleware above; gRPC clients, which
  // have no use for them, keep the direct path.
  return Object.assign(withCors, {
    http2Stream:
      grpcUnary &&
      ((stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
        headers.origin === undefined && grpcUnary(stream, headers)),
  });
}

export interface RpcHandlers {
  /** Connect's handler: every service, method and protocol. */
  readonly connect: RequestHandler;
  /**
   * The direct path for unary gRPC calls with binary messages, on HTTP/2 streams; declines
   * everything else.
   */
  readonly grpcUnary: GrpcUnaryHandler;
}

/** The RPC side's two handlers, sharing the service implementations, interceptors and limits. */
export function createRpcHandlers({
  config,
  profiles,
  socialGraph,
  watches,
  logger,
  verifyToken,
  readiness,
  metrics,
}: AppDependencies): RpcHandlers {
  const telemetry = createTelemetry(logger, metrics);
  const profileApi = createProfileApiHandlers(profiles, watches);
  const socialGraphApi = createSocialGraphApiHandlers(socialGraph);
  const health = createHealthHandlers(
    readiness,
    [ProfileApi.typeName, SocialGraphApi.typeName],
    config.healthWatchMaxStreams,
  );
  // One set of options for both paths, so that limits, compression and interceptors agree.
  const rpcOptions = {
    interceptors: [
      telemetry.interceptor,
      createErrorInterceptor(),
      // Before the deadline and the handler: a refused call does no work.
      createQuotaInterceptor(config.quotas, metrics.rateLimited),
      createDeadlineInterceptor(config.requestTimeoutMs),
    ],
    requestGate: telemetry.gate(createAuthGate({ verifyToken, publicServices })),
    acceptCompression: [compressionGzip, compressionBrotli],
    readMaxBytes: config.maxRequestBytes,
    // Longer client deadlines are capped at this, never refused or overflowed
    // (connect-internals/patches/).
    maxTimeoutMs: config.requestTimeoutMs,
    // curl users see every field, "" included, rather than proto3 JSON's omitted defaults.
    jsonOptions: { alwaysEmitImplicit: true },
  };
  return {
    connect: connectNodeAdapter({
      ...rpcOptions,
      routes: (router) => {
        router.service(ProfileApi, profileApi);
        router.service(SocialGraphApi, socialGraphApi);
        router.service(Health, health);
        registerReflection(router, reflectedFiles);
      },
    }),
    grpcUnary: createGrpcUnaryHandler(
      [
        createServiceImplSpec<typeof ProfileApi>(ProfileApi, profileApi),
        createServiceImplSpec<typeof SocialGraphApi>(SocialGraphApi, socialGraphApi),
        createServiceImplSpec<typeof Health>(Health, health),
      ],
      rpcOptions,
    ),
  };
}
