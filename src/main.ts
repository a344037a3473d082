import type { Logger } from "pino";
import { compose } from "./compose.js";
import { ConfigError, loadConfig } from "./config/load-config.js";
import { DataDirLockedError } from "./db/lock.js";
import { exitOnCrash } from "./ops/crash-handling.js";
import { createLogger } from "./ops/logger.js";
import { listen } from "./transport/listen.js";

/** The process: configuration, the composed service, its listener, and shutdown on a signal. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  exitOnCrash(logger);
  const app = await compose(config, { logger });
  const { address, internalAddress, stop } = await listen(app, config);
  logger.info(
    { address: address.address, port: address.port, tls: config.tls !== undefined },
    "profile service listening",
  );
  if (internalAddress !== undefined && config.internal !== undefined) {
    logger.info(
      {
        address: internalAddress.address,
        port: internalAddress.port,
        tls: config.internal.tls !== undefined,
        mtls: config.internal.tls?.clientCaFile !== undefined,
        trustedCidrs: config.internal.trustedCidrs.map((cidr) => `${cidr.address}/${cidr.prefix}`),
      },
      "internal door listening: x-user-id is trusted from these peers",
    );
  }
  shutDownOnSignal(logger, async () => {
    logger.info({ graceMs: config.shutdownTimeoutMs }, "shutting down");
    // Orchestrators see "not ready" at once; the listeners close, in-flight calls get
    // SHUTDOWN_TIMEOUT_MS to finish, then the broker connection drains and the pool closes.
    await stop(config.shutdownTimeoutMs);
  });
}

function shutDownOnSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "signal received");
    await stop();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    if (error instanceof Error && error.cause !== undefined) {
      process.stderr.write(`caused by: ${String(error.cause)}\n`);
    }
  }
  process.exit(1);
});
