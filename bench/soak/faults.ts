// The soak's faults: every connection to its database killed at 30 % and 70 % of the run, the
// broker stopped for 2 s at 50 %.
import type { PrivateNats } from "../../tests/support/nats.js";
import { sql } from "../harness/database.js";
import { sleep } from "../harness/processes.js";

/** A fault and when it happened (performance.now()). */
export interface Fault {
  readonly what: string;
  readonly at: number;
  readonly end: number;
}

export function scheduleFaults(options: {
  /** The server the soak's database is on, and the database. */
  readonly serverUrl: string;
  readonly database: string;
  readonly nats: PrivateNats;
  readonly durationMs: number;
}) {
  const faults: Fault[] = [];
  const killDatabaseConnections = async () => {
    const at = performance.now();
    const { rowCount } = await sql(
      options.serverUrl,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [options.database],
    );
    faults.push({ what: `killed ${rowCount} database connections`, at, end: performance.now() });
  };
  const restartBroker = async () => {
    const at = performance.now();
    await options.nats.stop();
    await sleep(2000);
    await options.nats.start();
    faults.push({ what: "restarted the broker (down 2 s)", at, end: performance.now() });
  };
  const done = Promise.all([
    sleep(options.durationMs * 0.3).then(killDatabaseConnections),
    sleep(options.durationMs * 0.5).then(restartBroker),
    sleep(options.durationMs * 0.7).then(killDatabaseConnections),
  ]);
  return { faults, done };
}
