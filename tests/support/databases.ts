import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Kysely } from "kysely";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import type { DatabaseConfig } from "../../src/config/config.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { type DatabaseHandle, openDatabase } from "../../src/db/open.js";
import type { Database } from "../../src/db/schema.js";
import { testDatabaseUrl } from "./environment.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

export type StorageKind = DatabaseConfig["kind"];
export const storageKinds: readonly StorageKind[] = ["postgres", "pglite"];

/** A database of its own for one test file, migrated, and removed by `drop()`. */
export interface TestDatabase {
  readonly config: DatabaseConfig;
  readonly db: Kysely<Database>;
  /** The same connection, with `listen` for notifications. */
  readonly handle: DatabaseHandle;
  /** Opens another connection (pool or PGlite) on the same data, e.g. after `db.destroy()`. */
  reopen(): Promise<Kysely<Database>>;
  drop(): Promise<void>;
}

export const silentLogger = pino({ level: "silent" });

export async function createTestDatabase(kind: StorageKind = "postgres"): Promise<TestDatabase> {
  const config = kind === "postgres" ? await createPostgresDatabase() : await createPgliteDir();
  const open = async () => {
    const opened = await openDatabase(config, { statementTimeoutMs: 10_000, logger: silentLogger });
    await migrateToLatest(opened.db);
    return opened;
  };
  let handle = await open();
  return {
    config,
    get db() {
      return handle.db;
    },
    get handle() {
      return handle;
    },
    async reopen() {
      handle = await open();
      return handle.db;
    },
    async drop() {
      await handle.close().catch(() => {});
      if (config.kind === "postgres") await dropPostgresDatabase(config.url);
      else await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Gives the enclosing suite a database of its own of `kind` for all its tests, and removes it
 * after them. Read `fixture.database` inside tests and hooks.
 */
export function useTestDatabase(kind: StorageKind = "postgres"): {
  readonly database: TestDatabase;
} {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get database() {
      if (database === undefined) throw new Error("useTestDatabase: read it inside tests or hooks");
      return database;
    },
  };
}

/**
 * The test's PostgreSQL database opened again through a TCP proxy, so the test can cut the
 * network to it and restore it. Close the handle, then stop the proxy.
 */
export async function openThroughProxy(
  config: DatabaseConfig,
  poolMax = 4,
): Promise<{ proxy: TcpProxy; handle: DatabaseHandle }> {
  if (config.kind !== "postgres") throw new Error("a proxy needs PostgreSQL");
  const target = new URL(config.url);
  const proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
  target.host = `127.0.0.1:${proxy.port}`;
  const handle = await openDatabase(
    { kind: "postgres", url: target.toString(), poolMax, preparedStatements: true },
    { statementTimeoutMs: 10_000, logger: silentLogger },
  );
  return { proxy, handle };
}

async function createPostgresDatabase(): Promise<DatabaseConfig> {
  const name = `profile_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return { kind: "postgres", url: url.toString(), poolMax: 10, preparedStatements: true };
}

async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function createPgliteDir(): Promise<DatabaseConfig> {
  return { kind: "pglite", dataDir: await mkdtemp(path.join(tmpdir(), "profile-pglite-")) };
}

/** Runs `work` with a client of the test server's admin database. */
export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
