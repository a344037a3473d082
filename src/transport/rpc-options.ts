import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Config } from "../config/config.js";
import type { Metrics } from "../ops/metrics.js";
import { createCallCosts } from "./call-costs.js";
import { type CallerIdentity, createAuthGate } from "./interceptors/auth-gate.js";
import { createDeadlineInterceptor } from "./interceptors/deadline.js";
import { createErrorInterceptor } from "./interceptors/errors.js";
import { createQuotaInterceptor } from "./interceptors/quota.js";
import { createTelemetry } from "./interceptors/telemetry.js";
import { publicServices } from "./routes.js";

/** The settings the RPC side reads. */
export type RpcConfig = Pick<
  Config,
  "maxRequestBytes" | "quotas" | "grpcUnaryFastPath" | "healthWatchMaxStreams"
>;

export interface RpcOptionsDependencies {
  readonly config: RpcConfig;
  readonly logger: Logger;
  readonly verifyToken: TokenVerifier;
  readonly metrics: Metrics;
}

/** Handler options for a door, given who the door takes a call's caller from. */
export type RpcOptionsFor = (identity: CallerIdentity) => Partial<UniversalHandlerOptions>;

/**
 * The handler options for every way the routes are served (Connect's adapter, the direct gRPC
 * path, the in-memory test transport), so that authentication, telemetry, error mapping, quotas,
 * deadlines, limits and compression agree. Every door's options share one set of interceptors:
 * one telemetry, and one quota bucket per caller whichever door the caller comes through. Only
 * the gate differs, by the door's `identity`.
 */
export function createRpcOptions({
  config,
  logger,
  verifyToken,
  metrics,
}: RpcOptionsDependencies): RpcOptionsFor {
  const telemetry = createTelemetry(logger, metrics);
  const interceptors = [
    telemetry.interceptor,
    createErrorInterceptor(),
    // Before the deadline and the handler: a refused call does no work.
    createQuotaInterceptor(config.quotas, createCallCosts(config.quotas), metrics.rateLimited),
    createDeadlineInterceptor(),
  ];
  return (identity) => ({
    interceptors,
    requestGate: telemetry.gate(
      createAuthGate({ verifyToken, publicServices, identity }),
      identity === "bearer" ? "public" : "internal",
    ),
    acceptCompression: [compressionGzip, compressionBrotli],
    readMaxBytes: config.maxRequestBytes,
    // curl users see every field, "" included, rather than proto3 JSON's omitted defaults.
    jsonOptions: { alwaysEmitImplicit: true },
  });
}
