import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { testDatabaseUrl, testNatsUrl } from "./environment.js";

/**
 * Fails the whole run at once, saying how to start them, when PostgreSQL or NATS with JetStream
 * is not reachable: the tests never skip for want of a service.
 */
export default async function checkServices(): Promise<void> {
  const problems = [await checkPostgres(), await checkNats()].filter((p) => p !== undefined);
  if (problems.length > 0) {
    throw new Error(
      [
        ...problems,
        "The tests need both. Start them, for example:",
        "  docker compose up -d postgres nats",
        "or point TEST_DATABASE_URL (a user who may create databases) and TEST_NATS_URL at yours.",
      ].join("\n"),
    );
  }
}

async function checkPostgres(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: testDatabaseUrl,
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL is not reachable at ${testDatabaseUrl} (${String(error)}).`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkNats(): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: testNatsUrl, timeout: 3000, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
      return undefined;
    } catch (error) {
      return `NATS at ${testNatsUrl} has no JetStream (${String(error)}): start it with -js.`;
    } finally {
      await nc.close();
    }
  } catch (error) {
    return `NATS is not reachable at ${testNatsUrl} (${String(error)}).`;
  }
}
