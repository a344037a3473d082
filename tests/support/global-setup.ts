import pg from "pg";
import { testDatabaseUrl } from "./environment.js";

/** Fails the whole run at once, saying how to start PostgreSQL, when it is not reachable. */
export default async function checkServices(): Promise<void> {
  const client = new pg.Client({
    connectionString: testDatabaseUrl,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new Error(
      [
        `PostgreSQL is not reachable at ${testDatabaseUrl} (${String(error)}).`,
        "The tests need a real PostgreSQL. Start one, for example:",
        "  docker compose up -d postgres",
        "or point TEST_DATABASE_URL at a server where the user may create databases.",
      ].join("\n"),
    );
  } finally {
    await client.end().catch(() => {});
  }
}
