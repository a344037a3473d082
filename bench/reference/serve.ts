import * as grpc from "@grpc/grpc-js";

/**
 * Binds a reference server to 127.0.0.1:`port` (argv[2], 50051 if absent), prints "ready" for
 * the bench that started it, and shuts it down on SIGTERM, then runs `onStop`.
 */
export function serve(server: grpc.Server, onStop: () => void = () => {}): void {
  server.bindAsync(
    `127.0.0.1:${process.argv[2] ?? "50051"}`,
    grpc.ServerCredentials.createInsecure(),
    (error) => {
      if (error !== null) throw error;
      process.stdout.write("ready\n");
    },
  );
  process.once("SIGTERM", () => {
    server.forceShutdown();
    onStop();
  });
}
