import { z } from "zod";
import { DEFAULT_TRUSTED_CIDRS, parseCidr } from "./cidr.js";
import {
  type Config,
  defaultConnectionConfig,
  exampleWebOrigins,
  type LogLevel,
} from "./config.js";
import { handleConfigOf, handleEnvironment } from "./handle-config.js";

/** A configuration variable that is missing or malformed; the message names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const logLevel = z.enum([
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
]) satisfies z.ZodType<LogLevel>;
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
const cidrList = commaList(DEFAULT_TRUSTED_CIDRS.join(",")).pipe(
  z
    .array(
      z.string().transform((text, context) => {
        const cidr = parseCidr(text);
        if (cidr !== undefined) return cidr;
        context.addIssue({
          code: "custom",
          message: `"${text}" is not an IP network such as 10.0.0.0/8 or fd00::/8`,
        });
        return z.NEVER;
      }),
    )
    .min(1),
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
  INTERNAL_PORT: integer(0, 65535).optional(),
  INTERNAL_HOST: z.string().default("0.0.0.0"),
  INTERNAL_TRUSTED_CIDRS: cidrList,
  INTERNAL_TLS_CERT_FILE: z.string().optional(),
  INTERNAL_TLS_KEY_FILE: z.string().optional(),
  INTERNAL_TLS_CLIENT_CA_FILE: z.string().optional(),
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
  QUOTA_SEARCH_COST: integer(1, 1_000_000).default(100),
  QUOTA_HANDLE_LOOKUP_COST: integer(1, 1_000_000).default(20),
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
  ...handleEnvironment,
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
  const internal = internalDoor(e, present);
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
    internal,
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
      searchCost: e.QUOTA_SEARCH_COST,
      handleLookupCost: e.QUOTA_HANDLE_LOOKUP_COST,
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
    handles: handleConfigOf(e),
  });
}

/** The internal door's settings, or none without INTERNAL_PORT; refuses settings that conflict. */
function internalDoor(
  e: z.infer<typeof environment>,
  present: Record<string, unknown>,
): Config["internal"] {
  if (e.INTERNAL_PORT === undefined) {
    const stray = Object.keys(present).filter((name) => name.startsWith("INTERNAL_"));
    if (stray.length > 0) {
      throw new ConfigError(
        `invalid configuration: ${stray.join(", ")} set but not INTERNAL_PORT, which turns the internal door on`,
      );
    }
    return undefined;
  }
  if (e.INTERNAL_PORT !== 0 && e.INTERNAL_PORT === e.PORT) {
    throw new ConfigError(
      "invalid configuration: INTERNAL_PORT must differ from PORT: the internal door trusts " +
        "x-user-id, so it never shares the public port",
    );
  }
  const { INTERNAL_TLS_CERT_FILE: certFile, INTERNAL_TLS_KEY_FILE: keyFile } = e;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      "invalid configuration: INTERNAL_TLS_CERT_FILE and INTERNAL_TLS_KEY_FILE go together",
    );
  }
  const clientCaFile = e.INTERNAL_TLS_CLIENT_CA_FILE;
  if (clientCaFile !== undefined && certFile === undefined) {
    throw new ConfigError(
      "invalid configuration: INTERNAL_TLS_CLIENT_CA_FILE (mTLS) needs INTERNAL_TLS_CERT_FILE " +
        "and INTERNAL_TLS_KEY_FILE",
    );
  }
  return {
    port: e.INTERNAL_PORT,
    host: e.INTERNAL_HOST,
    trustedCidrs: e.INTERNAL_TRUSTED_CIDRS,
    tls:
      certFile === undefined || keyFile === undefined
        ? undefined
        : { certFile, keyFile, ...(clientCaFile === undefined ? {} : { clientCaFile }) },
  };
}
