import { type Kysely, sql } from "kysely";
import type { Logger } from "pino";
import { classifyDatabaseError } from "../db/database-errors.js";
import type { Database } from "../db/schema.js";
import type { EventBusState } from "../events/events.js";
import { TimeLimitExceeded, withTimeLimit } from "./time-limit.js";

/** What /readyz reports: whether this instance should get traffic, and why. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  readonly database: { readonly reachable: boolean; readonly problem?: string };
  readonly migrations: { readonly complete: boolean; readonly pending: readonly string[] };
  /** Reported, not required: without a broker events wait in the outbox. */
  readonly events: { readonly state: EventBusState };
}

export interface Readiness {
  report(): ReadinessReport;
  isReady(): boolean;
  /** Calls `listener` whenever readiness flips; returns the unsubscribe function. */
  onChange(listener: (ready: boolean) => void): () => void;
  /** Shutdown has begun: report not ready from now on. */
  markShuttingDown(): void;
  stop(): void;
}

export interface ReadinessOptions {
  readonly db: Kysely<Database>;
  /** Migrations known to the code but not applied to the database. */
  readonly pendingMigrations: () => Promise<string[]>;
  readonly eventState: () => EventBusState;
  /** Pause between database checks. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** Longest a check may wait for the database before it counts as unreachable. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * Watches the database in the background (`SELECT 1` and the migration table every interval), so
 * health checks and /readyz answer from memory, cheaply, however often they are asked.
 */
export async function startReadiness(options: ReadinessOptions): Promise<Readiness> {
  const listeners = new Set<(ready: boolean) => void>();
  let database: ReadinessReport["database"] = { reachable: false, problem: "not checked yet" };
  let pending: readonly string[] = ["(not checked yet)"];
  let shuttingDown = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const isReady = () => !shuttingDown && database.reachable && pending.length === 0;
  const update = (change: () => void) => {
    const before = isReady();
    change();
    const after = isReady();
    if (after !== before) {
      options.logger.info(
        { ready: after, database, pendingMigrations: pending },
        "readiness changed",
      );
      for (const listener of listeners) listener(after);
    }
  };

  const check = async () => {
    try {
      await withTimeLimit(sql`SELECT 1`.execute(options.db), CHECK_TIMEOUT_MS);
      const stillPending =
        pending.length === 0
          ? []
          : await withTimeLimit(options.pendingMigrations(), CHECK_TIMEOUT_MS);
      update(() => {
        database = { reachable: true };
        pending = stillPending;
      });
    } catch (error) {
      const problem =
        error instanceof TimeLimitExceeded ? "timeout" : (classifyDatabaseError(error) ?? "error");
      update(() => {
        database = { reachable: false, problem };
      });
    }
  };

  const loop = async () => {
    await check();
    if (!stopped) timer = setTimeout(() => void loop(), options.intervalMs);
  };
  await loop();

  return {
    report: () => ({
      ready: isReady(),
      shuttingDown,
      database,
      migrations: { complete: pending.length === 0, pending },
      events: { state: options.eventState() },
    }),
    isReady,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    markShuttingDown() {
      update(() => {
        shuttingDown = true;
      });
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
