import { loadConfig } from "../config/load-config.js";
import { DataDirLockedError } from "../db/lock.js";
import { migrateToLatest } from "../db/migrate.js";
import { openDatabase } from "../db/open.js";
import { createLogger } from "../ops/logger.js";

// `npm run migrate`: applies pending migrations to the configured database and exits. On PGlite
// it takes the data directory's lock, so it refuses while the service runs there.
const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = await openDatabase(config.database, { statementTimeoutMs: 0, logger }).catch(
  (error: unknown) => {
    if (!(error instanceof DataDirLockedError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
try {
  const applied = await migrateToLatest(database.db);
  logger.info({ applied }, applied.length === 0 ? "nothing to migrate" : "migrations applied");
} catch (error) {
  logger.fatal({ err: error }, "migration failed");
  process.exitCode = 1;
} finally {
  await database.close();
}
