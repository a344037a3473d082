import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { cors as connectCors } from "@connectrpc/connect";
import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import cors from "cors";
import type { Config } from "../config/config.js";
import type { Metrics } from "../ops/metrics.js";
import type { Readiness } from "../ops/readiness.js";
import { withConditionalGet } from "./conditional-get.js";
import { createConnectHandler } from "./connect-internals/connect-adapter.js";
import { createGrpcUnaryHandler, type GrpcUnaryHandler } from "./connect-internals/grpc-unary.js";
import { createHttpEndpoints } from "./http-endpoints.js";
import { registeredMethods } from "./registered-methods.js";
import type { Routes } from "./routes.js";
import type { RequestHandler } from "./server.js";

export type HandlerConfig = Pick<
  Config,
  "requestTimeoutMs" | "corsAllowedOrigins" | "grpcUnaryFastPath"
>;

export interface HandlerDependencies {
  readonly config: HandlerConfig;
  readonly routes: Routes;
  /** From createRpcOptions: the interceptors, gate and limits every path shares. */
  readonly rpcOptions: Partial<UniversalHandlerOptions>;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
}

/**
 * The one request handler a listener serves: the RPC routes (Connect's adapter, and the direct
 * gRPC path for unary binary calls), the plain HTTP endpoints (/healthz, /readyz, /metrics),
 * conditional GET and CORS. It does not listen (see server.ts).
 */
export function createRequestHandler(dependencies: HandlerDependencies): RequestHandler {
  const { config, readiness, metrics } = dependencies;
  const rpc = createRpcHandlers(dependencies);
  const httpEndpoints = createHttpEndpoints(readiness, metrics);
  const conditionalRpcHandler = withConditionalGet(rpc.connect);
  const serve: RequestHandler = (request, response) => {
    if (!httpEndpoints(request, response)) conditionalRpcHandler(request, response);
  };
  // The direct path takes its HTTP/2 streams before Node's compatibility layer (server.ts).
  const grpcUnary = config.grpcUnaryFastPath ? rpc.grpcUnary : undefined;
  if (config.corsAllowedOrigins.length === 0)
    return Object.assign(serve, { http2Stream: grpcUnary });
  // Browsers send `Origin` and get the CORS headers; gRPC clients, which have no use for them,
  // keep the direct path.
  return Object.assign(withCors(serve, config.corsAllowedOrigins), {
    http2Stream:
      grpcUnary &&
      ((stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
        headers.origin === undefined && grpcUnary(stream, headers)),
  });
}

export interface RpcHandlers {
  /** Connect's handler: every service, method and protocol, under the whole-call deadline. */
  readonly connect: RequestHandler;
  /**
   * The direct path for unary gRPC calls with binary messages, on HTTP/2 streams; declines
   * everything else.
   */
  readonly grpcUnary: GrpcUnaryHandler;
}

/** The routes served both ways, with the same options and the same deadline. */
export function createRpcHandlers({
  config,
  routes,
  rpcOptions,
}: Pick<HandlerDependencies, "config" | "routes" | "rpcOptions">): RpcHandlers {
  return {
    connect: createConnectHandler(routes, rpcOptions, config.requestTimeoutMs),
    grpcUnary: createGrpcUnaryHandler(
      registeredMethods(routes),
      rpcOptions,
      config.requestTimeoutMs,
    ),
  };
}

/** CORS for the allowed origins ("*" for any), on both HTTP versions. */
function withCors(serve: RequestHandler, allowedOrigins: readonly string[]): RequestHandler {
  const corsHandler = cors({
    origin: allowedOrigins.includes("*") ? "*" : [...allowedOrigins],
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
  return (request, response) => {
    // The cors middleware only reads headers and sets response headers: it fits both versions.
    const req = request as Parameters<typeof corsHandler>[0];
    const res = response as Parameters<typeof corsHandler>[1];
    corsHandler(req, res, () => serve(request, response));
  };
}
