import type { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "../../db/migrations/index.js";
import type { Database } from "./schema.js";

/** The migration names applied by one run, oldest first. */
export type AppliedMigrations = string[];

/**
 * Brings the schema up to date with the migrations listed in db/migrations/index.ts (imported,
 * not read from the disk, so the bundled dist/ needs no db/ folder). Safe to run from several
 * instances at once: Kysely takes a lock.
 *
 * @throws the first migration error; migrations that failed are rolled back.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<AppliedMigrations> {
  const migrator = migratorFor(db);
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === "Error")?.migrationName;
    throw new Error(`migration ${failed ?? "(setup)"} failed`, { cause: error });
  }
  return results.map((result) => result.migrationName);
}

/** The migrations this code knows that the database has not applied yet, oldest first. */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const known = await migratorFor(db).getMigrations();
  return known.filter((migration) => migration.executedAt === undefined).map((m) => m.name);
}

function migratorFor(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}
