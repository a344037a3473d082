import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { type AppDependencies, createRequestHandler } from "./app.js";
import { loadOrCreateDevelopmentSecret } from "./auth/development-secret.js";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier.js";
import type { Config } from "./config.js";
import { migrateToLatest, pendingMigrations } from "./db/migrate.js";
import { type DatabaseHandle, openDatabase } from "./db/open-database.js";
import { type Events, startEvents } from "./events/events.js";
import { outboxBacklog } from "./events/outbox/outbox-repository.js";
import { createPageTokens } from "./graph/page-token.js";
import { DEFAULT_SOCIAL_GRAPH_LIMITS } from "./graph/social-graph.js";
import { createSocialGraphStore } from "./graph/social-graph-repository.js";
import { createSocialGraphService, type SocialGraphService } from "./graph/social-graph-service.js";
import { type Readiness, startReadiness } from "./health/readiness.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./observability/metrics.js";
import { announcingProfileStore } from "./profile/announcing-profile-store.js";
import { cachedProfileStore } from "./profile/cached-profile-store.js";
import { createProfileCache, type ProfileCache } from "./profile/profile-cache.js";
import type { ProfileFeed } from "./profile/profile-feed.js";
import { createProfileFeedHub, type ProfileFeedHub } from "./profile/profile-feed-hub.js";
import { createProfileStore } from "./profile/profile-repository.js";
import { createProfileService, type ProfileService } from "./profile/profile-service.js";
import { createWatchHub } from "./profile/profile-watch-hub.js";
import { cachedProfileWeight } from "./profile/profile-wire.js";
import { createServer, type RequestHandler } from "./server.js";

/** What a caller (a test, a benchmark) brings instead of what the configuration would build. */
export interface ServiceOverrides {
  /**
   * An open database, used instead of opening `config.database`. Its owner closes it: `stop()`
   * leaves it open.
   */
  readonly database?: DatabaseHandle;
  readonly verifyToken?: TokenVerifier;
  readonly logger?: Logger;
  /** How often readiness checks the database; 2 s by default. */
  readonly readinessIntervalMs?: number;
  /** Builds the request handler from the wired parts; `createRequestHandler` by default. */
  readonly requestHandler?: (dependencies: AppDependencies) => RequestHandler;
}

/** The started service: its parts, for a caller that looks inside, and one way to stop it. */
export interface Service {
  /** Where the server listens (the port chosen when `config.port` is 0). */
  readonly address: AddressInfo;
  readonly database: DatabaseHandle;
  readonly profiles: ProfileService;
  /** Every profile change this instance learns of (docs/cache.md). */
  readonly profileFeed: ProfileFeed;
  readonly socialGraph: SocialGraphService;
  readonly events: Events;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * Shuts down in order: readiness turns false at once, the listener closes and in-flight calls
   * get `graceMs` (default SHUTDOWN_TIMEOUT_MS) to finish, the event side stops and drains its
   * broker connection, then the database closes (unless it was given). Calling it again waits for
   * the same shutdown.
   */
  stop(graceMs?: number): Promise<void>;
}

/** How often readiness checks the database. */
const READINESS_INTERVAL_MS = 2000;

/**
 * Keys the tags of list page tokens. Not a secret (graph/page-token.ts says why); fixed, so that
 * every instance accepts every other's tokens.
 */
const PAGE_TOKEN_KEY = "realchat-profile social graph page token v1";

/**
 * The composition root: builds the whole service from its configuration (the database, migrated
 * if MIGRATE_ON_START, token verification, the profile service, the event side, readiness,
 * metrics, the request handler and the server) and starts listening. `npm start`, the tests and
 * the benchmarks all start the service here, each overriding only what it must.
 */
