import type { Logger } from "pino";

/**
 * Makes a crash that escapes every handler (an unhandled rejection, an uncaught exception) end
 * the process the same way whichever it is: one `fatal` log line with the error and its cause,
 * then exit code 1. A second crash while exiting is not logged again.
 */
export function exitOnCrash(logger: Logger): void {
  let crashed = false;
  const crash = (kind: string) => (error: unknown) => {
    if (crashed) return;
    crashed = true;
    logger.fatal({ err: error, kind }, "crashed: the process exits");
    process.exit(1);
  };
  process.on("uncaughtException", crash("uncaught exception"));
  process.on("unhandledRejection", crash("unhandled rejection"));
}
