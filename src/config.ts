import { z } from "zod";
import type { WatchLimits } from "./profile/profile-watch-hub.js";

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

/** Per-caller quotas on profiles read, per instance (see src/rpc/quota-interceptor.ts). */
export interface QuotaConfig {
  /** Callers whose token has no scope. */
  readonly user: QuotaLimits;
  /** Callers whose token has a scope (service tokens). */
  readonly service: QuotaLimits;
  /** What one UpdateProfile costs, in profiles read. */
  readonly updateCost: number;
}

/** The read cache of profiles (docs/cache.md). */
export interface ProfileCacheConfig {
  readonly enabled: boolean;
  /** Byte budget; least recently used profiles are evicted beyond it. */
  readonly maxBytes: number;
  /** Longest a cached profile is served after it was stored. */
  readonly ttlMs: number;
}

/** Connection-level bounds of the one-port server (src/server.ts). */
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
  readonly watch: WatchLimits;
}

export type LogLevel = z.infer<typeof logLevel>;

/** A configuration variable that is missing or malformed; the message names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
const boolean = z.enum(["true", "false"]).transform((value) => value === "true");
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    );
const asymmetricAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

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

const environment = z.object({
  PORT: integer(0, 65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DB_POOL_MAX: integer(1, 1000).default(10),
  DB_PREPARED_STATEMENTS: boolean.default(true),
  DB_STATEMENT_TIMEOUT_MS: integer(1, 3_600_000).default(5000),
  DATA_DIR: z.string().default("./data"),
  MIGRATE_ON_START: boolean.default(true),
  REQUEST_TIMEOUT_MS: integer(1, 3_600_000).default(10_000),
  // The largest valid request (1000 ids in JSON, or a bio of 3000 escaped UTF-16 units) is under
  // 40 KB; a low cap bounds what unfinished bodies can hold (streams × connections × this).
  MAX_REQUEST_BYTES: integer(1024, 64 * 1024 * 1024).default(64 * 1024),
  ALLOW_HTTP_AVATAR_URLS: boolean.default(false),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  CORS_ALLOWED_ORIGINS: commaList("").pipe(
    z.array(z.url({ protocol: /^https?$/ }).or(z.literal("*"))),
  ),
  GRPC_UNARY_FAST_PATH: boolean.default(true),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 600_000).default(defaultConnectionConfig.headersTimeoutMs),
  HTTP1_REQUEST_TIMEOUT_MS: integer(100, 3_600_000).default(
    defaultConnectionConfig.http1RequestTimeoutMs,
  ),
  HTTP1_KEEP_ALIVE_TIMEOUT_MS: integer(100, 600_000).default(
    defaultConnectionConfig.http1KeepAliveTimeoutMs,
  ),
  HTTP2_IDLE_TIMEOUT_MS: integer(100, 86_400_000).default(
    defaultConnectionConfig.http2IdleTimeoutMs,
  ),
  HTTP2_MAX_CONCURRENT_STREAMS: integer(1, 10_000).default(
    defaultConnectionConfig.http2MaxConcurrentStreams,
  ),
  MAX_CONNECTIONS: integer(1, 1_000_000).default(defaultConnectionConfig.maxConnections),
  LOG_LEVEL: logLevel.default("info"),
  QUOTA_USER_PROFILES_PER_SECOND: integer(0, 10_000_000).default(2000),
  QUOTA_USER_PROFILES_BURST: integer(1, 100_000_000).default(20_000),
  // Service tokens are our own backends: no limit unless an operator sets one.
  QUOTA_SERVICE_PROFILES_PER_SECOND: integer(0, 10_000_000).default(0),
  QUOTA_SERVICE_PROFILES_BURST: integer(1, 100_000_000).default(500_000),
  QUOTA_UPDATE_COST: integer(1, 1_000_000).default(100),
  HEALTH_WATCH_MAX_STREAMS: integer(1, 1_000_000).default(1000),
  // RFC 7518 section 3.2: an HS256 key must have at least 256 bits.
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_JWKS_ALGORITHMS: commaList("RS256,ES256").pipe(z.array(z.enum(asymmetricAlgorithms)).min(1)),
  JWT_JWKS_TIMEOUT_MS: integer(1, 60_000).default(3000),
  JWT_ISSUER: z.string().default("realchat-auth"),
  JWT_AUDIENCE: z.string().default("realchat-clients"),
  JWT_CLOCK_TOLERANCE_SECONDS: integer(0, 300).default(30),
  NATS_URL: z
    .string()
    .regex(/^(nats|tls|wss?):\/\/[^\s]+$/, "must be a nats:// (or tls://, ws://, wss://) URL")
    .optional(),
  EVENTS_ENCODING: z.enum(["protobuf", "json"]).default("protobuf"),
  EVENTS_CREATE_STREAMS: boolean.default(true),
  OUTBOX_POLL_INTERVAL_MS: integer(10, 600_000).default(1000),
  OUTBOX_RETENTION_HOURS: integer(0, 24 * 365).default(24),
  PROFILE_CACHE_ENABLED: boolean.default(true),
  PROFILE_CACHE_MAX_BYTES: integer(1024 * 1024, 2 ** 40).default(128 * 1024 * 1024),
  PROFILE_CACHE_TTL_MS: integer(1, 86_400_000).default(300_000),
  WATCH_MAX_IDS: integer(1, 1000).default(1000),
  WATCH_MAX_PER_CALLER: integer(1, 1_000_000).default(16),
  WATCH_MAX_STREAMS: integer(1, 1_000_000).default(10_000),
});

/**
 * Reads and validates the configuration. Empty variables count as unset.
 *
 * @throws ConfigError naming every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => name in environment.shape && value !== ""),
  );
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${String(issue.path[0])}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    throw new ConfigError("invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE go together");
  }
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP1_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      "invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP1_REQUEST_TIMEOUT_MS",
    );
  }
  const hasJwtSettings = e.JWT_SECRET !== undefined || e.JWT_JWKS_URL !== undefined;
  if (e.DATABASE_URL !== undefined && !hasJwtSettings) {
    throw new ConfigError(
      "invalid configuration: DATABASE_URL is set but neither JWT_SECRET nor JWT_JWKS_URL: " +
        "refusing to run a deployment without authentication",
    );
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    database:
      e.DATABASE_URL === undefined
        ? { kind: "pglite" as const, dataDir: e.DATA_DIR }
        : {
            kind: "postgres" as const,
            url: e.DATABASE_URL,
            poolMax: e.DB_POOL_MAX,
            preparedStatements: e.DB_PREPARED_STATEMENTS,
          },
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    migrateOnStart: e.MIGRATE_ON_START,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    allowHttpAvatarUrls: e.ALLOW_HTTP_AVATAR_URLS,
    tls:
      e.TLS_CERT_FILE !== undefined && e.TLS_KEY_FILE !== undefined
        ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE }
        : undefined,
    corsAllowedOrigins:
      present.CORS_ALLOWED_ORIGINS === undefined && !hasJwtSettings
        ? exampleWebOrigins
        : e.CORS_ALLOWED_ORIGINS,
    grpcUnaryFastPath: e.GRPC_UNARY_FAST_PATH,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    quotas: {
      user: { perSecond: e.QUOTA_USER_PROFILES_PER_SECOND, burst: e.QUOTA_USER_PROFILES_BURST },
      service: {
        perSecond: e.QUOTA_SERVICE_PROFILES_PER_SECOND,
        burst: e.QUOTA_SERVICE_PROFILES_BURST,
      },
      updateCost: e.QUOTA_UPDATE_COST,
    },
    healthWatchMaxStreams: e.HEALTH_WATCH_MAX_STREAMS,
    connections: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      http1RequestTimeoutMs: e.HTTP1_REQUEST_TIMEOUT_MS,
      http1KeepAliveTimeoutMs: e.HTTP1_KEEP_ALIVE_TIMEOUT_MS,
      http2IdleTimeoutMs: e.HTTP2_IDLE_TIMEOUT_MS,
      http2MaxConcurrentStreams: e.HTTP2_MAX_CONCURRENT_STREAMS,
      maxConnections: e.MAX_CONNECTIONS,
    },
    logLevel: e.LOG_LEVEL,
    auth: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      jwksAlgorithms: e.JWT_JWKS_ALGORITHMS,
      jwksTimeoutMs: e.JWT_JWKS_TIMEOUT_MS,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_SECONDS,
      development: !hasJwtSettings,
    },
    events: {
      natsUrl: e.NATS_URL,
      encoding: e.EVENTS_ENCODING,
      createStreams: e.EVENTS_CREATE_STREAMS,
      outboxPollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      outboxRetentionSeconds: e.OUTBOX_RETENTION_HOURS * 3600,
    },
    profileCache: {
      enabled: e.PROFILE_CACHE_ENABLED,
      maxBytes: e.PROFILE_CACHE_MAX_BYTES,
      ttlMs: e.PROFILE_CACHE_TTL_MS,
    },
    watch: {
      maxIdsPerWatch: e.WATCH_MAX_IDS,
      maxWatchesPerCaller: e.WATCH_MAX_PER_CALLER,
      maxWatchers: e.WATCH_MAX_STREAMS,
    },
  });
}
