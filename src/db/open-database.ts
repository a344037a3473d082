import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import type { Logger } from "pino";
import type { DatabaseConfig } from "../config.js";
import type { Database } from "./schema.js";

/** How long to wait for a pooled PostgreSQL connection before the call fails as UNAVAILABLE. */
const CONNECT_TIMEOUT_MS = 3000;

export interface DatabaseOptions {
  readonly statementTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * Opens the configured database: a `pg` pool for PostgreSQL, or PGlite in its data directory.
 * Both speak the same SQL through Kysely; `db.destroy()` closes either.
 */
export async function openDatabase(
  config: DatabaseConfig,
  options: DatabaseOptions,
): Promise<Kysely<Database>> {
  if (config.kind === "postgres") {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: options.statementTimeoutMs,
      application_name: "realchat-profile",
    });
    // An idle client losing its server (restart, failover) must not crash the process: the pool
    // drops it and the next call opens a fresh connection.
    pool.on("error", (error) =>
      options.logger.warn({ err: error }, "idle database connection lost"),
    );
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  await mkdir(config.dataDir, { recursive: true });
  const pglite = await PGlite.create(config.dataDir);
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
}
