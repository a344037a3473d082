import type { Logger } from "pino";
import { createService, type Service } from "./compose.js";
import { ConfigError, loadConfig } from "./config.js";
import { DataDirLockedError } from "./db/lock.js";
import { exitOnCrash } from "./ops/crash-handling.js";
import { createLogger } from "./ops/logger.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  exitOnCrash(logger);
  const service = await createService(config, { logger });
  shutDownOnSignal(service, logger, config.shutdownTimeoutMs);
}

function shutDownOnSignal(service: Service, logger: Logger, graceMs: number): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "shutting down");
    // Orchestrators see "not ready" at once; the listener closes, in-flight calls get
    // SHUTDOWN_TIMEOUT_MS to finish, then the broker connection drains and the pool closes.
    await service.stop(graceMs);
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
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
