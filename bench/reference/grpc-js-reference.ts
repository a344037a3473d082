import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { serve } from "./serve.js";

// The reference for the transport limit: the default Node.js gRPC stack (@grpc/grpc-js) answering
// the same trivial call as our server's grpc.health.v1.Health/Check. Usage: tsx this-file <port>.
const protoFile = path.join(
  import.meta.dirname,
  "../../node_modules/grpc-health-check/proto/health/v1/health.proto",
);
const definition = protoLoader.loadSync(protoFile, { keepCase: true, enums: String });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
const server = new grpc.Server();
server.addService(loaded.grpc.health.v1.Health.service, {
  check: (_: unknown, callback: grpc.sendUnaryData<{ status: string }>) =>
    callback(null, { status: "SERVING" }),
});
serve(server);
