import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { type Dialect, Kysely, PostgresDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import type { Logger } from "pino";
import type { DatabaseConfig } from "../config/config.js";
import { type DataDirLock, lockDataDir } from "./lock.js";
import { attachStatementRunner, withNamedStatements } from "./named-statements.js";
import type { Database } from "./schema.js";
import { typeParsers } from "./timestamptz.js";

/**
 * The PostgreSQL extensions the migrations use, built into PGlite: every PGlite this service opens
 * (tests' in memory too) is created with them. On PostgreSQL they come with its contrib package.
 */
export const PGLITE_OPTIONS = { extensions: { pg_trgm } } as const satisfies PGliteOptions;

/**
 * What every PostgreSQL session of the service runs with. Generic plans: every statement here is
 * written to be one plan whatever its parameters (arrays, keyset ranges, bounded walks), and
 * PostgreSQL's default (a custom plan per execution while its estimates favour one) planned the
 * search statement afresh each time, 2 ms of planning against 2.5 ms of execution on 1,000,000
 * profiles (docs/search.md). No JIT compilation: it pays off for long analytical queries, and
 * once a statement's estimated cost passes `jit_above_cost` (the search's, 73,000 on 1,000,000
 * profiles, grows with the tables) it added 100–150 ms to every execution of a few milliseconds.
 * Benchmarks give pgbench the same settings (PGOPTIONS).
 */
export const POSTGRES_SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan -c jit=off";

/** How long to wait for a pooled PostgreSQL connection before the call fails as UNAVAILABLE. */
const CONNECT_TIMEOUT_MS = 3000;
/** Pause before a lost LISTEN connection is opened again. */
const LISTEN_RECONNECT_MS = 1000;

export interface DatabaseOptions {
  readonly statementTimeoutMs: number;
  readonly logger: Logger;
}

/** An open database: queries through Kysely, notifications through `listen`. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  /**
   * Embedded PGlite in this process: no other instance can write to it, so this instance sees
   * every change it holds.
   */
  readonly embedded: boolean;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` until the returned function is called. On
   * PostgreSQL a dedicated connection listens and is reopened when lost; notifications sent while
   * it is away are missed, so callers also poll.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  /** PostgreSQL pool occupancy, for metrics; undefined for PGlite's single connection. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** Closes the pool or PGlite. */
  close(): Promise<void>;
}

/**
 * Opens the configured database: a `pg` pool for PostgreSQL, or PGlite in its data directory.
 * Both speak the same SQL through Kysely. PGlite's directory is locked for this process until the
 * database is closed (`close()` or `db.destroy()`): a second process gets `DataDirLockedError`.
 */
export async function openDatabase(
  config: DatabaseConfig,
  options: DatabaseOptions,
): Promise<DatabaseHandle> {
  if (config.kind === "postgres") {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: options.statementTimeoutMs,
      application_name: "realchat-profile",
      options: POSTGRES_SESSION_OPTIONS,
      types: typeParsers,
    });
    // A client losing its server (restart, failover, network cut) must not crash the process.
    // The pool listens on idle clients only: it takes its listener off a client while it is
    // checked out, and node-postgres then emits 'error' with nobody listening. So every client
    // gets a listener of its own; the query in flight fails (UNAVAILABLE) and the pool drops the
    // broken client.
    const connectionLost = (error: Error) =>
      options.logger.warn({ err: error }, "database connection lost");
    pool.on("error", connectionLost);
    pool.on("connect", (client) => client.on("error", connectionLost));
    const named = config.preparedStatements ? withNamedStatements(pool) : undefined;
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: named?.kysely ?? pool }),
    });
    if (named !== undefined) attachStatementRunner(db, named.run);
    return {
      db,
      embedded: false,
      listen: (channel, onNotify) =>
        listenOnPostgres(config.url, channel, onNotify, options.logger),
      poolStats: () => ({
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
      }),
      close: () => db.destroy(),
    };
  }
  const lock = await lockDataDir(config.dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(config.dataDir, PGLITE_OPTIONS);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return pgliteDatabase(pglite, lock);
}

/**
 * A handle on an open PGlite, which it closes; `lock`, its data directory's, is released once it
 * is closed. Tests open PGlite in memory themselves, with no directory to lock.
 */
export function pgliteDatabase(pglite: PGlite, lock?: DataDirLock): DatabaseHandle {
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Database>({
    dialect: lock === undefined ? dialect : releasingOnDestroy(dialect, lock),
  });
  return {
    db,
    embedded: true,
    async listen(channel, onNotify) {
      const unsubscribe = await pglite.listen(channel, onNotify);
      return () => unsubscribe();
    },
    poolStats: () => undefined,
    close: () => db.destroy(),
  };
}

/** `dialect`, whose driver releases `lock` once it has closed the database. */
function releasingOnDestroy(dialect: Dialect, lock: DataDirLock): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver() {
      const driver = dialect.createDriver();
      const destroy = driver.destroy.bind(driver);
      driver.destroy = async () => {
        try {
          await destroy();
        } finally {
          await lock.release();
        }
      };
      return driver;
    },
  };
}

async function listenOnPostgres(
  url: string,
  channel: string,
  onNotify: () => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const open = async () => {
    const next = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    const reopen = () => {
      if (stopped || client !== next) return;
      client = undefined;
      next.end().catch(() => {});
      retry = setTimeout(() => void open(), LISTEN_RECONNECT_MS);
    };
    client = next;
    next.on("notification", onNotify);
    next.on("error", (error) => {
      logger.warn({ err: error, channel }, "database notification connection lost");
      reopen();
    });
    next.on("end", reopen);
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      // Whatever was notified while no connection listened is found by the caller's next poll.
    } catch (error) {
      logger.warn({ err: error, channel }, "cannot listen for database notifications; retrying");
      reopen();
    }
  };
  await open();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
