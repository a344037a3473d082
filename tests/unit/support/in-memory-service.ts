import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type Client,
  createClient,
  createRouterTransport,
  type Transport,
} from "@connectrpc/connect";
import { PGlite } from "@electric-sql/pglite";
import { z } from "zod";
import { Health } from "../../../gen/health/v1/health_pb.js";
import { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { SocialGraphApi } from "../../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { type App, type ComposeOverrides, compose } from "../../../src/compose.js";
import { migrateToLatest } from "../../../src/db/migrate.js";
import { type DatabaseHandle, PGLITE_OPTIONS, pgliteDatabase } from "../../../src/db/open.js";
import { testTokenVerifier, tokenFor } from "../../support/auth.js";
import { bearer, type TestToken } from "../../support/clients.js";
import { silentLogger } from "../../support/databases.js";
import { type TestServerConfig, testServiceConfig } from "../../support/test-server.js";

/** Typed clients of every API the service serves, all sending the same token. */
export interface ServiceClients {
  readonly profiles: Client<typeof ProfileApi>;
  readonly socialGraph: Client<typeof SocialGraphApi>;
  readonly health: Client<typeof Health>;
}

/** A user of their own for one test: an id nobody else uses, a token for it, and its clients. */
export interface TestUser extends ServiceClients {
  readonly id: string;
  readonly token: string;
}

/** The real service (src/compose.ts), served in memory: no socket, no server, no broker. */
export interface InMemoryService {
  /** The composed service's parts, e.g. `app.profiles` to set up data without a call. */
  readonly app: App;
  /**
   * Connect's in-memory transport into the service's own routes, with its own RPC options (auth
   * gate, interceptors, limits), sending `token` (none for `null`).
   */
  transport(token: TestToken): Transport;
  clients(token: TestToken): ServiceClients;
  /** A new user id with a valid user token; the user has no profile yet. */
  newUser(): Promise<TestUser>;
  /** Stops the service; the shared database stays open for the next one. */
  stop(): Promise<void>;
}

let sharedDatabase: Promise<DatabaseHandle> | undefined;

/**
 * One migrated PGlite in memory for all the in-memory services of a test worker, so that it
 * starts once; tests keep apart by using users of their own. Its data is in memory only.
 */
function inMemoryDatabase(): Promise<DatabaseHandle> {
  sharedDatabase ??= (async () => {
    const database = pgliteDatabase(await startPglite());
    await migrateToLatest(database.db);
    return database;
  })();
  return sharedDatabase;
}

/**
 * PGlite in memory, started from the cluster its initdb made on an earlier run: initdb is nearly
 * all of PGlite's start-up, and what it makes depends only on PGlite's version. The cache (the
 * bare cluster, before any migration) is written once, whole or not at all; one that cannot be
 * loaded is made again.
 */
async function startPglite(): Promise<PGlite> {
  const cache = path.join(tmpdir(), `realchat-profile-pglite-initdb-${await pgliteVersion()}.tgz`);
  const cached = await readFile(cache).catch(() => undefined);
  if (cached !== undefined) {
    const loaded = await PGlite.create(IN_MEMORY, {
      ...PGLITE_OPTIONS,
      loadDataDir: new Blob([cached]),
    }).catch(() => undefined);
    if (loaded !== undefined) return loaded;
  }
  const pglite = await PGlite.create(IN_MEMORY, PGLITE_OPTIONS);
  const draft = `${cache}.${process.pid}.${crypto.randomUUID()}`;
  try {
    await writeFile(draft, await (await pglite.dumpDataDir("gzip")).bytes());
    await rename(draft, cache);
  } catch {
    // Only a cache: the next run makes the cluster again.
    await rm(draft, { force: true });
  }
  return pglite;
}

/** PGlite's data directory in this process's memory. */
const IN_MEMORY = "memory://";

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const manifest = await readFile(path.join(path.dirname(entry), "..", "package.json"), "utf8");
  return z.object({ version: z.string() }).parse(JSON.parse(manifest)).version;
}

/**
 * Composes the whole service as `main.ts` does, over embedded PGlite in memory, with the test
 * token verifier (tests/support/auth.ts), the test configuration (tests/support/test-server.ts)
 * and `config` on top, and no event broker. The services of one worker share the database but
 * not their read caches: a test keeps each of its users to one service.
 */
export async function startInMemoryService(
  config: Partial<TestServerConfig> = {},
  overrides: Pick<ComposeOverrides, "clock"> = {},
): Promise<InMemoryService> {
  const app = await compose(testServiceConfig(config), {
    database: await inMemoryDatabase(),
    verifyToken: testTokenVerifier,
    logger: silentLogger,
    ...overrides,
  });
  const transport = (token: TestToken) =>
    createRouterTransport(app.routes, {
      router: app.rpcOptions,
      transport: { interceptors: bearer(token) },
    });
  const clients = (token: TestToken): ServiceClients => {
    const through = transport(token);
    return {
      profiles: createClient(ProfileApi, through),
      socialGraph: createClient(SocialGraphApi, through),
      health: createClient(Health, through),
    };
  };
  return {
    app,
    transport,
    clients,
    async newUser() {
      const id = crypto.randomUUID();
      const token = await tokenFor(id);
      return { id, token, ...clients(token) };
    },
    stop: () => app.stop(),
  };
}
