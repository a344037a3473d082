import type { Kysely } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { type AppConfig, type AppDependencies, createRequestHandler } from "../../src/app.js";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { loadConfig } from "../../src/config.js";
import { pendingMigrations } from "../../src/db/migrate.js";
import type { Database } from "../../src/db/schema.js";
import { outboxBacklog } from "../../src/events/outbox-repository.js";
import { type Readiness, startReadiness } from "../../src/health/readiness.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createProfileStore } from "../../src/profile/profile-repository.js";
import type { FieldRuleOptions } from "../../src/profile/profile-rules.js";
import { createProfileService } from "../../src/profile/profile-service.js";
import { createServer, type RequestHandler, type ServerOptions } from "../../src/server.js";
import { testTokenVerifier } from "./auth.js";
import { createTestDatabase, silentLogger, type TestDatabase } from "./databases.js";
import { testGrpcUnaryFastPath } from "./environment.js";

/** The RPC side's configuration, and the field rules' one option. */
export type TestServerConfig = AppConfig & FieldRuleOptions;

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

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  readonly port: number;
  readonly readiness: Readiness;
  /** Closes gracefully: in-flight calls get `graceMs` (default 1 s) to finish. */
  close(graceMs?: number): Promise<void>;
}

/** What the app is built from in tests: the given database, a silent logger, test tokens. */
export async function createTestAppDependencies(
  db: Kysely<Database>,
  config: Partial<TestServerConfig> = {},
  verifyToken: TokenVerifier = testTokenVerifier,
): Promise<AppDependencies> {
  const { allowHttpAvatarUrls, ...appConfig } = { ...defaultTestConfig, ...config };
  const readiness = await startReadiness({
    db,
    pendingMigrations: () => pendingMigrations(db),
    eventState: () => "disabled",
    intervalMs: 250,
    logger: silentLogger,
  });
  return {
    config: appConfig,
    profiles: createProfileService(createProfileStore(db), { allowHttpAvatarUrls }),
    logger: silentLogger,
    verifyToken,
    readiness,
    metrics: createMetrics({ outboxBacklog: () => outboxBacklog(db) }),
  };
}

/** The real server on a free port of 127.0.0.1, over the given (already migrated) database. */
export async function startTestServer(
  db: Kysely<Database>,
  config: Partial<TestServerConfig> = {},
  serverOptions: ServerOptions = {},
  verifyToken: TokenVerifier = testTokenVerifier,
): Promise<TestServer> {
  const dependencies = await createTestAppDependencies(db, config, verifyToken);
  return listenForTests(createRequestHandler(dependencies), dependencies.readiness, serverOptions);
}

/** Serves `handler` on a free port of 127.0.0.1; closing it stops `readiness` too. */
export async function listenForTests(
  handler: RequestHandler,
  readiness: Readiness,
  serverOptions: ServerOptions = {},
): Promise<TestServer> {
  const server = createServer(handler, serverOptions);
  const { port } = await server.listen(0, "127.0.0.1");
  const scheme = serverOptions.tls === undefined ? "http" : "https";
  return {
    baseUrl: `${scheme}://127.0.0.1:${port}`,
    port,
    readiness,
    async close(graceMs = 1000) {
      readiness.stop();
      await server.close(graceMs);
    },
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
