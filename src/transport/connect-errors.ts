import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, QuotaFailureSchema } from "../../gen/google/rpc/error_details_pb.js";
import { classifyDatabaseError } from "../db/database-errors.js";
import {
  DependencyUnavailableError,
  EtagMismatchError,
  FailedPreconditionError,
  InvalidArgumentError,
  LimitExceededError,
  LimitReachedError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../errors.js";

/** Domain failures and the code each one gets. */
const codeOfDomainError: ReadonlyArray<readonly [new (...args: never[]) => Error, Code]> = [
  [NotFoundError, Code.NotFound],
  // A concurrent change came first: the caller reads again and retries.
  [EtagMismatchError, Code.Aborted],
  [UnauthenticatedError, Code.Unauthenticated],
  [PermissionDeniedError, Code.PermissionDenied],
  [DependencyUnavailableError, Code.Unavailable],
  [FailedPreconditionError, Code.FailedPrecondition],
  [LimitExceededError, Code.ResourceExhausted],
];

/**
 * The one mapping from failures to the ConnectError a client sees. Expected outcomes get precise
 * codes (an InvalidArgumentError carries its violations as a `google.rpc.BadRequest`, a
 * LimitReachedError a `google.rpc.QuotaFailure`); anything
 * else is a bare INTERNAL with no detail, its cause kept for the log line (see telemetry.ts).
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof InvalidArgumentError) {
    return new ConnectError(error.message, Code.InvalidArgument, undefined, [
      { desc: BadRequestSchema, value: { fieldViolations: [...error.violations] } },
    ]);
  }
  if (error instanceof LimitReachedError) {
    return new ConnectError(error.message, Code.ResourceExhausted, undefined, [
      {
        desc: QuotaFailureSchema,
        value: { violations: [{ subject: error.subject, description: error.message }] },
      },
    ]);
  }
  for (const [type, code] of codeOfDomainError) {
    if (error instanceof type) return new ConnectError(error.message, code);
  }
  switch (classifyDatabaseError(error)) {
    case "unavailable":
      return withCause("the database is unavailable; retry later", Code.Unavailable, error);
    case "timeout":
      return withCause("the database did not answer in time", Code.DeadlineExceeded, error);
    case "conflict":
      return withCause("the change lost a concurrent race; retry", Code.Aborted, error);
    default:
      return withCause("internal error", Code.Internal, error);
  }
}

/** A client-facing error whose cause is kept for the log only: Connect never sends it. */
function withCause(message: string, code: Code, cause: unknown): ConnectError {
  return new ConnectError(message, code, undefined, undefined, cause);
}