export async function createService(
  config: Config,
  overrides: ServiceOverrides = {},
): Promise<Service> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const ownsDatabase = overrides.database === undefined;
  const database =
    overrides.database ??
    (await openDatabase(config.database, {
      statementTimeoutMs: config.statementTimeoutMs,
      logger,
    }));
  const cleanups: Array<() => Promise<void>> = [];
  if (ownsDatabase) cleanups.push(() => database.close());
  try {
    const { db } = database;
    if (ownsDatabase && config.database.kind === "pglite") {
      logger.warn(
        { dataDir: config.database.dataDir },
        "using embedded PGlite: one instance only; set DATABASE_URL for PostgreSQL",
      );
    }
    if (config.migrateOnStart) {
      const applied = await migrateToLatest(db);
      logger.info({ applied }, "database schema up to date");
    }
    const verifyToken =
      overrides.verifyToken ??
      createTokenVerifier({ ...config.auth, secret: await signingSecret(config, logger) });
    const profileFeed = createProfileFeedHub({ alwaysLive: database.embedded });
    const cache = startProfileCache(config, database, profileFeed, logger);
    const announcingStore = announcingProfileStore(createProfileStore(db), profileFeed.source);
    const profiles = createProfileService(
      cache === undefined ? announcingStore : cachedProfileStore(announcingStore, cache),
      { allowHttpAvatarUrls: config.allowHttpAvatarUrls },
    );
    const socialGraph = createSocialGraphService({
      store: createSocialGraphStore(db),
      profiles,
      pageTokens: createPageTokens(PAGE_TOKEN_KEY),
      limits: DEFAULT_SOCIAL_GRAPH_LIMITS,
    });
    const metrics = createMetrics({
      pool: database.poolStats,
      outboxBacklog: () => outboxBacklog(db),
      profileCache: cache?.stats,
    });
    const events = startEvents({
      config: config.events,
      database,
      profiles,
      profileFeed: profileFeed.source,
      logger,
      metrics: metrics.events,
    });
    cleanups.unshift(() => events.stop());
    const readiness = await startReadiness({
      db,
      pendingMigrations: () => pendingMigrations(db),
      eventState: events.state,
      intervalMs: overrides.readinessIntervalMs ?? READINESS_INTERVAL_MS,
      logger,
    });
    cleanups.unshift(async () => readiness.stop());
    const watches = createWatchHub(profileFeed.feed, config.watch, metrics.watch);
    cleanups.unshift(async () => watches.close());
    const handler = (overrides.requestHandler ?? createRequestHandler)({
      config,
      profiles,
      socialGraph,
      watches,
      logger,
      verifyToken,
      readiness,
      metrics,
    });
    const server = createServer(handler, {
      tls: config.tls,
      limits: config.connections,
      onConnectionRefused: metrics.connectionRefused,
    });
    const address = await server.listen(config.port, config.host);
    logger.info(
      { address: address.address, port: address.port, tls: config.tls !== undefined },
      "profile service listening",
    );

    let stopped: Promise<void> | undefined;
    const stop = async (graceMs: number) => {
      readiness.markShuttingDown();
      // Open watches end at once with UNAVAILABLE (clients reconnect elsewhere): a stream never
      // finishes by itself, so waiting for it would only spend the grace period.
      watches.close();
      await server.close(graceMs);
      await events.stop();
      readiness.stop();
      if (ownsDatabase) await database.close();
    };
    return {
      address,
      database,
      profiles,
      profileFeed: profileFeed.feed,
      socialGraph,
      events,
      readiness,
      metrics,
      logger,
      stop(graceMs = config.shutdownTimeoutMs) {
        stopped ??= stop(graceMs);
        return stopped;
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw error;
  }
}

/**
 * The read cache, fed by the profile feed; none when PROFILE_CACHE_ENABLED=false. On PostgreSQL
 * without NATS_URL the feed is never live (other instances may write unseen), so the cache never
 * serves.
 */
function startProfileCache(
  config: Config,
  database: DatabaseHandle,
  hub: ProfileFeedHub,
  logger: Logger,
): ProfileCache | undefined {
  if (!config.profileCache.enabled) return undefined;
  if (!database.embedded && config.events.natsUrl === undefined) {
    logger.warn(
      "the profile cache does not serve: on PostgreSQL it needs the profile events (NATS_URL)",
    );
  }
  const cache = createProfileCache({
    maxBytes: config.profileCache.maxBytes,
    ttlMs: config.profileCache.ttlMs,
    weigh: cachedProfileWeight,
    serving: hub.feed.live(),
  });
  hub.feed.subscribe(cache.listener);
  return cache;
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
