import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import type { Logger } from "pino";
import { loadOrCreateDevelopmentSecret } from "./auth/development-secret.js";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier.js";
import type { Config } from "./config/config.js";
import { migrateToLatest, pendingMigrations } from "./db/migrate.js";
import { type DatabaseHandle, openDatabase } from "./db/open.js";
import { type Events, startEvents } from "./events/events.js";
import { outboxBacklog } from "./events/outbox/outbox-repository.js";
import { announcingSocialGraphStore } from "./graph/live/announcing-store.js";
import { createPageTokens } from "./graph/page-token.js";
import { createSocialGraphService, type SocialGraphService } from "./graph/service.js";
import { DEFAULT_SOCIAL_GRAPH_LIMITS } from "./graph/social-graph.js";
import { createSocialGraphStore } from "./graph/sql/repository.js";
import { createLogger } from "./ops/logger.js";
import { createMetrics, type Metrics } from "./ops/metrics.js";
import { type Readiness, startReadiness } from "./ops/readiness.js";
import { type Clock, systemClock } from "./profile/clock.js";
import { announcingPrivacyStore, announcingProfileStore } from "./profile/live/announcing-store.js";
import { createProfileCache, type ProfileCache } from "./profile/live/cache.js";
import { cachedProfileStore } from "./profile/live/cached-store.js";
import type { ProfileFeed } from "./profile/live/feed.js";
import { createProfileFeed, type ProfileFeedEnds } from "./profile/live/feed.js";
import { cachedPrivacyStore, createVisibilityCache } from "./profile/live/visibility-cache.js";
import { createWatchHub } from "./profile/live/watch.js";
import { cachedProfileWeight } from "./profile/rpc/stored-encoding.js";
import { createProfileService, type ProfileService } from "./profile/service.js";
import { createPrivacyStore } from "./profile/sql/privacy.js";
import { createProfileStore } from "./profile/sql/repository.js";
import { createSearchStore } from "./profile/sql/search.js";
import type { PrivacyStore } from "./profile/store.js";
import { createRequestHandler, type HandlerDependencies } from "./transport/handler.js";
import { createRoutes, type Routes } from "./transport/routes.js";
import { createRpcOptions } from "./transport/rpc-options.js";
import type { RequestHandler } from "./transport/server.js";

/** What a caller (a test, a benchmark) brings instead of what the configuration would build. */
export interface ComposeOverrides {
  /**
   * An open database, used instead of opening `config.database`. Its owner closes it: `stop()`
   * leaves it open.
   */
  readonly database?: DatabaseHandle;
  readonly verifyToken?: TokenVerifier;
  readonly logger?: Logger;
  /** How often readiness checks the database; 2 s by default. */
  readonly readinessIntervalMs?: number;
  /**
   * Builds a request handler from the wired parts, once per door (the internal door's with its
   * own options); `createRequestHandler` by default.
   */
  readonly requestHandler?: (dependencies: HandlerDependencies) => RequestHandler;
  /** What the handle use cases read the time from (a handle's cooldown and hold); the system's. */
  readonly clock?: Clock;
}

/** The composed service: the handler to serve, its parts for a caller that looks inside, and one way to stop. */
export interface App {
  /** What the public port serves: callers are known by their bearer token only. */
  readonly handler: RequestHandler;
  /**
   * What the trusted internal door serves (INTERNAL_PORT): the same routes, services, quotas,
   * metrics and caches, but a caller without a token is the user its `x-user-id` names; no CORS.
   * Built only when `config.internal` is set.
   */
  readonly internalHandler: RequestHandler | undefined;
  /** The RPC routes and the options every serving path applies to them (in-memory tests use both). */
  readonly routes: Routes;
  readonly rpcOptions: Partial<UniversalHandlerOptions>;
  /** The internal door's options: `rpcOptions` with the gate that trusts `x-user-id`. */
  readonly internalRpcOptions: Partial<UniversalHandlerOptions>;
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
   * Shuts down in order: readiness turns false at once and open watches end, then
   * `closeListeners` (which lets in-flight calls finish), then the event side stops and drains its
   * broker connection, then the database closes (unless it was given). Calling it again waits for
   * the same shutdown.
   */
  stop(closeListeners?: () => Promise<void>): Promise<void>;
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
 * if MIGRATE_ON_START, token verification, the domain services, the event side, readiness,
 * metrics, the routes and the request handler). It never listens: `main.ts`, the tests and the
 * benchmarks hand `handler` to a server of their own, each overriding only what it must.
 */
