/** PostgreSQL server the tests create their databases on (SPEC 8). */
export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** NATS with JetStream the event tests use (SPEC 8). */
export const testNatsUrl = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
