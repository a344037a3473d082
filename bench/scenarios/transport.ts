// The transport limits of npm run bench: the least a server does per call,
// grpc.health.v1.Health/Check (no database, no token), on the service with and without its
// direct unary gRPC path, and on @grpc/grpc-js (bench/reference/grpc-js-reference.ts).
import path from "node:path";
import { HealthCheckRequestSchema } from "../../gen/health/v1/health_pb.js";
import { grpcMessage } from "../harness/load.js";
import { startScript, stopProcess } from "../harness/processes.js";
import { type Bench, h2loadRow, record, scenarios } from "./rows.js";

async function measureTrivialCall(at: string, scenario: string): Promise<void> {
  const body = grpcMessage(HealthCheckRequestSchema, {});
  record(await h2loadRow(scenario, `${at}/grpc.health.v1.Health/Check`, body, {}));
}

/**
 * The trivial call on the cache-warm instance, then on the instance with GRPC_UNARY_FAST_PATH=
 * false (through Connect's own gRPC handler): what the direct path gains, minutes apart at most.
 */
export async function measureTransport(bench: Bench): Promise<void> {
  await measureTrivialCall(bench.warm, scenarios.transport);
  await measureTrivialCall(bench.connectOnly, scenarios.connectHandler);
}

/** The trivial call answered by the default Node.js gRPC stack, on `port`. */
export async function measureGrpcJsReference(port: number): Promise<void> {
  const reference = await startScript(
    path.join(import.meta.dirname, "..", "reference", "grpc-js-reference.ts"),
    [String(port)],
  );
  try {
    await measureTrivialCall(`http://127.0.0.1:${port}`, scenarios.grpcJs);
  } finally {
    await stopProcess(reference);
  }
}
