import type { Logger } from "pino";
import { createRequestHandler } from "./app.js";
import { loadOrCreateDevelopmentSecret } from "./auth/development-secret.js";
import { createTokenVerifier } from "./auth/token-verifier.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { DataDirLockedError } from "./db/data-dir-lock.js";
import { migrateToLatest, pendingMigrations } from "./db/migrate.js";
import { type DatabaseHandle, openDatabase } from "./db/open-database.js";
import { type Events, startEvents } from "./events/events.js";
import { outboxBacklog } from "./events/outbox-repository.js";
import { type Readiness, startReadiness } from "./health/readiness.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./observability/metrics.js";
import { createProfileStore } from "./profile/profile-repository.js";
import { createProfileService } from "./profile/profile-service.js";
import { createServer, type Server } from "./server.js";

/** How often readiness checks the database. */
const READINESS_INTERVAL_MS = 2000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config.database, {
    statementTimeoutMs: config.statementTimeoutMs,
    logger,
  });
  const { db } = database;
  if (config.database.kind === "pglite") {
    logger.warn(
      { dataDir: config.database.dataDir },
      "using embedded PGlite: one instance only; set DATABASE_URL for PostgreSQL",
    );
  }
  if (config.migrateOnStart) {
    const applied = await migrateToLatest(db);
    logger.info({ applied }, "database schema up to date");
  }
  const verifyToken = createTokenVerifier({
    ...config.auth,
    secret: await signingSecret(config, logger),
  });
  const profiles = createProfileService(createProfileStore(db), {
    allowHttpAvatarUrls: config.allowHttpAvatarUrls,
  });
  const events = startEvents({ config: config.events, database, profiles, logger });
  const readiness = await startReadiness({
    db,
    pendingMigrations: () => pendingMigrations(db),
    eventState: events.state,
    intervalMs: READINESS_INTERVAL_MS,
    logger,
  });
  const metrics = createMetrics({
    pool: database.poolStats,
    outboxBacklog: () => outboxBacklog(db),
    events: () => ({ stats: events.stats, state: events.state() }),
  });
  const handler = createRequestHandler({
    config,
    profiles,
    logger,
    verifyToken,
    readiness,
    metrics,
  });
  const server = createServer(handler, { tls: config.tls, limits: config.connections });
  const address = await server.listen(config.port, config.host);
  logger.info(
    { address: address.address, port: address.port, tls: config.tls !== undefined },
    "profile service listening",
  );
  shutDownOnSignal({
    server,
    readiness,
    events,
    database,
    logger,
    graceMs: config.shutdownTimeoutMs,
  });
}

/** JWT_SECRET, or in embedded development mode the generated one (with a loud warning). */
async function signingSecret(config: Config, logger: Logger): Promise<string | undefined> {
  if (!config.auth.development || config.database.kind !== "pglite") return config.auth.secret;
  const secret = await loadOrCreateDevelopmentSecret(config.database.dataDir);
  logger.warn(
    { dataDir: config.database.dataDir },
    "DEVELOPMENT CREDENTIALS: no JWT_SECRET or JWT_JWKS_URL set, tokens are verified with a " +
      "secret generated in the data directory; get one with `npm run token -- <user-id>`. " +
      "Never run like this in production.",
  );
  return secret;
}

function shutDownOnSignal(parts: {
  server: Server;
  readiness: Readiness;
  events: Events;
  database: DatabaseHandle;
  logger: Logger;
  graceMs: number;
}): void {
  const { server, readiness, events, database, logger, graceMs } = parts;
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "shutting down");
    // Orchestrators see "not ready" at once; the listener closes, in-flight calls get
    // SHUTDOWN_TIMEOUT_MS to finish, then the broker connection drains and the pool closes.
    readiness.markShuttingDown();
    await server.close(graceMs);
    await events.stop();
    readiness.stop();
    await database.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    if (error instanceof Error && error.cause !== undefined) {
      process.stderr.write(`caused by: ${String(error.cause)}\n`);
    }
  }
  process.exit(1);
});
