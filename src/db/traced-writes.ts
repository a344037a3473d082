import { type Kysely, sql, type Transaction } from "kysely";
import { currentTraceParent } from "../ops/trace-context.js";
import type { Database } from "./schema.js";

// The call's W3C trace reaches the outbox rows its writes cause through a setting of the write's
// own transaction, which the outbox column's default reads (db/migrations/20261220T0000_…).

/**
 * Records the current call's trace, if it has one, for the rest of `trx`: every outbox row the
 * triggers write in it carries the trace.
 */
export async function recordTrace(trx: Transaction<Database>): Promise<void> {
  const trace = currentTraceParent();
  if (trace === undefined) return;
  await sql`SELECT set_config('realchat.traceparent', ${trace.header}, true)`.execute(trx);
}

/**
 * Runs `write` (one statement) as it is when the call has no trace, else in a transaction that
 * records it first: a traced write costs a transaction, an untraced one nothing.
 */
export function tracedWrite<T>(
  db: Kysely<Database>,
  write: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (currentTraceParent() === undefined) return write(db);
  return db.transaction().execute(async (trx) => {
    await recordTrace(trx);
    return write(trx);
  });
}
