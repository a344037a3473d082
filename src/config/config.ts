import type { HandleConfig } from "./handle-config.js";

/** Where profiles are stored: a PostgreSQL server, or embedded PGlite in a local directory. */
export type DatabaseConfig =
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly poolMax: number;
      /** Run data statements as named prepared statements (off behind transaction pooling). */
      readonly preparedStatements: boolean;
    }
  | { readonly kind: "pglite"; readonly dataDir: string };

/** How bearer tokens are verified (docs/auth.md). */
export interface AuthConfig {
  /** HS256 shared secret (RealChat's Auth). */
  readonly secret: string | undefined;
  /** JSON Web Key Set for asymmetric tokens. */
  readonly jwksUrl: string | undefined;
  readonly jwksAlgorithms: readonly string[];
  readonly jwksTimeoutMs: number;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
  /**
   * Embedded development mode: no JWT settings and no DATABASE_URL. The secret is generated in
   * DATA_DIR and `npm run token` prints tokens signed with it.
   */
  readonly development: boolean;
}

/** The event side (docs/events.md). */
export interface EventsConfig {
  /** Unset: events wait in the outbox and registrations are not consumed. */
  readonly natsUrl: string | undefined;
  readonly encoding: "protobuf" | "json";
  /** Create the AUTH and PROFILE streams and the durable consumer when missing. */
  readonly createStreams: boolean;
  /** How often the relay looks for unpublished events besides being notified. */
  readonly outboxPollIntervalMs: number;
  /** How long published outbox rows are kept before they are deleted. */
  readonly outboxRetentionSeconds: number;
}

/** A token bucket per caller: `perSecond` profiles sustained (0: no limit), `burst` at once. */
export interface QuotaLimits {
  readonly perSecond: number;
  readonly burst: number;
}

/** Per-caller quotas on profiles read, per instance (see src/transport/interceptors/quota.ts). */
export interface QuotaConfig {
  /** Callers whose token has no scope. */
  readonly user: QuotaLimits;
  /** Callers whose token has a scope (service tokens). */
  readonly service: QuotaLimits;
  /** What one UpdateProfile costs, in profiles read. */
  readonly updateCost: number;
  /** What one SearchProfiles costs (a directory is what scrapers want most). */
  readonly searchCost: number;
  /** What one ResolveHandle or CheckHandle costs (each probes the handle directory). */
  readonly handleLookupCost: number;
}

/** The read cache of profiles (docs/cache.md). */
export interface ProfileCacheConfig {
  readonly enabled: boolean;
  /** Byte budget; least recently used profiles are evicted beyond it. */
  readonly maxBytes: number;
  /** Longest a cached profile is served after it was stored. */
  readonly ttlMs: number;
}

/** Connection-level bounds of the one-port server (src/transport/server.ts). */
export interface ConnectionConfig {
  /**
   * Longest a new connection may take to finish the TLS handshake and send its first bytes, and
   * an HTTP/1.1 request its headers.
   */
  readonly headersTimeoutMs: number;
  /** Longest an HTTP/1.1 request may take to arrive whole, headers and body. */
  readonly http1RequestTimeoutMs: number;
  /** How long an HTTP/1.1 connection may stay idle between requests. */
  readonly http1KeepAliveTimeoutMs: number;
  /** How long an HTTP/2 connection without open streams may stay silent before GOAWAY. */
  readonly http2IdleTimeoutMs: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams one HTTP/2 connection may have open. */
  readonly http2MaxConcurrentStreams: number;
  /** Open connections at most; further ones are closed as soon as they are accepted. */
  readonly maxConnections: number;
}

/** Production defaults of {@link ConnectionConfig}, also used by servers built without them. */
export const defaultConnectionConfig: ConnectionConfig = Object.freeze({
  headersTimeoutMs: 15_000,
  http1RequestTimeoutMs: 30_000,
  http1KeepAliveTimeoutMs: 5000,
  http2IdleTimeoutMs: 60_000,
  http2MaxConcurrentStreams: 100,
  maxConnections: 1000,
});

/** An IP network in CIDR notation, parsed (src/config/cidr.ts). */
export interface Cidr {
  readonly family: "ipv4" | "ipv6";
  /** The network's address as written, e.g. `10.0.0.0` or `fc00::`. */
  readonly address: string;
  /** Leading bits that must match: 0–32 for IPv4, 0–128 for IPv6. */
  readonly prefix: number;
}

/**
 * The trusted internal door (docs/auth.md "The internal door"): a second listener for
 * RealChat's own services, where `x-user-id` names the caller.
 */
export interface InternalDoorConfig {
  readonly port: number;
  readonly host: string;
  /** Peers a connection is accepted from; any other is closed unread and logged. */
  readonly trustedCidrs: readonly Cidr[];
  /**
   * PEM files; with them the door speaks TLS, and with `clientCaFile` it requires a client
   * certificate signed by that CA (mTLS).
   */
  readonly tls:
    | { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string }
    | undefined;
}

/** The service's whole configuration, read once from the environment at start-up. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseConfig;
  /** Longest a single SQL statement may run before PostgreSQL cancels it. */
  readonly statementTimeoutMs: number;
  readonly migrateOnStart: boolean;
  /** Longest an RPC may run; clients may ask for less with their own deadline. */
  readonly requestTimeoutMs: number;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  readonly maxRequestBytes: number;
  /** Accept http:// avatar URLs (local development only). */
  readonly allowHttpAvatarUrls: boolean;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** The trusted internal door; none unless INTERNAL_PORT is set. */
  readonly internal: InternalDoorConfig | undefined;
  readonly corsAllowedOrigins: readonly string[];
  /** Serve unary gRPC calls on the direct path (connect-internals/grpc-unary.ts), not Connect's. */
  readonly grpcUnaryFastPath: boolean;
  /** How long shutdown waits for in-flight calls before closing connections. */
  readonly shutdownTimeoutMs: number;
  readonly quotas: QuotaConfig;
  /** Most grpc.health.v1.Health/Watch streams open at once on this instance. */
  readonly healthWatchMaxStreams: number;
  readonly connections: ConnectionConfig;
  readonly logLevel: LogLevel;
  readonly auth: AuthConfig;
  readonly events: EventsConfig;
  readonly profileCache: ProfileCacheConfig;
  /** Bounds on WatchProfiles streams (docs/transport.md "Live profiles"). */
  readonly watch: WatchConfig;
  /** The handle rules' settings (docs/handles.md). */
  readonly handles: HandleConfig;
}

/** Bounds on WatchProfiles streams. */
export interface WatchConfig {
  readonly maxIdsPerWatch: number;
  readonly maxWatchesPerCaller: number;
  readonly maxWatchers: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** The port `npm run example:web` serves the example web client on (examples/web/). */
export const EXAMPLE_WEB_PORT = 8081;

/**
 * In development mode (embedded PGlite, no JWT settings) with CORS_ALLOWED_ORIGINS unset, the
 * example web client's origins get CORS grants, so it works against `npm start` with no setting.
 */
export const exampleWebOrigins: readonly string[] = Object.freeze([
  `http://localhost:${EXAMPLE_WEB_PORT}`,
  `http://127.0.0.1:${EXAMPLE_WEB_PORT}`,
]);
