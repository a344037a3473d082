import { cors as connectCors } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import cors from "cors";
import type { Logger } from "pino";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import type { TokenVerifier } from "./auth/token-verifier.js";
import type { Config } from "./config.js";
import { createProfileApiHandlers } from "./profile/profile-handlers.js";
import type { ProfileService } from "./profile/profile-service.js";
import { createAuthGate } from "./rpc/auth-gate.js";
import { createDeadlineInterceptor } from "./rpc/deadline-interceptor.js";
import { createErrorInterceptor } from "./rpc/error-interceptor.js";
import type { RequestHandler } from "./server.js";

export type AppConfig = Pick<Config, "requestTimeoutMs" | "maxRequestBytes" | "corsAllowedOrigins">;

export interface AppDependencies {
  readonly config: AppConfig;
  readonly profiles: ProfileService;
  readonly logger: Logger;
  readonly verifyToken: TokenVerifier;
}

/**
 * Wires the RPC side: handlers, authentication, interceptors and CORS, as one request handler that
 * does not listen anywhere (see server.ts), so tests and main.ts serve it the same way.
 */
export function createRequestHandler({
  config,
  profiles,
  logger,
  verifyToken,
}: AppDependencies): RequestHandler {
  const connectHandler = connectNodeAdapter({
    routes: (router) => router.service(ProfileApi, createProfileApiHandlers(profiles)),
    interceptors: [
      createErrorInterceptor(logger),
      createDeadlineInterceptor(config.requestTimeoutMs),
    ],
    requestGate: createAuthGate(verifyToken),
    readMaxBytes: config.maxRequestBytes,
    // curl users see every field, "" included, rather than proto3 JSON's omitted defaults.
    jsonOptions: { alwaysEmitImplicit: true },
  });
  if (config.corsAllowedOrigins.length === 0) return connectHandler;

  const allowOrigins = config.corsAllowedOrigins.includes("*")
    ? "*"
    : [...config.corsAllowedOrigins];
  const corsHandler = cors({
    origin: allowOrigins,
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization"],
    exposedHeaders: [...connectCors.exposedHeaders],
    maxAge: 2 * 60 * 60,
  });
  return (request, response) => {
    // The cors middleware only reads headers and sets response headers: it fits both HTTP versions.
    const req = request as Parameters<typeof corsHandler>[0];
    const res = response as Parameters<typeof corsHandler>[1];
    corsHandler(req, res, () => connectHandler(request, response));
  };
}
