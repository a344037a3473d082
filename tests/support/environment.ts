/** PostgreSQL server the tests create their databases on (docs/testing.md). */
export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** NATS with JetStream the event tests use (docs/testing.md). */
export const testNatsUrl = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * Whether test servers serve unary gRPC on the direct path (the default, as in production) or
 * through Connect's handler: `TEST_GRPC_UNARY_FAST_PATH=false npm test` runs the whole suite
 * against Connect's.
 */
export const testGrpcUnaryFastPath = process.env.TEST_GRPC_UNARY_FAST_PATH !== "false";
