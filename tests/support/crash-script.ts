// A process for tests/crash-handling.test.ts: installs the service's crash handling, then lets
// an error escape as the argument says ("rejection" or "exception"), with a cause.
import { exitOnCrash } from "../../src/ops/crash-handling.js";
import { createLogger } from "../../src/ops/logger.js";

exitOnCrash(createLogger("info"));
const error = new Error("escaped on purpose", { cause: new Error("the root cause") });
if (process.argv[2] === "rejection") void Promise.reject(error);
else
  setTimeout(() => {
    throw error;
  });
// Keeps the process alive, as the server would, so that only the crash handling ends it.
setInterval(() => {}, 1000);
