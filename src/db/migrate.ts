import { promises as fs } from "node:fs";
import path from "node:path";
import type { Kysely } from "kysely";
import { FileMigrationProvider, Migrator } from "kysely/migration";
import type { Database } from "./schema.js";

/** db/migrations, found from this file both in src/ (tsx) and in the compiled dist/src/. */
const migrationFolder = path.join(import.meta.dirname, "..", "..", "db", "migrations");

/** The migration names applied by one run, oldest first. */
export type AppliedMigrations = string[];

/**
 * Brings the schema up to date. Safe to run from several instances at once: Kysely takes a lock.
 *
 * @throws the first migration error; migrations that failed are rolled back.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<AppliedMigrations> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === "Error")?.migrationName;
    throw new Error(`migration ${failed ?? "(setup)"} failed`, { cause: error });
  }
  return results.map((result) => result.migrationName);
}
