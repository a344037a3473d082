import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { afterAll, beforeAll } from "vitest";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { type App, type ComposeOverrides, compose } from "../../src/compose.js";
import {
  type Config,
  defaultConnectionConfig,
  type EventsConfig,
  type InternalDoorConfig,
  type ProfileCacheConfig,
} from "../../src/config/config.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { DatabaseHandle } from "../../src/db/open.js";
import type { Database } from "../../src/db/schema.js";
import type { FieldRuleOptions } from "../../src/profile/rules.js";
import type { HandlerConfig } from "../../src/transport/handler.js";
import { listen } from "../../src/transport/listen.js";
import type { RpcConfig } from "../../src/transport/rpc-options.js";
import type { ServerOptions } from "../../src/transport/server.js";
import { testTokenVerifier } from "./auth.js";
import { createTestDatabase, silentLogger, type TestDatabase } from "./databases.js";
import { testGrpcUnaryFastPath } from "./environment.js";

/** The RPC side's configuration, the field rules' one option, and WatchProfiles' limits. */
export type TestServerConfig = RpcConfig &
  HandlerConfig &
  FieldRuleOptions &
  Partial<Pick<Config, "watch">>;

/** The defaults a deployment gets, for what tests do not set themselves. */
const deploymentDefaults = loadConfig({});

export const defaultTestConfig: TestServerConfig = {
  requestTimeoutMs: 10_000,
  maxRequestBytes: 1024 * 1024,
  allowHttpAvatarUrls: false,
  corsAllowedOrigins: [],
  grpcUnaryFastPath: testGrpcUnaryFastPath,
  // The suite runs under the deployment's quotas and caps, so a default that hurts shows here.
  quotas: deploymentDefaults.quotas,
  healthWatchMaxStreams: deploymentDefaults.healthWatchMaxStreams,
};

/** How a test server is built, besides its RPC configuration. */
export interface TestServerOptions extends ServerOptions {
  /** Silent unless given. */
  readonly logger?: Logger;
  /** The event side's settings; off (no NATS_URL) unless given. Needs a DatabaseHandle. */
  readonly events?: Partial<EventsConfig>;
  /** The read cache's settings; the deployment's defaults unless given. */
  readonly profileCache?: Partial<ProfileCacheConfig>;
  readonly requestHandler?: ComposeOverrides["requestHandler"];
  /** The handle use cases' clock; the system's unless given. */
  readonly clock?: ComposeOverrides["clock"];
  /**
   * The trusted internal door, on a free port of 127.0.0.1 too, when given; its trusted peers are
   * the deployment's defaults (loopback among them) unless given.
   */
  readonly internal?: Partial<Omit<InternalDoorConfig, "port" | "host">>;
}

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  readonly port: number;
  /** The internal door's, e.g. http://127.0.0.1:41235; only with the `internal` option. */
  readonly internalBaseUrl: string | undefined;
  readonly internalPort: number | undefined;
  /** The running service's parts: readiness, metrics, events, … */
  readonly service: App;
  /** Closes gracefully: in-flight calls get `graceMs` (default 1 s) to finish. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The real service (src/compose.ts) on a free port of 127.0.0.1, over the given (already
 * migrated) database, which the test closes itself.
 */
export async function startTestServer(
  database: Kysely<Database> | DatabaseHandle,
  config: Partial<TestServerConfig> = {},
  options: TestServerOptions = {},
  verifyToken: TokenVerifier = testTokenVerifier,
): Promise<TestServer> {
  const configured = testServiceConfig(config, options);
  const service = await compose(configured, {
    database: "listen" in database ? database : withoutNotifications(database),
    verifyToken,
    logger: options.logger ?? silentLogger,
    readinessIntervalMs: 250,
    requestHandler: options.requestHandler,
    clock: options.clock,
  });
  const listening = await listen(service, configured);
  const { port } = listening.address;
  const scheme = options.tls === undefined ? "http" : "https";
  const internalPort = listening.internalAddress?.port;
  const internalScheme = configured.internal?.tls === undefined ? "http" : "https";
  return {
    baseUrl: `${scheme}://127.0.0.1:${port}`,
    port,
    internalBaseUrl:
      internalPort === undefined ? undefined : `${internalScheme}://127.0.0.1:${internalPort}`,
    internalPort,
    service,
    close: (graceMs = 1000) => listening.stop(graceMs),
  };
}

/** The service's configuration in tests: the deployment's defaults, and what the test sets. */
export function testServiceConfig(
  config: Partial<TestServerConfig>,
  options: TestServerOptions = {},
): Config {
  return {
    ...deploymentDefaults,
    ...defaultTestConfig,
    ...config,
    port: 0,
    host: "127.0.0.1",
    migrateOnStart: false,
    tls: options.tls,
    internal:
      options.internal === undefined
        ? undefined
        : {
            trustedCidrs: loadConfig({ INTERNAL_PORT: "0" }).internal?.trustedCidrs ?? [],
            tls: undefined,
            ...options.internal,
            port: 0,
            host: "127.0.0.1",
          },
    connections: { ...defaultConnectionConfig, ...options.limits },
    events: { ...deploymentDefaults.events, natsUrl: undefined, ...options.events },
    profileCache: { ...deploymentDefaults.profileCache, ...options.profileCache },
  };
}

/** A bare Kysely instance as a handle, for a server without the event side. */
function withoutNotifications(db: Kysely<Database>): DatabaseHandle {
  return {
    db,
    embedded: false,
    listen: () =>
      Promise.reject(new Error("the event side needs a DatabaseHandle: pass database.handle")),
    poolStats: () => undefined,
    close: () => db.destroy(),
  };
}

/**
 * Gives a test file a database of its own and a server on it, for all its tests, and removes
 * both after them. Read `fixture.server` and `fixture.database` inside tests and hooks.
 */
export function useTestServer(): { readonly database: TestDatabase; readonly server: TestServer } {
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer(database.db);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useTestServer: read it inside tests or hooks");
    return value;
  };
  return {
    get database() {
      return ready(database);
    },
    get server() {
      return ready(server);
    },
  };
}
