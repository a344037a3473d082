/**
 * What a database failure means for the caller. Everything not listed here is unexpected.
 * - `unavailable`: the database cannot be reached or is restarting; safe to retry.
 * - `timeout`: a statement ran past DB_STATEMENT_TIMEOUT_MS and was cancelled.
 * - `conflict`: a transaction lost a concurrency race (serialization failure or deadlock).
 */
export type DatabaseFailure = "unavailable" | "timeout" | "conflict";

const socketErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

// SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const unavailableSqlStates = new Set(["57P01", "57P02", "57P03", "53300", "53400"]);
const conflictSqlStates = new Set(["40001", "40P01"]);
const statementTimeoutSqlState = "57014";

// node-postgres reports a lost or unobtainable connection with these messages and no code.
const lostConnectionMessage =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not open/i;

/** Classifies an error thrown by `pg` or PGlite; `undefined` when it is not a known failure. */
export function classifyDatabaseError(error: unknown): DatabaseFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (socketErrorCodes.has(code) || code.startsWith("08") || unavailableSqlStates.has(code)) {
      return "unavailable";
    }
    if (code === statementTimeoutSqlState) return "timeout";
    if (conflictSqlStates.has(code)) return "conflict";
  }
  if (lostConnectionMessage.test(error.message)) return "unavailable";
  if (error instanceof AggregateError) {
    return error.errors.map(classifyDatabaseError).find((failure) => failure !== undefined);
  }
  return undefined;
}