export async function compose(config: Config, overrides: ComposeOverrides = {}): Promise<App> {
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
    const profileFeed = createProfileFeed({ alwaysLive: database.embedded });
    const cache = startProfileCache(config, database, profileFeed, logger);
    const announcingStore = announcingProfileStore(createProfileStore(db), profileFeed.source);
    const profiles = createProfileService(
      cache === undefined ? announcingStore : cachedProfileStore(announcingStore, cache),
      { allowHttpAvatarUrls: config.allowHttpAvatarUrls },
      privacyStoreOf(config, database, profileFeed),
      createSearchStore(db),
      { rules: config.handles, clock: overrides.clock ?? systemClock },
    );
    const socialGraph = createSocialGraphService({
      store: announcingSocialGraphStore(createSocialGraphStore(db), profileFeed.source),
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
    const routes = createRoutes({
      profiles,
      socialGraph,
      watches,
      readiness,
      healthWatchMaxStreams: config.healthWatchMaxStreams,
    });
    // One set of interceptors for both doors: a user's quota is the same whichever they use.
    const rpcOptionsFor = createRpcOptions({ config, logger, verifyToken, metrics });
    const rpcOptions = rpcOptionsFor("bearer");
    const internalRpcOptions = rpcOptionsFor("bearer-or-user-id-header");
    const buildHandler = overrides.requestHandler ?? createRequestHandler;
    const handler = buildHandler({ config, routes, rpcOptions, readiness, metrics });
    // Browsers have no business on the internal door: no CORS grant lets a page send x-user-id.
    const internalHandler =
      config.internal === undefined
        ? undefined
        : buildHandler({
            config: { ...config, corsAllowedOrigins: [] },
            routes,
            rpcOptions: internalRpcOptions,
            readiness,
            metrics,
          });

    let stopped: Promise<void> | undefined;
    const stop = async (closeListeners: () => Promise<void>) => {
      readiness.markShuttingDown();
      // Open watches end at once with UNAVAILABLE (clients reconnect elsewhere): a stream never
      // finishes by itself, so waiting for it would only spend the grace period.
      watches.close();
      await closeListeners();
      await events.stop();
      readiness.stop();
      if (ownsDatabase) await database.close();
    };
    return {
      handler,
      internalHandler,
      routes,
      rpcOptions,
      internalRpcOptions,
      database,
      profiles,
      profileFeed: profileFeed.feed,
      socialGraph,
      events,
      readiness,
      metrics,
      logger,
      stop(closeListeners = async () => {}) {
        stopped ??= stop(closeListeners);
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
 * without NATS_URL the feed is never live (other instances may write unseen): it never serves.
 */
function startProfileCache(
  config: Config,
  database: DatabaseHandle,
  profileFeed: ProfileFeedEnds,
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
    serving: profileFeed.feed.live(),
  });
  profileFeed.feed.subscribe(cache.listener);
  return cache;
}

/**
 * Most owners' settings, and most (viewer, owner) pairs' relations, the visibility cache keeps
 * beside the profile cache (docs/cache.md, "Bounds").
 */
const VISIBILITY_CACHE_ENTRIES = 200_000;

/**
 * The privacy settings and relation facts the visibility rules read: announced to the feed on
 * every change, and behind the visibility cache when the profile cache is on (it follows the same
 * feed, under the same rules).
 */
function privacyStoreOf(
  config: Config,
  database: DatabaseHandle,
  profileFeed: ProfileFeedEnds,
): PrivacyStore {
  const cached = config.profileCache.enabled;
  const store = announcingPrivacyStore(
    createPrivacyStore(database.db, { completeFacts: cached }),
    profileFeed.source,
  );
  if (!cached) return store;
  const cache = createVisibilityCache({
    maxEntries: VISIBILITY_CACHE_ENTRIES,
    ttlMs: config.profileCache.ttlMs,
    serving: profileFeed.feed.live(),
  });
  profileFeed.feed.subscribe(cache.listener);
  return cachedPrivacyStore(store, cache);
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
